"""Decompressed copies of gzipped netCDF files (``.nc.gz``), cached in ``RHBENCH_CACHE/gunzip``.

netCDF libraries cannot read a gzip stream, so the netCDF reader opens a decompressed copy
(:func:`decompressed`). A copy is named by its CONTENT, the SHA-256 of the ``.nc.gz``
(``v3-<sha256>.nc``), so the same bytes under another path (a CI job whose workspace moves, a
second checkout) reuse it; beside it rhbench writes a record (``<copy>.json``, atomically) of the
copy's SHA-256 (computed while decompressing) and its cheap ``stat`` fields (size, modification
and change times in ns, inode). A small pointer named by the source's resolved path
(``path-<key>.json``) remembers that source's SHA-256 and ``stat`` fields, so the source is not
hashed again on each open. On each open:

- the source's ``stat`` fields as its pointer records them: the recorded SHA-256 names the copy;
  else (no pointer: a new path; or fields moved: a CI restore, a fresh checkout, an edit, even in
  place at the same size with its modification time set back, which moves the change time) the
  ``.nc.gz`` is hashed (one read, no decompression) and the pointer rewritten;
- the copy's ``stat`` fields as recorded: served; fields moved (the cache folder restored from an
  archive): the copy is hashed, and served when its SHA-256 is as recorded (the record refreshed),
  else decompressed again with a warning ("changed since rhbench wrote it");
- no copy of that content, or no readable record: decompressed.

So a moved workspace costs one hash of each ``.nc.gz`` (and a pointer of ~200 bytes) instead of a
decompression and a second copy, and an edit is always caught. Nothing else in the folder is
touched: only names rhbench derives from a source are written, and the copies older rhbench
versions made of the same file as it is now (record format 1, named by the source's path, size
and mtime; format 2, named by the source's path) are removed once the content-named copy is there. An edited
source's earlier copy is removed when no pointer (another path with those bytes) names it any more.
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
RECORD_FORMAT = 3
#: Length (hex digits) of the SHA-256 prefix naming a copy: 160 bits, no accidental collision.
NAME_DIGITS = 40


def decompressed(path: Path) -> Path:
    """The decompressed copy of the gzipped file ``path`` (made, or made again, when needed; see the
    module doc). Raises :class:`DataError` naming ``path`` when it cannot be decompressed."""
    folder = fileops.cache_dir() / FOLDER
    source_stat = _stat(path)
    pointer = folder / f"path-{_path_key(path)}{RECORD_SUFFIX}"
    source_sha = _pointed(pointer, source_stat)
    if source_sha is None:
        before = (_pointer(pointer) or {}).get("source_sha256")
        source_sha = fileops.sha256_of(path)
        _record(pointer, pointer, {"format": RECORD_FORMAT, "source_sha256": source_sha, "source": source_stat})
        if before not in (None, source_sha):  # edited: its earlier copy, unless another path names it
            _drop_unnamed(folder, before, path)
    copy = folder / f"v{RECORD_FORMAT}-{source_sha[:NAME_DIGITS]}.nc"
    record = copy.with_name(copy.name + RECORD_SUFFIX)
    state, recorded = _state(copy, record)
    if state == "intact":
        return copy
    if state == "verified":
        log.info("cached decompressed copy %s of %s: new file identity, same SHA-256: reused", copy, path)
        _record(copy, record, {**recorded, "copy": _stat(copy)})
        return copy
    if state == "changed":
        log.warning(
            "cached decompressed copy %s of %s changed since rhbench wrote it (its SHA-256 differs from the "
            "record's): decompressed again",
            copy,
            path,
        )
    elif state == "unrecorded":
        log.info("cached decompressed copy %s of %s: no record, decompressed again", copy, path)
    copy_sha = _inflate(path, copy)
    _drop_older_formats(path, folder)
    _record(copy, record, {"format": RECORD_FORMAT, "copy_sha256": copy_sha, "copy": _stat(copy)})
    return copy


def _path_key(path: Path) -> str:
    """The key of ``path``'s resolved path (names its pointer, and its format-2 copy)."""
    return hashlib.sha256(f"{path.resolve()}".encode()).hexdigest()[:20]


