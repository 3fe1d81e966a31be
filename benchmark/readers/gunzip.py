"""Decompressed copies of gzipped netCDF files (``.nc.gz``), cached in ``RHBENCH_CACHE/gunzip``.

netCDF libraries cannot read a gzip stream, so the netCDF reader opens a decompressed copy
(:func:`decompressed`). A copy is named by its source's resolved path, size and
modification time (an edited source gets a new copy), and beside it rhbench writes a
record (``<copy>.json``, atomically) of the copy as it left it: size, modification and
change times (ns) and inode. A copy that no longer matches its record (truncated, appended
to, or edited in place at the same size, even with its modification time set back: the
change time moves with any write), or that has no record (a crash between the two writes,
or a copy an older rhbench made), is decompressed again over its own name. Checking costs
one ``stat``, whatever the size of the copy (hashing a 9 GB copy on every read would cost
what the copy saves). Nothing else in the folder is touched: only names rhbench derives
from a source are written.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import shutil
from pathlib import Path

from rhbench import fileops
from rhbench.errors import DataError

log = logging.getLogger(__name__)

#: Sub-folder of :func:`rhbench.fileops.cache_dir` holding the copies and their records.
FOLDER = "gunzip"
#: Suffix of a copy's record, appended to the copy's name.
RECORD_SUFFIX = ".json"
#: Format of the record; a record of another format is no record (the copy is made again).
RECORD_FORMAT = 1


def decompressed(path: Path) -> Path:
    """The decompressed copy of the gzipped file ``path`` (made, or made again, when needed; see the
    module doc). Raises :class:`DataError` naming ``path`` when it cannot be decompressed."""
    stat = path.stat()
    key = hashlib.sha256(f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}".encode()).hexdigest()[:20]
    copy = fileops.cache_dir() / FOLDER / f"{key}.nc"
    record = copy.with_name(copy.name + RECORD_SUFFIX)
    state = _state(copy, record)
    if state == "intact":
        return copy
    if state == "changed":
        log.warning(
            "cached decompressed copy %s of %s changed since rhbench wrote it (edited, or the cache folder was "
            "copied or restored: a new inode or change time): decompressed again",
            copy,
            path,
        )
    elif state == "unrecorded":
        log.info("cached decompressed copy %s of %s has no record: decompressed again", copy, path)
    _inflate(path, copy)
    _record(copy, record)
    return copy


def _fingerprint(copy: Path) -> dict:
    """What a write to ``copy`` changes: size, modification and change times (ns), inode."""
    stat = copy.stat()
    return {
        "format": RECORD_FORMAT,
        "size": stat.st_size,
        "mtime_ns": stat.st_mtime_ns,
        "ctime_ns": stat.st_ctime_ns,
        "inode": stat.st_ino,
    }


def _state(copy: Path, record: Path) -> str:
    """``"absent"`` (no copy), ``"unrecorded"`` (no readable record), ``"changed"`` or ``"intact"``."""
    if not copy.is_file():
        return "absent"
    try:
        recorded = json.loads(record.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "unrecorded"
    if not isinstance(recorded, dict) or recorded.get("format") != RECORD_FORMAT:
        return "unrecorded"
    try:
        return "intact" if recorded == _fingerprint(copy) else "changed"
    except OSError:
        return "absent"


def _inflate(path: Path, copy: Path) -> None:
    """Decompress ``path`` into ``copy`` through a temporary file in the same folder, then a rename."""

    def write(temp: Path) -> None:
        with temp.open("wb") as out, gzip.open(path, "rb") as src:
            shutil.copyfileobj(src, out, length=1 << 22)

    try:
        fileops.write_atomic(copy, write)
    except (OSError, EOFError) as exc:
        raise DataError(f"cannot decompress gzipped file: {exc}", file=str(path)) from exc


def _record(copy: Path, record: Path) -> None:
    """Write ``copy``'s :func:`_fingerprint` to ``record`` (atomically). A record that cannot be
    written only costs a new copy next time: logged, not raised."""
    try:
        fileops.write_text_atomic(record, json.dumps(_fingerprint(copy)))
    except OSError as exc:
        log.warning("cannot record the decompressed copy %s (%s): it will be made again next time", copy, exc)
