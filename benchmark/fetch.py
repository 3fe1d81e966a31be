"""Download a public dataset named by a plugin, verify its checksum, place it under the data root.

A source is downloadable when its catalog entry's ``metadata`` records ``url`` (a direct
link to the file) and ``sha256``, and ``files`` names exactly one file: the download lands
at that path relative to the data root. The bytes go first to a ``.part`` file in
``<data root>/.partial/``, never at the final path; only a file whose SHA-256 matches the
catalog is moved into place (atomically), so a half-finished or corrupt download is never
mistaken for data.
"""

from __future__ import annotations

import hashlib
import logging
import os
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rhbench import catalog
from rhbench.errors import ChecksumError, ConfigError, DataError, OutputExistsError
from rhbench.fileops import sha256_of
from rhbench.registry import Registry
from rhbench.sources import Source

log = logging.getLogger(__name__)

#: Folder under the data root that holds partial downloads.
PARTIAL_DIR = ".partial"
CHUNK_BYTES = 1 << 20
TIMEOUT_S = 60.0

#: Called as ``progress(bytes_done, bytes_total_or_None)`` while downloading.
ProgressCallback = Callable[[int, int | None], None]


@dataclass(frozen=True)
class Download:
    """What to download for one source and where it goes.

    Attributes
    ----------
    source: the source's name.
    url: where the file is published.
    sha256: its expected SHA-256 (hex).
    relative_path: its path under the data root (the catalog's ``files`` entry).
    """

    source: str
    url: str
    sha256: str
    relative_path: str


def find_source(registry: Registry, name: str) -> Source:
    """The source called ``name``: exact source name, else case-insensitive name or plugin name.

    Raises :class:`ConfigError` listing the known names when none (or several) match.
    """
    if name in registry.sources:
        return registry.sources[name]
    wanted = name.casefold()
    matches = [s for s in registry.sources.values() if wanted in (s.name.casefold(), s.plugin.casefold())]
    if len(matches) == 1:
        return matches[0]
    raise ConfigError(
        "no single source of that name",
        found=name if not matches else [s.name for s in matches],
        expected=sorted(registry.sources),
    )


def download_spec(source: Source) -> Download:
    """The download recorded in ``source``'s catalog entry.

    Raises
    ------
    ConfigError
        When the entry records no ``sha256`` or ``url``, or names more than one file
        (the message quotes the entry's licence and URL, e.g. TRENDY's data policy).
    """
    entry = catalog.entry_for(source)
    meta = entry.metadata
    files = sorted(set(entry.files.values()))
    if not meta.get("url") or not meta.get("sha256") or len(files) != 1:
        raise ConfigError(
            "source is not downloadable by rhbench: its catalog entry needs a direct 'url', a "
            "'sha256' and exactly one file; obtain the data as its licence says and place it "
            "under the data root",
            source=source.name,
            file=str(entry.catalog_file),
            found=f"license {meta.get('license')!r}; url {meta.get('url')!r}; "
            f"sha256 {meta.get('sha256')!r}; {len(files)} file(s)",
            expected="metadata url + sha256 and one file",
        )
    return Download(source.name, str(meta["url"]), str(meta["sha256"]).lower(), files[0])


def _stream(url: str, part: Path, progress: ProgressCallback | None) -> str:
    """Copy ``url`` into ``part``; return the SHA-256 of the bytes written."""
    digest = hashlib.sha256()
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response, part.open("wb") as out:
            length = response.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
            done = 0
            for block in iter(lambda: response.read(CHUNK_BYTES), b""):
                out.write(block)
                digest.update(block)
                done += len(block)
                if progress:
                    progress(done, total)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        part.unlink(missing_ok=True)
        raise DataError(f"download failed: {exc}", file=url) from exc
    return digest.hexdigest()


def fetch(
    spec: Download,
    data_root: Path,
    *,
    url: str | None = None,
    force: bool = False,
    progress: ProgressCallback | None = None,
) -> Path:
    """Download ``spec`` into ``data_root`` and return the file's final path.

    Parameters
    ----------
    spec: what to download (see :func:`download_spec`).
    data_root: the data root; the file goes to ``data_root / spec.relative_path``.
    url: download from here instead of ``spec.url`` (a mirror or a ``file://`` copy);
        the catalog's checksum still applies.
    force: replace an existing file whose checksum differs.
    progress: called with (bytes done, bytes total or None) after each chunk.

    Raises
    ------
    ChecksumError
        When the downloaded bytes do not match ``spec.sha256`` (the partial file is deleted).
    OutputExistsError
        When a different file is already at the destination and ``force`` is False.
    DataError
        When the download itself fails.
    """
    data_root = Path(data_root).resolve()
    target = catalog.resolve_file(data_root, spec.relative_path, source=spec.source)
    if target.exists():
        if sha256_of(target) == spec.sha256:
            log.info("%s is already present with the right checksum: %s", spec.source, target)
            return target
        if not force:
            raise OutputExistsError(
                "a different file is already at the destination; pass --force to replace it",
                source=spec.source,
                file=str(target),
                expected=f"sha256 {spec.sha256}",
            )
    part = data_root / PARTIAL_DIR / f"{spec.source}-{target.name}.part"
    part.parent.mkdir(parents=True, exist_ok=True)
    link = url or spec.url
    log.info("downloading %s from %s", spec.source, link)
    found = _stream(link, part, progress)
    if found != spec.sha256:
        part.unlink(missing_ok=True)
        raise ChecksumError(
            "downloaded file does not match the catalog checksum; nothing was kept",
            source=spec.source,
            file=link,
            found=f"sha256 {found}",
            expected=f"sha256 {spec.sha256}",
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(part, target)
    log.info("%s placed at %s", spec.source, target)
    return target
