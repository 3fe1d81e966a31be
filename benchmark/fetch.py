"""Download the public files a source's catalog entry pins, verify their hashes, place them in the data root.

A catalog entry pins its downloads in ``metadata.download``, one per variable::

    download:
      cSoil:
        url: https://www.ilamb.org/ILAMB-Data/DATA/cSoil/HWSD/soilc_0.5x0.5.nc
        hash: sha1:5dd084a66a7e0d0b4ca6125db47af0eb0c119377

(``hash`` is ``<algorithm>:<hex>``, any algorithm pooch knows: sha256, sha1, md5). The older
single-file form, ``url`` + ``sha256`` with exactly one file, is read too. The file lands at the
entry's ``files`` path for that variable (paths starting ``ILAMB/`` in the ILAMB data folder,
see :func:`rhbench.catalog.resolve_file`).

Downloads go through pooch (http, https, ftp, doi URLs), plus a ``file://`` downloader for
local mirrors; pooch writes to a temporary file beside the target and moves it into place
only when the hash matches, so a half-finished or corrupt download is never taken for data.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

import pooch

from rhbench import catalog, fileops
from rhbench.errors import ChecksumError, ConfigError, DataError, OutputExistsError
from rhbench.fileops import respect_umask
from rhbench.registry import Registry
from rhbench.sources import Source

log = logging.getLogger(__name__)

CHUNK_BYTES = 1 << 20

#: Called as ``progress(bytes_done, bytes_total_or_None)`` while downloading.
ProgressCallback = Callable[[int, int | None], None]


@dataclass(frozen=True)
class Download:
    """One file to download for a source.

    Attributes
    ----------
    source: the source's name.
    variable: the canonical variable the file holds.
    url: where the file is published.
    known_hash: ``<algorithm>:<hex>`` (e.g. ``sha256:...``, ``sha1:...``).
    relative_path: its catalog path (relative to the data root, or ``ILAMB/...``).
    """

    source: str
    variable: str
    url: str
    known_hash: str
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


def not_downloadable_reason(metadata: dict) -> str:
    """Why an entry without pinned downloads cannot be fetched (its licence and landing page)."""
    note = metadata.get("fetch_note") or "no public file with a pinned hash"
    return f"{note}; licence {metadata.get('license')!r}; see {metadata.get('url')!r}"


def download_specs(source: Source) -> list[Download]:
    """The downloads pinned in ``source``'s catalog entry, one per variable.

    Raises
    ------
    ConfigError
        When the entry pins none (the message quotes its licence and landing page), or pins
        a download for a variable the entry lists no file for.
    """
    entry = catalog.entry_for(source)
    meta, files = entry.metadata, entry.files
    pinned = dict(meta.get("download") or {})
    if not pinned and meta.get("sha256") and len(set(files.values())) == 1:
        variable = sorted(files)[0]
        pinned = {variable: {"url": meta.get("url"), "hash": f"sha256:{meta['sha256']}"}}
    if not pinned:
        raise ConfigError(
            "source is not downloadable by rhbench: obtain the data as its licence says and place it "
            "under the data root (`rhbench data` shows where)",
            source=source.name,
            file=str(entry.catalog_file),
            found=not_downloadable_reason(meta),
            expected="metadata download: {variable: {url, hash}}",
        )
    specs = []
    for variable, pin in sorted(pinned.items()):
        if variable not in files or not pin.get("url") or ":" not in str(pin.get("hash", "")):
            raise ConfigError(
                "download pin needs a file, a url and an '<algorithm>:<hex>' hash",
                source=source.name,
                file=str(entry.catalog_file),
                variable=variable,
                found=pin,
            )
        specs.append(Download(source.name, variable, str(pin["url"]), str(pin["hash"]).lower(), files[variable]))
    return specs


def download_spec(source: Source) -> Download:
    """The single download of a one-file source (see :func:`download_specs`)."""
    specs = download_specs(source)
    if len(specs) != 1:
        raise ConfigError("source pins several files", source=source.name, found=[s.variable for s in specs])
    return specs[0]


def hash_matches(path: Path, known_hash: str) -> bool:
    """True when ``path``'s hash equals ``known_hash`` (``<algorithm>:<hex>``)."""
    algorithm, _, expected = known_hash.partition(":")
    return pooch.file_hash(str(path), alg=algorithm) == expected


class _ProgressAdapter:
    """The progress-bar object pooch's downloaders drive (``total``, ``update``, ``reset``, ``close``)."""

    def __init__(self, callback: ProgressCallback) -> None:
        self.callback, self.total, self.done = callback, None, 0

    def update(self, n: int) -> None:
        self.done += n
        self.callback(self.done, self.total or None)

    def reset(self) -> None:
        self.done = 0

    def close(self) -> None:
        return None


def _local_downloader(progress: ProgressCallback | None):
    """A pooch downloader for ``file://`` URLs (local mirrors, tests)."""

    def copy(url: str, output_file, pooch_obj, check_only: bool = False) -> bool | None:
        path = Path(unquote(urlparse(url).path))
        if check_only:
            return path.is_file()
        if not path.is_file():
            raise FileNotFoundError(f"no file at {path}")
        total, done = path.stat().st_size, 0
        with path.open("rb") as src, open(output_file, "wb") as dst:
            for block in iter(lambda: src.read(CHUNK_BYTES), b""):
                dst.write(block)
                done += len(block)
                if progress:
                    progress(done, total)
        return None

    return copy


