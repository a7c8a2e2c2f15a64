"""The argument parser: global options, one sub-parser per command, sizes and headers.

Standard library only (argparse): ``r2async --help`` must not load httpx, pydantic or rich.
"""

from __future__ import annotations

import argparse
import re

from ._errors import UsageError

MIB = 1024 * 1024
# Objects in flight: the size of r2async's connection pool (64), which hides a server's
# latency on small files (measured: 2,000 files went up in about half the time at 64 as at 32).
DEFAULT_CONCURRENCY = 64
DEFAULT_PART_SIZE = 8 * MIB
# R2's limits on part sizes (every part but the last): 5 MiB to 5 GiB - 5 MiB.
MIN_PART_SIZE = 5 * MIB
MAX_PART_SIZE = 5 * 1024 * MIB - 5 * MIB
MAX_CONCURRENCY = 1024

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "k": 1024, "m": MIB, "g": 1024 * MIB, "t": 1024 * 1024 * MIB}
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")

ENVIRONMENT_HELP = """\
environment:
  R2_ACCOUNT_ID          Cloudflare account id (sets the endpoint)
  R2_ACCESS_KEY_ID       R2 access key id
  R2_SECRET_ACCESS_KEY   R2 secret access key
  R2_SESSION_TOKEN       token of temporary credentials (optional)
  R2_JURISDICTION        eu, fedramp or us (optional; like --jurisdiction)
  R2_ENDPOINT_URL        any S3-compatible endpoint (optional; like --endpoint-url)
  NO_COLOR               set to turn progress displays off

exit status: 0 all succeeded, 1 some objects failed (listed at the end), 2 usage error,
130 interrupted (Ctrl-C: multipart uploads aborted, no partial files left)"""

SYNC_COMPARISON = """\
what is compared, for each path on both sides (docs/cli.md, "What sync compares"):
  1. size: a different size is transferred;
  2. times, from the listing: unchanged when the destination is at least as new as the
     source (the object's LastModified >= the file's mtime when uploading; the file's
     mtime >= LastModified when downloading);
  3. otherwise one HeadObject: unchanged when the file's mtime equals the mtime r2async
     stored in the object's metadata on upload (x-amz-meta-mtime; downloads set it on the
     file), to the millisecond;
  4. otherwise, when the ETag is a plain MD5 (one PutObject): the MD5 of the file decides
     (an equal hash transfers nothing); else it is transferred.
  R2 to R2: size and ETag.
  Times miss one case: other bytes of the same size given an mtime older than the
  object (cp -p, tar x). --exact (or --checksum) hashes every same-size file whose object
  has a plain-MD5 ETag, whatever the times say; multipart objects then go by step 3."""

EXAMPLES = """\
examples:
  r2async ls                                  list buckets
  r2async ls -r -H r2://photos/2024/          every object under a prefix, sizes like 1.5 MiB
  r2async cp cat.jpg r2://photos/             upload to key cat.jpg
  r2async cp -r ./site r2://www/              upload a directory's contents
  r2async cp r2://photos/cat.jpg .            download
  tar c dir | r2async cp - r2://backups/dir.tar
  r2async sync ./site r2://www/ --delete      upload what changed, delete what is gone
  r2async rm -r --dry-run r2://logs/2023/     show what would be deleted
  r2async presign r2://photos/cat.jpg --expires 600"""


def parse_size(text: str) -> int:
    """Read a size such as '8MiB', '16M', '5242880' (K, M, G, T are powers of 1,024).

    Args:
        text: the size as typed.
    """
    match = _SIZE.match(text)
    if not match:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a size; write bytes or a number with K, M, G (e.g. 16MiB)"
        )
    value = float(match.group(1)) * _UNITS[match.group(2).lower()]
    return int(value)


def _part_size(text: str) -> int:
    size = parse_size(text)
    if not MIN_PART_SIZE <= size <= MAX_PART_SIZE:
        raise argparse.ArgumentTypeError(
            f"{text!r}: R2 needs parts of 5 MiB to 5 GiB - 5 MiB; use e.g. 8MiB or 64MiB"
        )
    return size


