"""The output folder of a run: claimed, locked, filled in a staging folder, moved into place.

Rules (README: "What a run writes"):

* ``--out`` may not be, contain or lie inside the data root, a folder a link in it points
  to (:func:`protected_folders`) or the cache, even with ``--force`` (:func:`refuse_overlap`):
  replacing it would delete the inputs.
* A non-empty ``--out`` is replaced only with ``--force``, and only when rhbench wrote it
  (it holds the :data:`MARKER` file every run writes).
* While a run works, it holds an exclusive lock on ``.NAME.lock`` beside ``--out``; a
  second run into the same ``--out`` is refused at once. The rules above are checked again
  at the final rename, so a folder that appeared at ``--out`` during the run is not
  replaced without ``--force``; the run then fails and names where its results were kept.
* An interrupted run leaves at most a hidden ``.NAME.partial-*`` folder, never a partial
  scorecard in the output folder. Folders and files respect the umask.
* A read-only or full disk is an :class:`~rhbench.errors.OutputError` naming the path and
  the cause, never a traceback.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import json
import os
import shutil
import signal
import tempfile
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path

from rhbench.errors import OutputError, OutputExistsError
from rhbench.fileops import respect_umask
from rhbench.ownership import holds_marker, write_marker

#: File every run writes into its output folder; ``--force`` replaces only folders holding it.
MARKER = ".rhbench-output"
#: The manifest of the gated outputs a run writes last (:mod:`rhbench.report.manifest`); the
#: marker names it, so that a run folder without it is known to be incomplete.
MANIFEST_JSON = "manifest.json"
#: errno values that mean "this disk cannot take the output".
DISK_ERRNOS = {errno.ENOSPC, errno.EROFS, errno.EDQUOT, errno.EFBIG, errno.EACCES, errno.EPERM}


def overlaps(a: Path, b: Path) -> bool:
    """True when ``a`` and ``b`` (resolved) are the same folder or one lies inside the other."""
    a, b = Path(a).expanduser().resolve(), Path(b).expanduser().resolve()
    return a == b or a.is_relative_to(b) or b.is_relative_to(a)


def protected_folders(data_root: Path | None, *, depth: int = 3) -> dict[str, Path]:
    """The data root and every folder a symbolic link in it (up to ``depth`` levels down) points to.

    A run follows such links wherever they point (:func:`rhbench.catalog.resolve_file`), so an
    ``--out`` inside a linked folder (``obs -> /mnt/shared/obs``) would write among the inputs.
    Returns label -> folder for :func:`refuse_overlap`; empty when ``data_root`` is None.
    """
    if data_root is None:
        return {}
    root = Path(data_root).expanduser()
    folders = {"data root": root}
    level = [root]
    for _ in range(depth):
        below = []
        for folder in level:
            try:
                entries = list(os.scandir(folder))
            except OSError:  # unreadable or missing: nothing to protect below it
                continue
            for entry in entries:
                path = Path(entry.path)
                if entry.is_symlink() and path.is_dir():
                    folders[f"folder the data root links to ({path.relative_to(root)})"] = path.resolve()
                elif entry.is_dir(follow_symlinks=False):
                    below.append(path)
        level = below
    return folders


def refuse_overlap(out: Path, protected: Mapping[str, Path | None]) -> None:
    """Raise :class:`OutputExistsError` when ``out`` overlaps a protected folder (label -> path)."""
    for label, folder in protected.items():
        if folder is not None and overlaps(out, folder):
            raise OutputExistsError(
                f"--out overlaps the {label}: writing there could delete inputs (refused even with --force)",
                file=str(out),
                found=f"{label} {Path(folder).resolve()}",
                expected=f"an output folder outside the {label}",
            )


def check_replaceable(out: Path, force: bool) -> None:
    """Raise :class:`OutputExistsError` unless ``out`` is absent, an empty folder, or (with
    ``force``) a folder a previous rhbench run wrote."""
    if out.exists() and not out.is_dir():
        raise OutputExistsError("output path exists and is not a folder", file=str(out))
    if not out.is_dir() or not any(out.iterdir()):
        return
    if not force:
        raise OutputExistsError(
            "output folder is not empty; choose another --out or pass --force",
            file=str(out),
            expected="a new or empty folder",
        )
    if not holds_marker(out, MARKER):
        raise OutputExistsError(
            f"--force replaces only a folder rhbench wrote, and this one has no {MARKER} marker",
            file=str(out),
            expected="another --out, or remove the folder yourself",
        )


def claim_output_dir(out: Path | None, *, force: bool, protected: Mapping[str, Path | None] | None = None) -> Path:
    """The folder a run will write: ``out``, or ``./rhbench-out/run-<UTC time>`` when None.

    ``protected`` maps a label (``"data root"``, ``"cache"``) to a folder ``out`` must not
    overlap. Raises :class:`OutputExistsError` when ``out`` overlaps one, or exists and
    may not be replaced (see :func:`check_replaceable`).
    """
    if out is None:
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
        out = Path("rhbench-out") / f"run-{stamp}"
    out = Path(out).expanduser().resolve()
    refuse_overlap(out, protected or {})
    check_replaceable(out, force)
    return out


def disk_error(exc: OSError, path: Path) -> OutputError:
    """An :class:`OutputError` naming the path and the cause of ``exc``."""
    cause = exc.strerror or type(exc).__name__
    return OutputError(
        f"cannot write the output: {cause}", file=str(exc.filename or path), expected="a writable disk with free space"
    )


@contextlib.contextmanager
def _lock(out_dir: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``.NAME.lock`` beside ``out_dir``; refuse when another run holds it."""
    import fcntl

    lock_path = out_dir.with_name(f".{out_dir.name}.lock")
    if lock_path.is_symlink() or (lock_path.exists() and (not lock_path.is_file() or lock_path.stat().st_size)):
        raise OutputExistsError(  # a lock rhbench made is an empty file; this one is removed at the end
            "the run's lock file name is taken by a file rhbench did not write",
            file=str(lock_path),
            expected="no such file, or an empty lock file left by an earlier run",
        )
    try:
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        handle = open(lock_path, "a+")  # noqa: SIM115 - held for the whole block
    except OSError as exc:
        raise disk_error(exc, out_dir) from exc
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise OutputExistsError(
                "another rhbench run is writing to this output folder", file=str(out_dir), found=f"lock {lock_path}"
            ) from None
        try:
            yield
        finally:
            lock_path.unlink(missing_ok=True)