def _downloader(url: str, progress: ProgressCallback | None):
    if urlparse(url).scheme == "file":
        return _local_downloader(progress)
    bar = _ProgressAdapter(progress) if progress else False
    return pooch.downloaders.choose_downloader(url, progressbar=bar)


def fetch(
    spec: Download,
    data_root: Path,
    *,
    url: str | None = None,
    force: bool = False,
    progress: ProgressCallback | None = None,
    ilamb_root: Path | None = None,
) -> Path:
    """Download ``spec`` into the data root (or ILAMB folder) and return the file's final path.

    Parameters
    ----------
    spec: what to download (see :func:`download_specs`).
    data_root: the data root; the file goes to its catalog path there.
    url: download from here instead of ``spec.url`` (a mirror or a ``file://`` copy);
        the catalog's hash still applies.
    force: replace an existing file whose hash differs.
    progress: called with (bytes done, bytes total or None) while downloading.
    ilamb_root: the ILAMB data folder for ``ILAMB/`` paths (default ``<data root>/ILAMB``).

    Raises
    ------
    ChecksumError: the downloaded bytes do not match the hash (nothing is kept).
    OutputExistsError: a different file is at the destination and ``force`` is False.
    DataError: the download itself fails.
    """
    data_root = Path(data_root).resolve()
    target = catalog.resolve_file(data_root, spec.relative_path, source=spec.source, ilamb_root=ilamb_root)
    # a download would replace the user's link to a missing path (an unmounted share?), even with --force
    fileops.refuse_broken_link(
        target, OutputExistsError, source=spec.source, expected="no link, or a link to an existing file or folder"
    )
    if _already_there(spec, target, force=force):
        return target
    link = url or spec.url
    log.info("downloading %s (%s) from %s", spec.source, spec.variable, link)
    target.parent.mkdir(parents=True, exist_ok=True)
    _retrieve(spec, link, target, progress)
    respect_umask(target)  # pooch renames a 0600 temporary file into place
    log.debug("%s placed at %s", spec.source, target)  # the caller says where it is
    return target


def _already_there(spec: Download, target: Path, *, force: bool) -> bool:
    """True when ``target`` already holds the pinned bytes. A different file there is replaced (with
    ``force``) only once the download has verified: pooch downloads to a temporary file beside it and
    moves it over ``target`` after the hash check, so a download that fails keeps the user's file.

    A link at ``target`` is never written through: pooch's move replaces the link itself, so the
    file it points to (anywhere) keeps its bytes.

    Raises :class:`OutputExistsError` when a different file is there and ``force`` is False, and
    when a folder (or a link to one) is there, even with ``force``: rhbench never deletes a folder.
    """
    if not target.exists():
        return False
    if target.is_dir():
        raise OutputExistsError(
            "a folder is at the destination, not a file; rhbench never replaces a folder, even with --force: "
            "move it away (or fix the link) and fetch again",
            source=spec.source,
            file=str(target),
            found=_what_is_at(target),
            expected=f"no file there, or the file with {spec.known_hash}",
        )
    if hash_matches(target, spec.known_hash):
        log.info("%s is already present with the right hash: %s", spec.source, target)
        return True
    if not force:
        raise OutputExistsError(
            "a different file is already at the destination; pass --force to replace it"
            + (" (the link is replaced, the file it points to is kept)" if target.is_symlink() else ""),
            source=spec.source,
            file=str(target),
            found=_what_is_at(target),
            expected=spec.known_hash,
        )
    log.info("%s: the different file at %s is replaced once the download verifies", spec.source, target)
    return False


def _what_is_at(target: Path) -> str:
    """What is at ``target``, for an error: a folder, a file, or a link to one (naming where it points)."""
    kind = "a folder" if target.is_dir() else "a file"
    if target.is_symlink():
        return f"a symbolic link to {kind} elsewhere, {target.resolve()}"
    return kind if target.is_dir() else "a different file"


#: What to do when a download fails (no network, a proxy, a moved file): the file can come from elsewhere.
OFFLINE_HINT = (
    "check the network (behind a proxy: set HTTPS_PROXY), or get the file another way and give its path or "
    "a mirror with --url (the catalog's hash still applies)"
)


def _retrieve(spec: Download, link: str, target: Path, progress: ProgressCallback | None) -> None:
    """pooch's download of ``link`` to ``target`` with the hash check, its errors made rhbench's.

    pooch's own "Downloading data from ..." line is silenced: rhbench logged the download.
    """
    chatter = pooch.get_logger()
    level = chatter.level
    chatter.setLevel(logging.WARNING)
    try:
        pooch.retrieve(
            link,
            known_hash=spec.known_hash,
            fname=target.name,
            path=target.parent,
            downloader=_downloader(link, progress),
        )
    except ValueError as exc:
        if "hash" not in str(exc).lower():
            raise DataError(f"download failed: {exc}", source=spec.source, file=link) from exc
        raise ChecksumError(
            "downloaded file does not match the catalog hash; nothing was kept",
            source=spec.source,
            file=link,
            found=str(exc).splitlines()[0],
            expected=spec.known_hash,
        ) from exc
    except Exception as exc:  # requests/ftplib/OS errors: one typed error naming the URL
        raise DataError(f"download failed: {exc}", source=spec.source, file=link, hint=OFFLINE_HINT) from exc
    finally:
        chatter.setLevel(level)
