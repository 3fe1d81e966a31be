"""Intake catalogs: where each source's files are, and metadata read without opening data.

Catalogs are intake 2 YAML files (``version: 2``). Each source has one entry whose
``metadata`` holds ``kind``, ``citation``, ``license``, ``period``, ``url`` and ``files``
(per variable, a path relative to the data root). A variable's name and units in the file
are declared once, by the plugin (:class:`rhbench.sources.Var`), not here (a catalog
``units`` that contradicts the plugin is refused). The data root comes from
``--data-root``, the config file, or ``RHBENCH_DATA`` (:func:`rhbench.config.resolve_data_root`).
"""

from __future__ import annotations

import contextlib
import contextvars
import errno
import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path, PurePosixPath, PureWindowsPath

import yaml

from rhbench import catalogparse, runscope
from rhbench.config import DATA_ROOT_ENV, resolve_data_root  # noqa: F401  (re-exported; defined once in config)
from rhbench.errors import CatalogError, ConfigError, DataError, RhbenchError
from rhbench.sources import Source

#: The catalogs shipped with rhbench.
BUILTIN_CATALOG_DIR = Path(__import__("rhbench.catalogs").catalogs.__file__).resolve().parent
_WINERROR_CANT_RESOLVE_FILENAME = 1921  #: Windows' error for links that loop (as pathlib checks it)
#: Catalog paths under this prefix are files in ILAMB's data layout (``ILAMB/DATA/<variable>/<product>/<file>``).
ILAMB_PREFIX = "ILAMB/"
_ILAMB_ROOT: contextvars.ContextVar[Path | None] = contextvars.ContextVar("rhbench_ilamb_root", default=None)


@dataclass(frozen=True)
class CatalogEntry:
    """One source's catalog metadata."""

    catalog_file: Path
    name: str
    metadata: dict

    @property
    def files(self) -> dict[str, str]:
        """Canonical variable -> file path relative to the data root."""
        return dict(self.metadata.get("files", {}))

    @property
    def built_by(self) -> str | None:
        """The rhbench stage that builds the product when its file is absent (``upscaling``), or None."""
        return self.metadata.get("built_by")

    def path(self, variable: str, data_root: Path) -> Path:
        """The file of ``variable`` under ``data_root``, through :func:`resolve_file`."""
        return resolve_file(data_root, self.files[variable], source=self.name, variable=variable)


#: The loader of rhbench's own catalogs: libyaml's safe loader when PyYAML has it (about 10x
#: faster), else the pure-Python one; both build the same documents. Third-party catalogs keep
#: the pure-Python loader, whose recursion limit refuses absurdly nested documents.
_BUILTIN_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _safe_yaml(stream, loader_class: type) -> object:
    """One YAML document read with ``loader_class``, one of the two safe loaders above."""
    loader = loader_class(stream)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def _load_catalog(path: Path) -> dict[str, object]:
    """Entry name -> entry metadata of the intake 2 catalog at ``path``, parsed once per content.

    The parse is cached by the path AND the SHA-256 of the file's bytes (a catalog is a few kB: the
    read and hash cost microseconds, the parse milliseconds), so a catalog edited in a long-lived
    process (a notebook, a service) is read again, even at the same size within the file system's
    timestamp granularity; an unchanged file is parsed once. Within a run the file is read once
    (:mod:`rhbench.runscope`)."""
    return _parsed_catalog(path, runscope.resolved(("catalog digest", str(path)), lambda: _digest(path)))


def _digest(path: Path) -> str | None:
    """SHA-256 of ``path``'s bytes; None when it cannot be read (said by the parse)."""
    with contextlib.suppress(OSError):
        return hashlib.sha256(path.read_bytes()).hexdigest()
    return None


