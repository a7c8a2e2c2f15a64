"""The ``r2async`` command: ls, cp, mv, sync, rm, mb, rb, cat, stat, du, presign.

``r2async --help`` loads only argparse and this package's parser: each command's module (and
with it httpx, pydantic, anyio and rich) is imported when that command runs.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from ._errors import EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, UsageError

__all__ = ["main"]

# command -> module that implements it (each exposes ``main(args, session) -> int``).
_COMMANDS = {
    "ls": "_cmd_list",
    "du": "_cmd_list",
    "cp": "_cmd_copy",
    "mv": "_cmd_copy",
    "sync": "_cmd_sync",
    "rm": "_cmd_remove",
    "mb": "_cmd_bucket",
    "rb": "_cmd_bucket",
    "cat": "_cmd_object",
    "stat": "_cmd_object",
    "presign": "_cmd_object",
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return its exit status.

    Args:
        argv: the arguments after the program name (default ``sys.argv[1:]``).
    """
    from ._parser import build_parser

    parser = build_parser()
    args = parser.parse_args(argv)
    if args.version:
        from r2async import __version__

        print(f"r2async {__version__}")
        return EXIT_OK
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        from importlib import import_module

        from ._session import Session

        session = Session.from_args(args)
        module = import_module(f"{__name__}.{_COMMANDS[args.command]}")
        status: int = module.main(args, session)
        return status
    except UsageError as exc:
        print(f"r2async {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (`r2async ls | head`): stop quietly, as cat does.
        from ._engine import silence_stdout

        silence_stdout()
        return EXIT_OK


def console_main() -> None:
    """Entry point of the ``r2async`` console script and ``python -m r2async``."""
    sys.exit(main())
