"""Safe file operations shared by every writer: atomic writes, checksums, overwrite protection."""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from rhbench.errors import OutputExistsError

#: Bytes read per step when hashing a file.
HASH_BLOCK_BYTES = 1 << 20


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


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of a file's bytes, read in blocks."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(HASH_BLOCK_BYTES), b""):
            digest.update(block)
    return digest.hexdigest()


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