@lru_cache(maxsize=32)
def _parsed_catalog(path: Path, digest: str | None) -> dict[str, object]:
    """:func:`_load_catalog`'s parse of ``path`` whose bytes have SHA-256 ``digest`` (the cache key).

    Third-party catalogs are read through intake, which checks them. rhbench's own catalogs
    (checked through intake by the test suite, ``test_builtin_catalogs_read_alike``) are read
    from their YAML document directly, so a run need not import intake (~0.06 s)."""
    if not path.is_file():
        raise CatalogError("catalog file not found", file=str(path), expected="an intake 2 YAML catalog")
    try:
        if path.parent == BUILTIN_CATALOG_DIR:
            document = catalogparse.kept_or_parsed(path, digest, _parse_builtin)
        else:
            with path.open(encoding="utf-8") as handle:
                document = _safe_yaml(handle, yaml.SafeLoader)
    except UnicodeDecodeError as exc:
        raise CatalogError(f"catalog is not UTF-8 text: {exc}", file=str(path), expected="UTF-8 YAML") from None
    except RecursionError:
        raise CatalogError("catalog is nested too deeply to read", file=str(path)) from None
    except (OSError, yaml.YAMLError) as exc:
        raise CatalogError(f"catalog is not valid YAML: {exc}", file=str(path)) from exc
    if not isinstance(document, dict) or document.get("version") != 2 or "entries" not in document:
        raise CatalogError(
            "not an intake 2 catalog",
            file=str(path),
            found=type(document).__name__,
            expected="mapping with version: 2 and entries",
        )
    if path.parent == BUILTIN_CATALOG_DIR:
        return {name: (entry or {}).get("metadata") for name, entry in document["entries"].items()}
    return _intake_entries(document, path)


def _parse_builtin(path: Path) -> object:
    """One of rhbench's own catalogs parsed with :data:`_BUILTIN_LOADER`."""
    with path.open(encoding="utf-8") as handle:
        return _safe_yaml(handle, _BUILTIN_LOADER)


_load_catalog.cache_clear = _parsed_catalog.cache_clear  # type: ignore[attr-defined]  (tests start afresh)


def _intake_entries(document: dict, path: Path) -> dict[str, object]:
    """Entry name -> metadata of a catalog ``document`` as intake reads it."""
    import intake  # ~0.06 s: only for third-party catalogs

    try:
        catalog = intake.entry.Catalog.from_dict(document)
    except RecursionError:
        raise CatalogError("catalog is nested too deeply to read", file=str(path)) from None
    except Exception as exc:  # intake raises assorted errors on malformed entries
        raise CatalogError(f"intake could not read the catalog: {exc}", file=str(path)) from exc
    return {name: entry.metadata for name, entry in catalog.entries.items()}


def catalog_path(source: Source) -> Path:
    """The YAML file holding ``source``'s entry."""
    folder = Path(source.catalog_dir) if source.catalog_dir else BUILTIN_CATALOG_DIR
    path = folder / f"{source.catalog_name}.yaml"
    return runscope.resolved(("catalog", str(path)), path.resolve)  # once per run


def entry_for(source: Source) -> CatalogEntry:
    """Read ``source``'s catalog entry metadata (no data is opened); read and checked once per source
    within a run (:mod:`rhbench.runscope`: the registry, the provenance and the loaders ask ~90 times)."""
    path = catalog_path(source)
    kept = runscope.resolved(("entry", str(path), id(source)), lambda: (source, _entry_of(source, path)))
    return kept[1]  # the memo holds ``source`` itself, so its id names no other object during the run


def _entry_of(source: Source, path: Path) -> CatalogEntry:
    """:func:`entry_for`'s read and checks of ``source``'s entry in the catalog file ``path``."""
    try:
        entries = _load_catalog(path)
    except CatalogError as exc:
        raise exc.add_context(source=source.name) from None
    if source.entry_name not in entries:
        raise CatalogError(
            "catalog has no entry for the source",
            source=source.name,
            file=str(path),
            found=sorted(entries)[:10],
            expected=source.entry_name,
        )
    metadata = entries[source.entry_name] or {}
    if not isinstance(metadata, dict):
        raise CatalogError(
            "catalog entry metadata is not a mapping", source=source.name, file=str(path), found=metadata
        )
    metadata = dict(metadata)
    for key in ("files", "units"):
        _check_text_mapping(metadata.get(key, {}), key, source=source.name, file=str(path))
    for variable, relative in metadata.get("files", {}).items():
        try:
            check_relative(relative, source=source.name, variable=variable)
        except CatalogError as exc:
            raise exc.add_context(file=str(path)) from None
    _check_no_second_units(source, metadata.get("units", {}), file=str(path))
    _check_no_second_quirks(source, metadata.get("quirks"), file=str(path))
    missing = sorted(set(source.variables) - set(metadata.get("files", {})))
    if missing:
        raise CatalogError(
            "catalog entry lists no file for variables", source=source.name, file=str(path), variable=", ".join(missing)
        )
    return CatalogEntry(path, source.entry_name, metadata)


