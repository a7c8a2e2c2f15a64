"""The implementation of ``r2async.fs`` (import from there; this package imports nothing)."""
