"""The implementation of ``r2async.store`` (import from there; this package imports nothing)."""
