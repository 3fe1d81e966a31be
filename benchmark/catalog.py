"""Intake catalogs: where each source's files are, and metadata read without opening data.

Catalogs are intake 2 YAML files (``version: 2``). Each source has one entry whose
``metadata`` holds ``kind``, ``citation``, ``license``, ``period``, ``url``, ``units``
(per variable, as in the file) and ``files`` (per variable, a path relative to the data
root). The data root comes from ``--data-root``, the config file, or ``RHBENCH_DATA``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import intake
import yaml

from rhbench.config import DATA_ROOT_ENV, resolve_data_root  # noqa: F401  (re-exported; defined once in config)
from rhbench.errors import CatalogError, ConfigError, DataError
from rhbench.sources import Source

#: The catalogs shipped with rhbench.
BUILTIN_CATALOG_DIR = Path(__import__("rhbench.catalogs").catalogs.__file__).resolve().parent


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

    @property
    def units(self) -> dict[str, str]:
        """Canonical variable -> units as written in the file."""
        return dict(self.metadata.get("units", {}))


@lru_cache(maxsize=32)
def _load_catalog(path: Path) -> intake.entry.Catalog:
    if not path.is_file():
        raise CatalogError("catalog file not found", file=str(path), expected="an intake 2 YAML catalog")
    try:
        with path.open(encoding="utf-8") as handle:
            document = yaml.safe_load(handle)
    except yaml.YAMLError as exc:
        raise CatalogError(f"catalog is not valid YAML: {exc}", file=str(path)) from exc
    if not isinstance(document, dict) or document.get("version") != 2 or "entries" not in document:
        raise CatalogError(
            "not an intake 2 catalog",
            file=str(path),
            found=type(document).__name__,
            expected="mapping with version: 2 and entries",
        )
    try:
        return intake.entry.Catalog.from_dict(document)
    except Exception as exc:  # intake raises assorted errors on malformed entries
        raise CatalogError(f"intake could not read the catalog: {exc}", file=str(path)) from exc


def catalog_path(source: Source) -> Path:
    """The YAML file holding ``source``'s entry."""
    folder = Path(source.catalog_dir) if source.catalog_dir else BUILTIN_CATALOG_DIR
    return (folder / f"{source.catalog_name}.yaml").resolve()


def entry_for(source: Source) -> CatalogEntry:
    """Read ``source``'s catalog entry metadata (no data is opened)."""
    path = catalog_path(source)
    try:
        catalog = _load_catalog(path)
    except CatalogError as exc:
        raise exc.add_context(source=source.name) from None
    if source.entry_name not in catalog.entries:
        raise CatalogError(
            "catalog has no entry for the source",
            source=source.name,
            file=str(path),
            found=sorted(catalog.entries)[:10],
            expected=source.entry_name,
        )
    metadata = dict(catalog.entries[source.entry_name].metadata or {})
    missing = sorted(set(source.variables) - set(metadata.get("files", {})))
    if missing:
        raise CatalogError(
            "catalog entry lists no file for variables", source=source.name, file=str(path), variable=", ".join(missing)
        )
    return CatalogEntry(path, source.entry_name, metadata)


def resolve_file(data_root: Path, relative: str, *, source: str | None = None) -> Path:
    """Join a catalog path to the data root, refusing paths that escape it."""
    if data_root is None:
        raise ConfigError("no data root: pass --data-root, set data_root in the config or RHBENCH_DATA", source=source)
    try:
        path = (data_root / relative).resolve()
    except (RuntimeError, OSError) as exc:  # Python raises RuntimeError on a symlink loop
        raise DataError(
            f"cannot resolve the path: a looping symbolic link? ({exc})",
            source=source,
            file=relative,
            expected=f"a path inside {data_root} without a symbolic link loop",
        ) from exc
    if not path.is_relative_to(data_root.resolve()):
        raise CatalogError(
            "catalog path escapes the data root", source=source, file=relative, expected=f"a path inside {data_root}"
        )
    return path
