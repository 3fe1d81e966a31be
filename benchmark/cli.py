"""The ``rhbench`` command line: one sub-command per module in :mod:`rhbench.commands`.

Only the module of the sub-command being run is imported (``rhbench --help`` imports
none), so each command pays for its own dependencies only: ``--help``, ``plugins``,
``check`` and ``fetch`` import neither scikit-learn, matplotlib, dask.distributed nor
rioxarray (tests/test_cli_imports.py). A new sub-command is one module with
``add_parser(subparsers)`` and ``run(args) -> int`` plus one line in :data:`COMMANDS`.

Exit codes: 0 success; 1 ``rhbench check`` found a regression; 2 unusable input or
configuration; 3 ``rhbench run`` finished but some sources failed (see the scorecard).
"""

from __future__ import annotations

import argparse
import atexit
import importlib
import logging
import os
import signal
import sys
import threading
import warnings
from pathlib import Path
from typing import NoReturn

from rhbench import __version__
from rhbench.errors import RhbenchError

#: Sub-command -> (module, one-line help shown by ``rhbench --help``; the module's own
#: ``add_parser`` says the same, tests/test_cli_imports.py keeps them equal).
COMMANDS: dict[str, tuple[str, str]] = {
    "plugins": ("rhbench.commands.plugins", "list every registered plugin (built-in and installed)"),
    "run": ("rhbench.commands.run", "benchmark every DGVM plugin (no arguments: the synthetic demo)"),
    "demo": ("rhbench.commands.demo", "write the synthetic demo ensemble (TRENDY file conventions)"),
    "upscale": (
        "rhbench.commands.upscale",
        "Random Forest upscaling of SRDB site Rh (CV report; Rh map with a predictor stack)",
    ),
    "check": ("rhbench.commands.check", "compare a scorecard with a baseline (CI gate; exit 1 on regressions)"),
    "fetch": (
        "rhbench.commands.fetch",
        "download a public dataset (e.g. srdb, HWSD) or --all of them, verify hashes, put them in the data root",
    ),
    "data": (
        "rhbench.commands.data",
        "list the files every source expects (path, variable, units), whether present, verified, fetchable",
    ),
    "new-plugin": ("rhbench.commands.new_plugin", "scaffold an installable plugin package for a model or dataset"),
}
EXIT_USAGE = 2


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The argument parser: every sub-command, with the full options of ``command`` (of all when None).

    The other sub-commands are listed with their one-line help without importing their modules.
    """
    parser = argparse.ArgumentParser(
        prog="rhbench",
        description="Benchmark DGVMs against observation-based soil heterotrophic respiration, "
        "soil carbon and turnover time, and constrain their carbon uptake.",
    )
    parser.add_argument("--version", action="version", version=f"rhbench {__version__}")
    parser.add_argument("-q", "--quiet", action="store_true", help="only warnings and errors, no progress bars")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (module, help_text) in COMMANDS.items():
        if command is None or name == command:
            importlib.import_module(module).add_parser(subparsers)
        else:
            subparsers.add_parser(name, help=help_text)
    return parser


def _command_of(argv: list[str]) -> str:
    """The sub-command named in ``argv`` ("" when none: then no command module is imported)."""
    return next((arg for arg in argv if not arg.startswith("-")), "") if argv else ""


def _configure_logging(quiet: bool, verbose: bool) -> None:
    from rich.console import Console
    from rich.logging import RichHandler

    level = logging.WARNING if quiet else (logging.DEBUG if verbose else logging.INFO)
    handler = RichHandler(console=Console(stderr=True), show_path=False, show_time=False)
    logging.basicConfig(level=level, handlers=[handler], format="%(message)s", force=True)
    for noisy in ("distributed", "numba", "matplotlib", "fsspec", "h5py", "asyncio"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    logging.getLogger("pint").setLevel(logging.ERROR)  # cf_xarray's unit redefinitions, logged at import
    if not verbose:
        # Floating-point RuntimeWarnings of array code (all-NaN ocean chunks, 0/0 in masked
        # cells) are expected and handled by the masks; they print only with -v.
        warnings.filterwarnings("ignore", category=RuntimeWarning, module=r"(dask|numpy|xarray)(\.|$)")


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(_command_of(argv))
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


#: True in the ``rhbench`` console script, whose process ends when the command returns;
#: False when :func:`main` is called from Python (tests, notebooks, another program).
_PROCESS_ENDS_AFTER_COMMAND = False


def process_ends_after_command() -> bool:
    """Whether this process ends when the command returns (the console script), so that
    process-wide shortcuts such as freezing the garbage collector's objects are safe."""
    return _PROCESS_ENDS_AFTER_COMMAND


def console() -> NoReturn:
    """The ``rhbench`` console script: :func:`main`, then :func:`exit_without_teardown` (an
    exception from ``main`` exits the normal way). ``python -m rhbench.cli`` exits the normal
    way, so that ``python -m cProfile -m rhbench.cli ...`` and the like write their reports."""
    global _PROCESS_ENDS_AFTER_COMMAND
    _PROCESS_ENDS_AFTER_COMMAND = True
    exit_without_teardown(main())


def exit_without_teardown(code: int) -> NoReturn:
    """End the process with ``code`` as a normal exit would for everything it wrote, without
    the interpreter's teardown.

    After ``rhbench run`` Python spends ~0.1 s freeing every module and object (xarray,
    pandas, dask, matplotlib) one by one before the process ends; the operating system frees
    them at once. What a normal exit does that matters is done first: the ``atexit``
    handlers run (they flush and close the log handlers, stop dask's idle worker threads and
    run pending finalizers, e.g. of temporary folders), then the standard streams are
    flushed. If a non-daemon thread is still alive afterwards (a plugin's, say), the normal
    exit runs instead, which waits for it; so it does under a tracer or profiler (coverage,
    cProfile, pyinstrument), which reports after the program.
    """
    if sys.gettrace() is not None or sys.getprofile() is not None:
        sys.exit(code)
    atexit._run_exitfuncs()
    alive = [t for t in threading.enumerate() if t is not threading.main_thread() and not t.daemon and t.is_alive()]
    if alive:
        sys.exit(code)
    os._exit(code if _flushed_standard_streams() else FLUSH_FAILED_EXIT)


#: CPython's exit status when flushing the standard streams at exit fails (a full disk, a
#: closed pipe): the output is incomplete, so the exit is not a success.
FLUSH_FAILED_EXIT = 120


def _flushed_standard_streams() -> bool:
    """Flush ``sys.stdout``/``sys.stderr`` and the original streams; False if any flush failed."""
    ok = True
    for stream in {id(s): s for s in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__)}.values():
        if stream is None or getattr(stream, "closed", False):
            continue  # no stream (started with it closed) or already closed: nothing buffered
        try:
            stream.flush()
        except (OSError, ValueError):
            ok = False
    return ok


if __name__ == "__main__":
    sys.exit(main())