def _check_text_mapping(value: object, key: str, *, source: str, file: str) -> None:
    """Refuse ``files``/``units`` metadata that is not a mapping of text to text (e.g. ``rh: 12345``)."""
    if not isinstance(value, dict):
        raise CatalogError(
            f"catalog entry metadata {key!r} is not a mapping", source=source, file=file, found=type(value).__name__
        )
    for variable, text in value.items():
        if not isinstance(variable, str) or not isinstance(text, str) or not text.strip():
            raise CatalogError(
                f"catalog entry metadata {key!r} must map variable names to text",
                source=source,
                file=file,
                variable=str(variable),
                found=repr(text)[:80],
                expected="a path relative to the data root" if key == "files" else "a units string",
            )


def check_relative(
    relative: object, *, source: str | None = None, variable: str | None = None, data_root: object = "the data root"
) -> PurePosixPath:
    """``relative`` as a path when it is text, not absolute, without ``..``; else :class:`CatalogError`."""
    where = {"source": source, "variable": variable, "expected": f"a relative path without '..' inside {data_root}"}
    if not isinstance(relative, str) or not relative.strip() or "\x00" in relative:
        raise CatalogError("catalog path is not a file path", found=repr(relative)[:80], **where)
    posix, escape = _parsed_relative(str(relative))
    if escape is not None:
        raise CatalogError(f"catalog path escapes the data root: {escape}", file=relative, **where)
    return posix


@lru_cache(maxsize=1024)
def _parsed_relative(relative: str) -> tuple[PurePosixPath, str | None]:
    """``relative`` as a POSIX path, and how it escapes the data root (None when it does not):
    parsed once per text (a run checks each catalog path ~4 times)."""
    posix, windows = PurePosixPath(relative), PureWindowsPath(relative)
    if posix.is_absolute() or windows.drive or windows.root:
        return posix, "it is absolute"
    if ".." in posix.parts or ".." in windows.parts:
        return posix, "it contains '..'"
    return posix, None


@contextlib.contextmanager
def using_ilamb_root(ilamb_root: str | os.PathLike | None) -> Iterator[None]:
    """Within the block, ``ILAMB/`` catalog paths resolve in ``ilamb_root`` (a run's ``ilamb_root`` setting)."""
    token = _ILAMB_ROOT.set(Path(ilamb_root).expanduser().resolve() if ilamb_root else None)
    try:
        yield
    finally:
        _ILAMB_ROOT.reset(token)


def _check_no_second_units(source: Source, written: dict[str, str], *, file: str) -> None:
    """A source's units are declared once, by its plugin (``Var``); a catalog ``units`` that says otherwise is refused.

    Catalogs no longer carry ``units``; an older catalog that still does is accepted only
    where it repeats the plugin's declaration word for word (it is never read).
    """
    for variable, units in written.items():
        declared = source.variables[variable].units if variable in source.variables else None
        if declared is not None and units.strip() != declared.strip():
            raise CatalogError(
                "catalog units contradict the plugin: a source's units are declared once, by its plugin's "
                "Var(file_name, units); remove `units` from the catalog entry",
                source=source.name,
                file=file,
                variable=variable,
                found=units,
                expected=declared,
            )


def _check_no_second_quirks(source: Source, written: object, *, file: str) -> None:
    """A source's quirks are declared once, by its plugin (``quirks=``); the catalog's ``quirks`` are
    never read, so one the plugin does not declare (e.g. ``litter_in_soil`` written in the catalog
    only, which changes what is read) is refused rather than silently ignored."""
    if written is None:
        return
    listed = written if isinstance(written, list) else [written]
    extra = sorted(str(q) for q in listed if str(q) not in source.quirks)
    if extra:
        raise CatalogError(
            "catalog quirks the plugin does not declare: quirks are declared once, by the plugin "
            "(trendy_dgvm(..., quirks=(...))), and the catalog's are not read",
            source=source.name,
            file=file,
            found=extra,
            expected=sorted(source.quirks),
            hint="move them to the plugin's quirks and remove `quirks` from the catalog entry",
        )


def resolve_ilamb_root(data_root: Path | None, ilamb_root: str | os.PathLike | None = None) -> Path | None:
    """The ILAMB data folder: ``ilamb_root`` if given (e.g. a user's ``$ILAMB_ROOT``), else the one of the
    enclosing :func:`using_ilamb_root` block, else ``<data root>/ILAMB``.

    Never read from the environment implicitly: a demo run must not pick up real files.
    """
    if ilamb_root:
        return Path(ilamb_root).expanduser().resolve()
    if _ILAMB_ROOT.get() is not None:
        return _ILAMB_ROOT.get()
    return None if data_root is None else Path(data_root).resolve() / ILAMB_PREFIX.rstrip("/")