def _pointer(pointer: Path) -> dict | None:
    """The record of ``pointer`` (this format, a SHA-256), or None when it has no readable one."""
    try:
        recorded = json.loads(pointer.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(recorded, dict) or recorded.get("format") != RECORD_FORMAT:
        return None
    sha = recorded.get("source_sha256")
    return recorded if isinstance(sha, str) and len(sha) == 64 else None


def _pointed(pointer: Path, source_stat: dict) -> str | None:
    """The SHA-256 the pointer records for a source whose ``stat`` fields are ``source_stat``, or None
    (no readable pointer of this format, or fields that moved: the source must be hashed)."""
    recorded = _pointer(pointer)
    return recorded["source_sha256"] if recorded is not None and recorded.get("source") == source_stat else None


def _drop_unnamed(folder: Path, sha: str, path: Path) -> None:
    """Remove the copy (and record) of content ``sha``, an earlier version of ``path``, unless a pointer
    (another path holding those bytes: a second checkout) still names it: each edit of a ``.nc.gz``
    would otherwise leave a copy as large as the data. A copy another process has open stays readable."""
    if any((_pointer(other) or {}).get("source_sha256") == sha for other in folder.glob(f"path-*{RECORD_SUFFIX}")):
        return
    copy = folder / f"v{RECORD_FORMAT}-{sha[:NAME_DIGITS]}.nc"
    for name in (copy, copy.with_name(copy.name + RECORD_SUFFIX)):
        name.unlink(missing_ok=True)
    log.info("removed %s, the decompressed copy of %s before it was edited", copy, path)


def _drop_older_formats(path: Path, folder: Path) -> None:
    """Remove the copies (and records) older rhbench versions made of ``path`` as it is now: format 1
    (named by its resolved path, size and mtime) and format 2 (named by its resolved path); they would
    only take disk space (a copy is as large as the data). A name that holds no such record is kept."""
    stat = path.stat()
    key_1 = hashlib.sha256(f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}".encode()).hexdigest()[:20]
    for old, fmt in ((folder / f"{key_1}.nc", 1), (folder / f"v2-{_path_key(path)}.nc", 2)):
        record = old.with_name(old.name + RECORD_SUFFIX)
        try:
            if json.loads(record.read_text(encoding="utf-8")).get("format") != fmt:
                continue
        except (OSError, ValueError, AttributeError):
            continue
        for name in (old, record):
            name.unlink(missing_ok=True)
        log.info("removed %s, the decompressed copy of %s an older rhbench made", old, path)


def _stat(path: Path) -> dict:
    """What a write to ``path`` or a restore of it changes: size, modification and change times (ns), inode."""
    stat = path.stat()
    return {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "ctime_ns": stat.st_ctime_ns, "inode": stat.st_ino}


def _state(copy: Path, record: Path) -> tuple[str, dict]:
    """(state, the record) of ``copy``: ``"absent"``, ``"unrecorded"`` (no readable record), ``"intact"``
    (its ``stat`` fields as recorded), ``"verified"`` (fields moved, hash as recorded) or ``"changed"``
    (the copy's hash differs)."""
    if not copy.is_file():
        return "absent", {}
    try:
        recorded = json.loads(record.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "unrecorded", {}
    keys = {"format", "copy_sha256", "copy"}
    if not isinstance(recorded, dict) or recorded.get("format") != RECORD_FORMAT or set(recorded) != keys:
        return "unrecorded", {}
    try:
        copy_stat = _stat(copy)
    except OSError:
        return "absent", {}
    if recorded["copy"] == copy_stat:
        return "intact", recorded
    if fileops.sha256_of(copy) != recorded["copy_sha256"]:
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
