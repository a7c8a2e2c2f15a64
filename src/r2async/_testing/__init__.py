"""Internals of ``r2async.testing``: errors, ports, the ``weed mini`` process, readiness probes.

Like ``r2async.testing`` itself, these modules import only the standard library, httpx and
``r2async._headers`` at import time, so importing the public module stays cheap.
"""
