"""Transfers: uploads and downloads of any size, with multipart, parallel ranges and progress.

How it works, and why:

Uploads (``upload_file``, ``upload_stream``)
    * At or below ``threshold`` bytes one PutObject is sent; above it a multipart upload.
      Data of unknown length (an iterator, a pipe) is read one part ahead: if it ends within
      ``min(threshold, part_size)`` bytes it goes out as one PutObject, otherwise as parts.
    * R2 requires every part but the last to be exactly the same size (>= 5 MiB, <= 10,000
      parts), checked only at Complete. So the part size is fixed before the first part
      leaves: ``max(part_size, ceil(size / 10000))`` rounded up to a MiB when the size is
      known. For unknown lengths it cannot "grow": once part 1 is sent at size P, every later
      part must also be P, so the largest possible object is ``P * 10,000`` (8 MiB ->
      78.1 GiB). Larger streams must pass a bigger ``part_size`` or ``content_length``.
    * At most ``concurrency`` parts are in memory or in flight: a slot is taken *before* a part
      is read and freed when its upload ends, so memory stays below ``part_size * concurrency``.
      Parts of a file given by path are not buffered at all: each is streamed from its own file
      handle (so the file is read in parallel and only 1 MiB per part is in memory).
    * Any failure (a part failing after the client's retries, a local read error, a stream of
      the wrong length, an exception from the progress callback) or cancellation aborts the
      multipart upload, shielded from cancellation, so no parts linger and the key is left
      unchanged. The original exception is re-raised (same type, so ``except
      PreconditionFailedError`` still works) with a note saying what happened.
    * Conditional arguments (``if_none_match="*"``...) go on CreateMultipartUpload *and*
      CompleteMultipartUpload: R2 evaluates both, so a key created while parts were uploading
      is still protected.

Downloads (``download_file``, ``download_stream``)
    * The first request is a ranged GET for the first part: its ``Content-Range`` tells the
      size and its ETag pins the object. The other parts are fetched in parallel with
      ``If-Match: <etag>``, so a concurrent overwrite fails (412) instead of mixing versions;
      every answer's ETag and Content-Range total are also compared with the first's (a server
      may ignore If-Match), and checked with its Content-Length before any body byte is read.
      Either mismatch is ``ObjectChangedError``.
    * ``download_file`` writes at offsets into ``.<name>.r2async-<random>.part`` in the
      destination directory, checks the length (and the MD5 when the ETag is a plain MD5),
      optionally fsyncs (``fsync=True``: measured to halve throughput, so off by default; it
      only matters for power loss), and only then renames it over the destination. On any
      failure or cancellation the temporary file is deleted and the destination is untouched.
    * ``download_file(resume=True)`` instead writes ``<dest>.r2async-part`` and keeps it on
      failure, with a sidecar ``<dest>.r2async-part.json`` (bucket, key, ETag, size, part size,
      completed parts with their CRC-32; rewritten atomically after each part is fully
      written). A later resumable call validates the sidecar within bounds, re-checks the
      recorded parts' CRC-32 on disk, then GETs the first missing part unpinned: if its
      Content-Range size and ETag match the sidecar, only the missing parts are fetched
      (pinned with If-Match); otherwise, or if anything found is unusable, it starts over
      from an empty file. Neither file is ever opened through a symlink.
    * ``download_stream`` yields the bytes in order while up to ``concurrency`` parts are
      fetched ahead (memory <= ``part_size * concurrency``).

Blocking file I/O runs in worker threads (``anyio.to_thread``); everything else uses anyio
primitives, so transfers run under asyncio and trio.

Modules: ``options`` (arguments, validated before any I/O), ``progress``, ``cleanup`` (notes,
shielded cleanup), ``readers`` (upload sources), ``files`` (blocking file helpers run in worker
threads), ``results``, ``upload``, ``ranges`` (the first GET and the part spans), ``resume``,
``download`` (``download_file``), ``stream`` (``download_stream``), ``client`` (the client
methods transfers call, as a Protocol) and ``api`` (the names the client and package use).
This ``__init__`` imports nothing, so importing one module does not load the others.
"""
