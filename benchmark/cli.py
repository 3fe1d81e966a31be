"""The ``rhbench`` command line: one sub-command per module in :mod:`rhbench.commands`.

Exit codes: 0 success; 1 ``rhbench check`` found a regression; 2 unusable input or
configuration; 3 ``rhbench run`` finished but some sources failed (see the scorecard).
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from pathlib import Path

from rich.console import Console
from rich.logging import RichHandler

from rhbench import __version__
from rhbench.commands import check, data, demo, fetch, new_plugin, plugins, run, upscale
from rhbench.errors import RhbenchError

COMMANDS = (plugins, run, demo, upscale, check, fetch, data, new_plugin)
EXIT_USAGE = 2


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every sub-command."""
    parser = argparse.ArgumentParser(
        prog="rhbench",
        description="Benchmark DGVMs against observation-based soil heterotrophic respiration, "
        "soil carbon and turnover time, and constrain their carbon uptake.",
    )
    parser.add_argument("--version", action="version", version=f"rhbench {__version__}")
    parser.add_argument("-q", "--quiet", action="store_true", help="only warnings and errors, no progress bars")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.add_parser(subparsers)
    return parser


def _configure_logging(quiet: bool, verbose: bool) -> None:
    level = logging.WARNING if quiet else (logging.DEBUG if verbose else logging.INFO)
    handler = RichHandler(console=Console(stderr=True), show_path=False, show_time=False)
    logging.basicConfig(level=level, handlers=[handler], format="%(message)s", force=True)
    for noisy in ("distributed", "numba", "matplotlib", "fsspec", "h5py", "asyncio"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    _absolute_paths(args)
    _configure_logging(args.quiet, args.verbose)
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        return int(args.func(args))
    except RhbenchError as exc:
        logging.getLogger("rhbench").error("%s: %s", type(exc).__name__, exc)
        return EXIT_USAGE
    except OSError as exc:  # a disk problem no stage turned into an RhbenchError: no traceback
        where = f": {exc.filename}" if exc.filename else ""
        logging.getLogger("rhbench").error("cannot read or write a file%s: %s", where, exc.strerror or exc)
        return EXIT_USAGE
    except KeyboardInterrupt:
        logging.getLogger("rhbench").error("interrupted; no partial output was kept")
        return 130
    finally:
        signal.signal(signal.SIGTERM, previous)


def _absolute_paths(args: argparse.Namespace) -> None:
    """Make every path option absolute before any plugin is loaded (a plugin may call os.chdir)."""
    for key, value in vars(args).items():
        if isinstance(value, Path):
            setattr(args, key, value.expanduser().absolute())


def _interrupt(signum: int, frame: object) -> None:
    """Turn SIGTERM into KeyboardInterrupt so staging folders are cleaned up as on Ctrl-C."""
    raise KeyboardInterrupt


if __name__ == "__main__":
    sys.exit(main())
