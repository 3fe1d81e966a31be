"""Safe file operations shared by every stage: the cache folder, atomic writes, checksums, overwrite protection.

Nothing here imports xarray, the report stage or matplotlib: the products cache, the
provenance record and the writers all hash and write through this module.
"""

from __future__ import annotations

import errno
import hashlib
import os
import tempfile
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from pathlib import Path

from rhbench.errors import CacheError, DataError, OutputExistsError, RhbenchError

#: Bytes read per step when hashing a file.
HASH_BLOCK_BYTES = 1 << 20
#: Files up to this size get a full SHA-256 (:func:`file_checksum`); larger ones a
#: fingerprint (SHA-256 of the first MiB, size and modification time) to keep hashing cheap.
FULL_CHECKSUM_BYTES = 256 * 2**20
#: Environment variable naming the cache folder (default ``~/.cache/rhbench``).
CACHE_ENV = "RHBENCH_CACHE"
#: Checksums computed in this process, keyed on a file's identity and change time (see
#: :func:`file_checksum`): each input is hashed once per run however many stages ask.
_CHECKSUMS: dict[tuple, str] = {}
#: Checksums being computed by :func:`prefetch_checksums`, by file identity.
_IN_FLIGHT: dict[tuple, Future] = {}


def cache_path() -> Path:
    """Where the cache folder is (``RHBENCH_CACHE`` or ~/.cache/rhbench), whether or not it exists."""
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "rhbench")


def cache_dir() -> Path:
    """Folder for decompressed files, reduced products and the demo (:func:`cache_path`), made when absent.

    Raises :class:`rhbench.errors.CacheError` (an OSError too) naming ``RHBENCH_CACHE`` when it
    cannot be made a folder (a file there, a read-only parent)."""
    path = cache_path()
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CacheError(
            "the cache folder cannot be used",
            variable=CACHE_ENV,
            file=str(path),
            found=f"{'a file, not a folder' if path.is_file() else exc.strerror or exc}",
            expected="a folder rhbench can create and write (default ~/.cache/rhbench)",
            hint=f"set {CACHE_ENV} to a writable folder, or unset it; runs on a data root go on without the "
            "cache (slower), the demo and .nc.gz inputs need it",
        ) from exc
    return path


def write_atomic(path: Path, write: Callable[[Path], object]) -> None:
    """Call ``write(temporary_path)`` in ``path``'s folder, then rename it onto ``path``.

    Readers see either the old file or the complete new one, never a partial file; the
    temporary file is removed when ``write`` fails.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    try:
        write(Path(temp))
        respect_umask(Path(temp))
        os.replace(temp, path)
    finally:
        Path(temp).unlink(missing_ok=True)


def current_umask() -> int:
    """The process umask (read by setting and restoring it)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def respect_umask(path: Path, *, folder: bool = False) -> None:
    """Give ``path`` the mode a plain ``open``/``mkdir`` would: 0666 (0777 for a folder) minus the umask.

    :func:`tempfile.mkstemp` and :func:`tempfile.mkdtemp` create 0600/0700 whatever the
    umask; outputs renamed from them would otherwise be private to their owner.
    """
    os.chmod(path, (0o777 if folder else 0o666) & ~current_umask())


def write_text_atomic(path: Path, text: str) -> None:
    """Write UTF-8 ``text`` to ``path`` atomically (see :func:`write_atomic`)."""
    write_atomic(path, lambda temp: temp.write_text(text, encoding="utf-8", newline=""))


def disk_bytes(paths: Iterable[str | os.PathLike]) -> float:
    """The files' summed sizes on disk, bytes (infinite when one cannot be read: the reader names the problem)."""
    try:
        return sum(Path(p).stat().st_size for p in paths)
    except OSError:
        return float("inf")


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of a file's bytes, read in blocks."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(HASH_BLOCK_BYTES), b""):
            digest.update(block)
    return digest.hexdigest()


