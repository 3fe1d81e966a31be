"""Decompressed copies of gzipped netCDF files (``.nc.gz``), cached in ``RHBENCH_CACHE/gunzip``.

netCDF libraries cannot read a gzip stream, so the netCDF reader opens a decompressed copy
(:func:`decompressed`). A copy is named by its source's resolved path, and beside it rhbench
writes a record (``<copy>.json``, atomically) of the pair as it left them: the SHA-256 of the
``.nc.gz`` and of the copy, and the cheap ``stat`` fields of each (size, modification and
change times in ns, inode). On each open:

- both ``stat`` fields as recorded: the copy is served (two ``stat`` calls, whatever the size);
- a field differs (a CI system restored the cache folder from an archive, or checked the data
  out afresh: new inodes and change times; or a file was edited, even in place at the same size
  with its modification time set back, which moves the change time): the SHA-256 of the side
  that moved is computed and compared with the record's. Both match: the copy is served and the
  record rewritten with the new fields (the next open is cheap again). The ``.nc.gz``'s differs:
  decompressed again. The copy's differs: decompressed again, with a warning;
- no readable record (a crash between the two writes, or a copy an older rhbench made): made
  again.

So a restore costs one hash of each file instead of a decompression, and an edit is always
caught. Nothing else in the folder is touched: only names rhbench derives from a source are
written, and the copy an older rhbench (record format 1, named by the source's path, size and
mtime) made of the same file as it is now is removed once the new copy is made.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
from pathlib import Path

from rhbench import fileops
from rhbench.errors import DataError

log = logging.getLogger(__name__)

#: Sub-folder of :func:`rhbench.fileops.cache_dir` holding the copies and their records.
FOLDER = "gunzip"
#: Suffix of a copy's record, appended to the copy's name.
RECORD_SUFFIX = ".json"
#: Format of the record; a record of another format is no record (the copy is made again).
RECORD_FORMAT = 2


def decompressed(path: Path) -> Path:
    """The decompressed copy of the gzipped file ``path`` (made, or made again, when needed; see the
    module doc). Raises :class:`DataError` naming ``path`` when it cannot be decompressed."""
    key = hashlib.sha256(f"{path.resolve()}".encode()).hexdigest()[:20]
    copy = fileops.cache_dir() / FOLDER / f"v{RECORD_FORMAT}-{key}.nc"
    record = copy.with_name(copy.name + RECORD_SUFFIX)
    source_stat = _stat(path)
    state, recorded = _state(path, source_stat, copy, record)
    if state == "intact":
        return copy
    if state == "verified":
        log.info("cached decompressed copy %s of %s: new file identities, same SHA-256: reused", copy, path)
        _record(copy, record, {**recorded, "source": source_stat, "copy": _stat(copy)})
        return copy
    if state == "changed":
        log.warning(
            "cached decompressed copy %s of %s changed since rhbench wrote it (its SHA-256 differs from the "
            "record's): decompressed again",
            copy,
            path,
        )
    elif state in ("unrecorded", "source changed"):
        log.info("cached decompressed copy %s of %s: %s, decompressed again", copy, path, state)
    source_sha = fileops.sha256_of(path)
    copy_sha = _inflate(path, copy)
    _drop_format_1(path, copy.parent)
    entry = {"format": RECORD_FORMAT, "source_sha256": source_sha, "copy_sha256": copy_sha}
    _record(copy, record, {**entry, "source": source_stat, "copy": _stat(copy)})
    return copy


def _drop_format_1(path: Path, folder: Path) -> None:
    """Remove the copy (and record) an rhbench of record format 1 made of ``path`` as it is now: named by its
    resolved path, size and mtime, it would only take disk space (a copy is as large as the data)."""
    stat = path.stat()
    key = hashlib.sha256(f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}".encode()).hexdigest()[:20]
    old = folder / f"{key}.nc"
    record = old.with_name(old.name + RECORD_SUFFIX)
    try:
        if json.loads(record.read_text(encoding="utf-8")).get("format") != 1:
            return
    except (OSError, ValueError, AttributeError):
        return
    for name in (old, record):
        name.unlink(missing_ok=True)
    log.info("removed %s, the decompressed copy of %s an older rhbench made", old, path)


def _stat(path: Path) -> dict:
    """What a write to ``path`` or a restore of it changes: size, modification and change times (ns), inode."""
    stat = path.stat()
    return {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "ctime_ns": stat.st_ctime_ns, "inode": stat.st_ino}


def _state(path: Path, source_stat: dict, copy: Path, record: Path) -> tuple[str, dict]:
    """(state, the record) of ``copy``: ``"absent"``, ``"unrecorded"`` (no readable record), ``"intact"``
    (the ``stat`` fields as recorded), ``"verified"`` (fields moved, hashes as recorded), ``"source changed"``
    or ``"changed"`` (the copy's hash differs)."""
    if not copy.is_file():
        return "absent", {}
    try:
        recorded = json.loads(record.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "unrecorded", {}
    keys = {"format", "source_sha256", "copy_sha256", "source", "copy"}
    if not isinstance(recorded, dict) or recorded.get("format") != RECORD_FORMAT or set(recorded) != keys:
        return "unrecorded", {}
    try:
        copy_stat = _stat(copy)
    except OSError:
        return "absent", {}
    if recorded["source"] == source_stat and recorded["copy"] == copy_stat:
        return "intact", recorded
    if recorded["source"] != source_stat and fileops.sha256_of(path) != recorded["source_sha256"]:
        return "source changed", recorded
    if recorded["copy"] != copy_stat and fileops.sha256_of(copy) != recorded["copy_sha256"]:
        return "changed", recorded
    return "verified", recorded


def _inflate(path: Path, copy: Path) -> str:
    """Decompress ``path`` into ``copy`` through a temporary file in the same folder, then a rename;
    return the copy's SHA-256 (computed as it is written)."""
    digest = hashlib.sha256()

    def write(temp: Path) -> None:
        with temp.open("wb") as out, gzip.open(path, "rb") as src:
            for block in iter(lambda: src.read(1 << 22), b""):
                digest.update(block)
                out.write(block)

    try:
        fileops.write_atomic(copy, write)
    except (OSError, EOFError) as exc:  # gzip.BadGzipFile is an OSError
        raise DataError(f"cannot decompress gzipped file: {exc}", file=str(path)) from exc
    return digest.hexdigest()


def _record(copy: Path, record: Path, entry: dict) -> None:
    """Write ``entry`` to ``record`` (atomically). A record that cannot be written only costs a new
    copy next time: logged, not raised."""
    try:
        fileops.write_text_atomic(record, json.dumps(entry))
    except OSError as exc:
        log.warning("cannot record the decompressed copy %s (%s): it will be made again next time", copy, exc)
