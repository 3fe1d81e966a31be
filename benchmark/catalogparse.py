"""The built-in catalogs' YAML parse, kept in the cache folder for the next process.

libyaml's parse of rhbench's two catalogs takes ~6 ms in every fresh process; read back from
``RHBENCH_CACHE/catalogs/<SHA-256 of the YAML>-py<X.Y>-yaml<version>.marshal`` it takes ~0.5 ms.
marshal writes back exactly the strings, numbers, booleans, None, lists and mappings YAML built;
a document with anything else (a date) is not kept, a kept file that cannot be read is parsed and
written again, and a cache folder that cannot be written just parses. An edited catalog has
another SHA-256, so its old parse is never used.
"""

from __future__ import annotations

import contextlib
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
        document = marshal.loads(kept.read_bytes()) if kept is not None and kept.is_file() else None
    if isinstance(document, dict):
        return document
    document = parse(path)
    with contextlib.suppress(OSError, ValueError):  # not kept: parsed again by the next process
        if kept is not None:
            data = marshal.dumps(document)
            write_atomic(kept, lambda temporary: temporary.write_bytes(data))
    return document