def file_checksum(path: Path) -> str:
    """``sha256:<hex>`` of a file, or ``fingerprint:<hex>`` for files over :data:`FULL_CHECKSUM_BYTES`.

    Memoised on the file's device, inode, size, modification and change times: any write
    to the file (even one that restores the modification time) changes its change time,
    so a memoised checksum is never stale, and a run hashes each input once. A checksum
    started by :func:`prefetch_checksums` for the same identity is waited for, not redone.
    """
    path = Path(path)
    identity = _identity(path)
    if identity in _CHECKSUMS:
        return _CHECKSUMS[identity]
    started = _IN_FLIGHT.pop(identity, None)
    if started is not None:
        return started.result()  # its error, if any, is raised here as if hashed here
    return _checksum(path, identity)


def prefetch_checksums(paths: list[Path]) -> None:
    """Start the checksums of ``paths`` (:func:`file_checksum`) on one background thread.

    Reading and hashing release the GIL, so a run's input files are hashed on the second
    core while the first reads and reduces them; the provenance record then finds them
    done. Files already hashed, or gone, are skipped.
    """
    pending = []
    for path in map(Path, paths):
        try:
            identity = _identity(path)
        except OSError:
            continue
        if identity not in _CHECKSUMS and identity not in _IN_FLIGHT:
            _IN_FLIGHT[identity] = Future()
            pending.append((path, identity, _IN_FLIGHT[identity]))
    if pending:
        # A daemon thread: a run that fails or is interrupted before its provenance record
        # exits at once instead of waiting for checksums nobody will read.
        threading.Thread(target=_hash_in_order, args=(pending,), name="rhbench-checksums", daemon=True).start()


def _hash_in_order(pending: list[tuple[Path, tuple, Future]]) -> None:
    """Compute each prefetched checksum into its future (an error is kept for the reader)."""
    for path, identity, future in pending:
        if not future.set_running_or_notify_cancel():
            continue
        try:
            future.set_result(_checksum(path, identity))
        except Exception as error:  # re-raised by file_checksum, as if hashed there
            future.set_exception(error)


def _identity(path: Path) -> tuple:
    stat = path.stat()
    return (str(path.resolve()), stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns)


def _checksum(path: Path, identity: tuple) -> str:
    """The checksum of ``path`` (whose identity is ``identity``), memoised."""
    size, mtime_ns = identity[3], identity[4]
    if size <= FULL_CHECKSUM_BYTES:
        checksum = f"sha256:{sha256_of(path)}"
    else:
        with path.open("rb") as handle:
            digest = hashlib.sha256(handle.read(HASH_BLOCK_BYTES))
        digest.update(f"{size}|{mtime_ns}".encode())
        checksum = f"fingerprint:{digest.hexdigest()}"
    _CHECKSUMS[identity] = checksum
    return checksum


def refuse_to_overwrite(path: Path, force: bool) -> None:
    """Raise :class:`OutputExistsError` when ``path`` is a file, or a non-empty folder and not ``force``."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise OutputExistsError("output path exists and is not a folder", file=str(path))
    if path.is_dir() and any(path.iterdir()) and not force:
        raise OutputExistsError(
            "output folder is not empty; choose another --out or pass --force",
            file=str(path),
            expected="a new or empty folder",
        )


def broken_link(path: Path) -> Path | None:
    """The symbolic link to a missing path at ``path`` or at a folder above it, else None.

    A link the user made whose target is gone (an unmounted share) is not an absent file:
    the user set the file up. Callers refuse it naming the link (``os.readlink``).
    """
    for link in (Path(path), *Path(path).parents):
        if link.is_symlink() and not link.exists():
            return link
    return None


def broken_link_message(link: Path) -> str:
    """The one description of a symbolic link that leads nowhere, naming the link and its target."""
    target = os.readlink(link)
    try:
        os.stat(link)
    except OSError as exc:
        loops = exc.errno == errno.ELOOP
    else:
        loops = False
    why = "it loops" if loops else "its target is missing (an unmounted share?)"
    return f"broken symbolic link {link} -> {target}: {why}; restore its target or remove the link"


def refuse_broken_link(
    path: Path, error: type[RhbenchError] = DataError, *, source: str | None = None, expected: str
) -> None:
    """Raise ``error`` (the caller's context: :class:`DataError` for an input,
    :class:`OutputExistsError` for a destination) when ``path`` or a folder above it is a
    symbolic link to nothing; the error names the link, its target and ``expected``."""
    link = broken_link(path)
    if link is not None:
        raise error(broken_link_message(link), source=source, file=str(link), expected=expected)
