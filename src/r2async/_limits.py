"""R2's size limits and r2async's transfer defaults: constants only, cheap to import."""

from __future__ import annotations

MiB = 1024 * 1024
# R2's limits (see r2-s3-api.md section 6).
MIN_PART_SIZE = 5 * MiB
MAX_PART_SIZE = 5_363_466_240
MAX_PARTS = 10_000
MAX_OBJECT_SIZE = 5_492_189_429_760
MAX_SINGLE_PUT = MAX_PART_SIZE

# Defaults. 8 MiB parts are what the AWS CLI and boto3 use: large enough that per-request
# overhead (signing, a round trip) is a few percent, small enough that a retried part costs
# little. 8 parts in flight saturate a 1-2 Gbit/s link to R2 (each connection typically gets
# 50-150 MB/s) while bounding memory to 64 MiB. Objects up to 16 MiB go out as one PutObject:
# below that, the extra Create/Complete round trips cost more than parallel parts gain.
DEFAULT_PART_SIZE = 8 * MiB
DEFAULT_THRESHOLD = 16 * MiB
DEFAULT_CONCURRENCY = 8
MAX_CONCURRENCY = 64  # the client's connection pool size