def _resolve_ilamb(data_root: Path | None, relative: str, source: str | None, ilamb_root) -> Path:
    """A catalog path ``ILAMB/DATA/<key>`` inside the ILAMB data folder, classic or ilamb3 layout.

    ILAMB keeps ``$ILAMB_ROOT/DATA/<key>``, ilamb3's registry ``$ILAMB_ROOT/<key>``; the first
    that exists is used, else the classic path (where ``rhbench fetch`` puts the file).
    """
    root = resolve_ilamb_root(data_root, ilamb_root)
    if root is None:
        raise ConfigError("no data root and no ILAMB_ROOT for an ILAMB-hosted file", source=source, file=relative)
    inner = relative[len(ILAMB_PREFIX) :]
    candidates = [root / inner]
    if inner.startswith("DATA/"):
        candidates.append(root / inner[len("DATA/") :])
    for path in candidates:
        _check_no_link_loop(path, source, relative, root)
    return next((path for path in candidates if path.exists()), candidates[0])


def declared_paths(source: Source, data_root: Path) -> list[Path] | None:
    """Where ``source``'s catalog entry puts each of its variables' files under ``data_root`` (not checked
    to exist), or None when the entry cannot be read (a failure the loader reports, naming it)."""
    try:
        entry = entry_for(source)
        return [resolve_file(data_root, entry.files[name], source=source.name) for name in source.variables]
    except (RhbenchError, KeyError):
        return None


def resolve_file(
    data_root: Path | None,
    relative: object,
    *,
    source: str | None = None,
    variable: str | None = None,
    ilamb_root: str | os.PathLike | None = None,
) -> Path:
    """The one resolver of catalog paths: ``data_root / relative``, refusing escapes.

    Every path from a catalog goes through here, for reading, hashing and writing alike.
    ``relative`` must be text naming a path inside the data root: not absolute (no leading
    ``/``, ``\\`` or drive letter), no ``..`` component, no NUL byte. Symbolic links the user
    made inside the data root (e.g. ``obs -> /mnt/shared/obs``) are followed wherever they point:
    the data root is the user's own tree, and a catalog can only name paths below it.

    Paths starting ``ILAMB/`` are ILAMB-hosted files in ILAMB's layout; they resolve inside
    the ILAMB data folder (see :func:`resolve_ilamb_root`), so an existing ILAMB_ROOT serves
    as it is, without copying or renaming.

    Raises
    ------
    ConfigError: no data root.
    CatalogError: ``relative`` is not text, is empty, or escapes the data root.
    DataError: a symbolic link loop.
    """
    if data_root is None:
        raise ConfigError("no data root: pass --data-root, set data_root in the config or RHBENCH_DATA", source=source)
    posix = check_relative(relative, source=source, variable=variable, data_root=data_root)
    key = ("file", str(data_root), relative, str(ilamb_root or ""), _ILAMB_ROOT.get())
    return runscope.resolved(key, lambda: _resolved(data_root, relative, posix, source, ilamb_root))


def _resolved(data_root: Path, relative: str, posix: PurePosixPath, source: str | None, ilamb_root) -> Path:
    """:func:`resolve_file`'s work (once per run: :func:`rhbench.runscope.resolved`)."""
    if relative.startswith(ILAMB_PREFIX):
        return _resolve_ilamb(data_root, relative, source, ilamb_root)
    path = runscope.resolved(("root", str(data_root)), lambda: Path(data_root).resolve()) / posix
    _check_no_link_loop(path, source, relative, data_root)
    return path


def _check_no_link_loop(path: Path, source: str | None, relative: str, data_root: Path) -> None:
    """Raise :class:`DataError` when following the symbolic links of ``path`` loops: ``os.stat`` says
    so (ELOOP), the check ``Path.resolve`` makes after resolving each component (one system call
    instead of one per component; any other error, a missing file, is the reader's to report)."""
    try:
        os.stat(path)
    except OSError as exc:
        if exc.errno != errno.ELOOP and getattr(exc, "winerror", 0) != _WINERROR_CANT_RESOLVE_FILENAME:
            return
        raise DataError(
            f"cannot resolve the path: a looping symbolic link? ({exc})",
            source=source,
            file=relative,
            expected=f"a path inside {data_root} without a symbolic link loop",
        ) from exc