def _run_marker() -> str:
    """The text of a run's :data:`MARKER`: who wrote the folder, and when (UTC)."""
    stamp = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    return json.dumps({"written_by": "rhbench", "date_utc": stamp, "manifest": MANIFEST_JSON}) + "\n"


@contextlib.contextmanager
def staging_dir(out_dir: Path, *, force: bool = False) -> Iterator[Path]:
    """A hidden sibling folder to write into; moved onto ``out_dir`` only when the block succeeds.

    Holds the lock on ``out_dir`` meanwhile and re-checks, at the final rename, that
    ``out_dir`` may be replaced (``force`` as for :func:`claim_output_dir`).
    """
    with _lock(out_dir):
        staging = new_staging(out_dir)
        try:
            yield staging
        except OSError as exc:
            shutil.rmtree(staging, ignore_errors=True)
            if exc.errno in DISK_ERRNOS:
                raise disk_error(exc, staging) from exc
            raise
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        with signals_deferred():
            _publish(staging, out_dir, force)


def new_staging(out_dir: Path, *, kind: str = "partial", marker: str = MARKER, text: str | None = None) -> Path:
    """A hidden folder ``.NAME.KIND-*`` beside ``out_dir`` holding ``marker`` (``text``; a run's
    :data:`MARKER` by default), with the mode the umask gives; removed again if marking it fails or
    is interrupted. A disk that cannot take it is an :class:`OutputError` naming the folder.
    Used by :func:`staging_dir` and by ``rhbench upscale``."""
    try:
        staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.{kind}-", dir=out_dir.parent))
    except OSError as exc:
        raise disk_error(exc, out_dir.parent) from exc
    try:
        respect_umask(staging, folder=True)
        write_marker(staging, marker, _run_marker() if text is None else text)
    except BaseException as exc:
        shutil.rmtree(staging, ignore_errors=True)
        if isinstance(exc, OSError):
            raise disk_error(exc, out_dir.parent) from exc
        raise
    return staging


@contextlib.contextmanager
def signals_deferred() -> Iterator[None]:
    """Hold SIGINT and SIGTERM while an earlier output is swapped for the new one.

    A Ctrl-C between moving the earlier folder aside and renaming the new one into place would
    leave neither at ``--out``. While the block runs, a Python handler only records the signal
    (blocking it with ``pthread_sigmask`` would not do: another thread of the run, e.g. dask's,
    would take it); after the block the signal goes to the handler it would have reached. Outside
    the main thread (where handlers cannot be set) nothing is held.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    held = [s for s in (signal.SIGINT, signal.SIGTERM) if signal.getsignal(s) is not None]
    previous = {s: signal.signal(s, lambda signum, frame: caught.append(signum)) for s in held}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    if caught:
        handler = previous[caught[0]]
        if callable(handler):
            handler(caught[0], None)
        elif handler == signal.SIG_DFL:
            signal.raise_signal(caught[0])


def _publish(staging: Path, out_dir: Path, force: bool) -> None:
    """Rename ``staging`` onto ``out_dir`` after re-checking that it may be replaced."""
    kept = f"the run's results were kept in {staging}"
    try:
        check_replaceable(out_dir, force)
    except OutputExistsError as exc:
        raise OutputExistsError(f"{exc.message} (it appeared during the run); {kept}", file=exc.file) from None
    retired = None
    if out_dir.is_dir() and any(out_dir.iterdir()):
        retired = out_dir.with_name(f".{out_dir.name}.replaced-{os.getpid()}")
        os.replace(out_dir, retired)
    try:
        os.rename(staging, out_dir)  # atomic; fails if a non-empty folder appeared meanwhile
    except OSError as exc:
        if retired is not None:
            os.replace(retired, out_dir)
        if exc.errno in (errno.ENOTEMPTY, errno.EEXIST, errno.ENOTDIR, errno.EISDIR):
            raise OutputExistsError(f"output folder appeared during the run; {kept}", file=str(out_dir)) from None
        raise disk_error(exc, out_dir) from exc
    if retired is not None:
        shutil.rmtree(retired, ignore_errors=True)