def _concurrency(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 1 <= value <= MAX_CONCURRENCY:
        raise argparse.ArgumentTypeError(f"{value}: use 1 to {MAX_CONCURRENCY}")
    return value


def _expires(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 1 <= value <= 604_800:
        raise argparse.ArgumentTypeError(f"{value}: use 1 to 604800 seconds (7 days)")
    return value


def parse_header(text: str) -> tuple[str, str]:
    """Read ``--header 'Name: value'``.

    Args:
        text: the option's value.
    """
    name, sep, value = text.partition(":")
    name = name.strip()
    if not sep or not _HEADER_NAME.match(name):
        raise UsageError(f"--header {text!r}: write it as 'Name: value'")
    return name, value.strip()


def parse_metadata(items: list[str] | None) -> dict[str, str]:
    """Read repeated ``--metadata key=value`` options.

    Args:
        items: the values given (None when the option is absent).
    """
    out: dict[str, str] = {}
    for item in items or ():
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UsageError(f"--metadata {item!r}: write it as key=value")
        out[key] = value
    return out


class _FilterAction(argparse.Action):
    """Keeps --include and --exclude in one ordered list: the last matching pattern wins."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: object,
        option_string: str | None = None,
    ) -> None:
        filters = list(getattr(namespace, "filters", None) or [])
        filters.append((self.dest, str(values)))
        namespace.filters = filters


def _global_options(parser: argparse.ArgumentParser, *, sub: bool) -> None:
    # On sub-parsers the defaults are SUPPRESS, so an option given before the command is not
    # overwritten by the sub-parser's default: global options work on either side of it.
    def d(value: object) -> object:
        return argparse.SUPPRESS if sub else value

    group = parser.add_argument_group("global options")
    group.add_argument(
        "--endpoint-url", default=d(None), metavar="URL", help="S3 endpoint (R2_ENDPOINT_URL)"
    )
    group.add_argument(
        "--jurisdiction",
        default=d(None),
        choices=("eu", "fedramp", "us"),
        help="R2 jurisdiction of the endpoint (R2_JURISDICTION)",
    )
    group.add_argument(
        "--concurrency",
        type=_concurrency,
        default=d(DEFAULT_CONCURRENCY),
        metavar="N",
        help=f"objects in flight at once (default {DEFAULT_CONCURRENCY})",
    )
    group.add_argument(
        "--part-size",
        type=_part_size,
        default=d(DEFAULT_PART_SIZE),
        metavar="SIZE",
        help="multipart part size, e.g. 16MiB (default 8MiB; at least 5MiB)",
    )
    group.add_argument(
        "--header",
        action="append",
        dest="headers",
        default=d(None),
        metavar="'NAME: VALUE'",
        help="extra header on every request, signed (repeatable)",
    )
    group.add_argument(
        "--transport",
        default=d("auto"),
        choices=("auto", "httpx", "aiohttp"),
        help="HTTP transport; auto: aiohttp for transfers when installed (less CPU), else httpx",
    )
    group.add_argument(
        "-q", "--quiet", action="store_true", default=d(False), help="print only errors"
    )
    group.add_argument(
        "--no-progress", action="store_true", default=d(False), help="no progress display"
    )
    group.add_argument(
        "--json",
        action="store_true",
        default=d(False),
        help="machine-readable output: one JSON object per line",
    )


def _filters(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--exclude",
        action=_FilterAction,
        metavar="GLOB",
        help="skip relative paths matching GLOB (repeatable; '*' matches '/' too)",
    )
    parser.add_argument(
        "--include",
        action=_FilterAction,
        metavar="GLOB",
        help="take back paths matching GLOB (later --include/--exclude win)",
    )
    parser.set_defaults(filters=[])


def _write_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("object options (for r2:// destinations)")
    group.add_argument("--content-type", metavar="TYPE", help="default: guessed from the name")
    group.add_argument("--cache-control", metavar="VALUE")
    group.add_argument(
        "--metadata", action="append", metavar="KEY=VALUE", help="user metadata (repeatable)"
    )


def build_parser() -> argparse.ArgumentParser:
    """The ``r2async`` parser with every command."""
    fmt = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(
        prog="r2async",
        description="Move data in and out of Cloudflare R2 (or any S3-compatible store). "
        "Locations are local paths, '-' (stdin/stdout) or r2://BUCKET/KEY URLs.",
        epilog=EXAMPLES + "\n\n" + ENVIRONMENT_HELP,
        formatter_class=fmt,
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    _global_options(parser, sub=False)
    subs = parser.add_subparsers(dest="command", metavar="COMMAND")

    def command(
        name: str, summary: str, example: str, details: str = ""
    ) -> argparse.ArgumentParser:
        p = subs.add_parser(
            name,
            help=summary,
            description=summary + ("\n\n" + details if details else ""),
            epilog="example:\n  " + example + "\n\n" + ENVIRONMENT_HELP,
            formatter_class=fmt,
        )
        _global_options(p, sub=True)
        return p

    p = command("ls", "list buckets, or objects and prefixes", "r2async ls -H r2://photos/2024/")
    p.add_argument("url", nargs="?", metavar="r2://BUCKET[/PREFIX]")
    p.add_argument("-r", "--recursive", action="store_true", help="every key, no grouping")
    p.add_argument("-H", "--human-readable", action="store_true", help="sizes like 1.5 MiB")

    for name, summary in (
        ("cp", "copy: local to R2, R2 to local, R2 to R2 (server-side)"),
        ("mv", "move: copy, then delete each source once its copy succeeded"),
    ):
        p = command(name, summary, f"r2async {name} -r ./photos r2://backup/photos/")
        p.add_argument("src", metavar="SRC")
        p.add_argument("dst", metavar="DST")
        p.add_argument("-r", "--recursive", action="store_true", help="copy a directory/prefix")
        p.add_argument("--dry-run", action="store_true", help="print what would be done")
        p.add_argument(
            "--if-none-match",
            action="store_true",
            help="write only keys that do not exist yet (others fail: PreconditionFailedError)",
        )
        _write_options(p)
        _filters(p)

    p = command(
        "sync",
        "make DST like SRC in one direction, transferring only what differs",
        "r2async sync ./site r2://www/ --delete --exclude '*.tmp'",
        SYNC_COMPARISON,
    )
    p.add_argument("src", metavar="SRC")
    p.add_argument("dst", metavar="DST")
    p.add_argument("--delete", action="store_true", help="delete DST files absent from SRC")
    p.add_argument(
        "--exact",
        "--checksum",
        dest="exact",
        action="store_true",
        help="compare the MD5 of every same-size file with a single-part ETag, whatever the "
        "times say (reads every such file)",
    )
    p.add_argument("--dry-run", action="store_true", help="print what would be done")
    _write_options(p)
    _filters(p)

    p = command(
        "rm", "delete objects (DeleteObjects, 1,000 per request)", "r2async rm -r r2://b/tmp/"
    )
    p.add_argument("url", metavar="r2://BUCKET/KEY")
    p.add_argument("-r", "--recursive", action="store_true", help="every object under the prefix")
    p.add_argument("--dry-run", action="store_true", help="print what would be deleted")
    _filters(p)

    p = command("mb", "create a bucket", "r2async mb r2://photos --location-hint weur")
    p.add_argument("url", metavar="r2://BUCKET")
    p.add_argument(
        "--location-hint",
        choices=("wnam", "enam", "weur", "eeur", "apac", "oc"),
        help="where R2 should place the bucket (best effort)",
    )

    p = command("rb", "delete a bucket", "r2async rb --force r2://scratch")
    p.add_argument("url", metavar="r2://BUCKET")
    p.add_argument(
        "--force",
        action="store_true",
        help="first delete every object and abort unfinished multipart uploads",
    )
    p.add_argument("--dry-run", action="store_true", help="print what would be deleted")

    p = command("cat", "write an object to stdout", "r2async cat r2://logs/today.txt | less")
    p.add_argument("url", metavar="r2://BUCKET/KEY")

    p = command("stat", "show an object's metadata", "r2async stat r2://photos/cat.jpg")
    p.add_argument("url", metavar="r2://BUCKET/KEY")

    p = command("du", "total size and object count under a prefix", "r2async du -H r2://logs/")
    p.add_argument("url", metavar="r2://BUCKET[/PREFIX]")
    p.add_argument("-H", "--human-readable", action="store_true", help="sizes like 1.5 MiB")

    p = command(
        "presign",
        "print a presigned URL (no request is made)",
        "r2async presign --method PUT --expires 600 r2://uploads/new.bin",
    )
    p.add_argument("url", metavar="r2://BUCKET/KEY")
    p.add_argument(
        "--method", type=str.upper, choices=("GET", "PUT", "HEAD", "DELETE"), default="GET"
    )
    p.add_argument("--expires", type=_expires, default=3600, metavar="SECONDS", help="default 3600")
    return parser
