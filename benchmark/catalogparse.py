"""The built-in catalogs' YAML parse, kept in the cache folder for the next process.

libyaml's parse of rhbench's two catalogs takes ~6 ms in every fresh process; read back from
``RHBENCH_CACHE/catalogs/<SHA-256 of the YAML>-py<X.Y>-yaml<version>.marshal`` it takes ~0.5 ms.
marshal writes back exactly the strings, numbers, booleans, None, lists and mappings YAML built;
a document with anything else (a date) is not kept, a kept file that cannot be read is parsed and
written again, and a cache folder that cannot be written just parses. An edited catalog has
another SHA-256, so its old parse is never used; a kept file starts with the SHA-256 of the
marshal bytes after it, so a kept parse altered in the cache (a valid marshal of another
document: paths, units, pinned hashes) is parsed again, never used.
"""

from __future__ import annotations

import contextlib
import hashlib
import marshal
import sys
from collections.abc import Callable
from pathlib import Path

import yaml

from rhbench.fileops import cache_dir, write_atomic


def kept_path(digest: str) -> Path:
    """Where the parse of a catalog whose bytes have SHA-256 ``digest`` is kept (per Python and PyYAML version)."""
    version = f"py{sys.version_info[0]}{sys.version_info[1]}-yaml{yaml.__version__}"
    return cache_dir() / "catalogs" / f"{digest}-{version}.marshal"


def kept_or_parsed(path: Path, digest: str | None, parse: Callable[[Path], object]) -> object:
    """The YAML document of catalog ``path`` (bytes of SHA-256 ``digest``): as the first process that
    read these bytes parsed and kept it, else ``parse(path)``, then kept."""
    try:
        kept = kept_path(digest) if digest else None
    except OSError:  # no cache folder
        kept = None
    document = None
    with contextlib.suppress(OSError, ValueError, EOFError, TypeError):  # damaged: parsed and written again
        document = _unsealed(kept.read_bytes()) if kept is not None and kept.is_file() else None
    if isinstance(document, dict):
        return document
    document = parse(path)
    with contextlib.suppress(OSError, ValueError):  # not kept: parsed again by the next process
        if kept is not None:
            data = marshal.dumps(document)
            write_atomic(kept, lambda temporary: temporary.write_bytes(hashlib.sha256(data).digest() + data))
    return document


def _unsealed(kept: bytes) -> object:
    """The document of a kept file (its marshal bytes after their 32-byte SHA-256); None when the
    bytes do not match their digest (altered, truncated, or written by an rhbench before the digest)."""
    digest, data = kept[:32], kept[32:]
    return marshal.loads(data) if len(digest) == 32 and hashlib.sha256(data).digest() == digest else None
