"""Gridded predictor stacks for the Random Forest Rh upscaling.

A :class:`PredictorStack` is a set of 2-D layers on one regular grid (``lat`` ascending,
``lon`` in [-180, 180)), in rhbench's canonical names and units, with the class labels of
its categorical layers and the provenance of the file it came from. It is built

- from a ``predictors`` plugin (e.g. Jian2020-predictors, the real 0.5 deg stack) through
  the one loader (:func:`load_stack`): the plugin's preprocess repairs the file's quirks,
  the catalog entry's ``categories`` name the codes of categorical layers;
- from the demo's climate grids ``tas`` (deg C), ``pr`` (mm yr-1) and ``vegclass`` (CF
  ``flag_values``/``flag_meanings``) with :func:`stack_from_grids`.

:data:`PREDICTOR_INFO` is the one table of predictor columns: the column name in the
design matrix (the paper's names), the paper's predictor group and the units.
Categorical layers enter the forest one-hot (``<prefix>_<label>``, 0/1) since their codes
have no order; they are never PCA inputs. ``abs_lat`` (|latitude|, degrees) is added to
every stack: the site's own latitude at the sites, the cell centre on the grid.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from rhbench import catalog, loader
from rhbench.datalabel import says_true
from rhbench.errors import DataError, MissingVariableError, UnitsError, ValueRangeError
from rhbench.fileops import sha256_of
from rhbench.grid import normalize_coordinates
from rhbench.sources import Source
from rhbench.vegclass import CLASS_NAMES

#: canonical layer -> (design-matrix column or one-hot prefix, paper group, units).
PREDICTOR_INFO: dict[str, tuple[str, str, str]] = {
    "tas": ("MAT", "climate", "degC"),
    "pr": ("MAP", "climate", "mm yr-1"),
    "ndep": ("Ndep", "climate", "g N m-2 yr-1"),
    "abs_lat": ("abs_lat", "climate", "degree"),
    "koppen": ("koppen", "climate", "1 (class)"),
    "agb_carbon": ("BMa", "vegetation", "kg C m-2"),
    "bgb_carbon": ("BMb", "vegetation", "kg C m-2"),
    "evi": ("EVI", "vegetation", "1"),
    "vegclass": ("veg", "vegetation", "1 (class)"),
    "bulk_density": ("BD", "soil abiotic", "g cm-3"),
    "clay": ("Clay", "soil abiotic", "percent"),
    "soc_stock": ("SOC", "soil abiotic", "kg C m-2"),
    "am_share": ("AM", "soil biotic", "percent"),
    "ecm_share": ("EcM", "soil biotic", "percent"),
    "erm_share": ("ErM", "soil biotic", "percent"),
    "nm_share": ("NM", "soil biotic", "percent"),
}
#: Physically possible range of each continuous layer in its canonical units (above): a
#: value outside is a scaling or units slip in the file (e.g. EVI stored unscaled, MAT in K).
#: The forest alone would not notice (a layer shifted or scaled alike at the sites and the
#: cells gives the same splits), but importance and partial dependence would report it.
PLAUSIBLE_RANGE: dict[str, tuple[float, float]] = {
    "tas": (-70.0, 50.0),
    "pr": (0.0, 15000.0),
    "ndep": (0.0, 20.0),
    "agb_carbon": (0.0, 100.0),
    "bgb_carbon": (0.0, 100.0),
    "evi": (-1.0, 1.0),
    "bulk_density": (0.0, 2.7),
    "clay": (0.0, 100.0),
    "soc_stock": (0.0, 200.0),
    "am_share": (0.0, 100.0),
    "ecm_share": (0.0, 100.0),
    "erm_share": (0.0, 100.0),
    "nm_share": (0.0, 100.0),
}
_TAS_UNITS = {"degc", "deg c", "degree_celsius", "degrees_celsius", "celsius", "c"}
_PR_UNITS = {"mm yr-1", "mm/yr", "mm year-1", "mm a-1", "mm yr^-1"}


@dataclass(frozen=True)
class PredictorStack:
    """Predictor layers on one grid, their categorical labels and provenance.

    Attributes
    ----------
    layers: Dataset of (lat, lon) layers named as in :data:`PREDICTOR_INFO`.
    categories: categorical layer -> {integer code: label}.
    provenance: source name, file, sha256, version, ``synthetic`` ("true"/"false").
    """

    layers: xr.Dataset
    categories: Mapping[str, Mapping[int, str]] = field(default_factory=dict)
    provenance: Mapping[str, str] = field(default_factory=dict)

    @property
    def synthetic(self) -> bool:
        """True when the layers are synthetic (demo) data."""
        return says_true(self.provenance.get("synthetic", "false"))

    @property
    def lat(self) -> np.ndarray:
        """Latitudes of the cell centres, degrees north."""
        return self.layers["lat"].values.astype(float)

    @property
    def lon(self) -> np.ndarray:
        """Longitudes of the cell centres, degrees east."""
        return self.layers["lon"].values.astype(float)

    def valid(self) -> np.ndarray:
        """(lat, lon) bool: every layer finite and every categorical code known."""
        ok = np.ones((self.lat.size, self.lon.size), dtype=bool)
        for name, layer in self.layers.data_vars.items():
            values = layer.values.astype(float)
            ok &= np.isfinite(values)
            if name in self.categories:
                ok &= np.isin(values, list(self.categories[name]))
        return ok

    def columns(self) -> list[str]:
        """Design-matrix columns in a fixed order (see :func:`design_matrix`)."""
        cols = []
        for name in self.layers.data_vars:
            prefix = PREDICTOR_INFO[str(name)][0]
            if name in self.categories:
                cols += [f"{prefix}_{_short(label)}" for _, label in sorted(self.categories[name].items())]
            else:
                cols.append(prefix)
        return cols + ["abs_lat"]


def _short(label: str) -> str:
    return str(label).split()[0]


def column_groups(columns: list[str]) -> dict[str, str]:
    """Paper group of each design-matrix column (one-hot columns by their prefix)."""
    by_prefix = {prefix: group for prefix, group, _ in PREDICTOR_INFO.values()}
    return {col: by_prefix.get(col, by_prefix.get(col.split("_", 1)[0], "other")) for col in columns}


def categorical_columns(columns: list[str], stack: PredictorStack) -> list[str]:
    """The one-hot columns of ``stack``'s categorical layers among ``columns``."""
    prefixes = {PREDICTOR_INFO[name][0] for name in stack.categories}
    return [c for c in columns if c.split("_", 1)[0] in prefixes and c not in PREDICTOR_INFO]


def design_matrix(values: Mapping[str, np.ndarray], abs_lat: np.ndarray, stack: PredictorStack) -> pd.DataFrame:
    """The forest's predictor table from layer values at some points (cells or sites).

    ``values``: layer name -> 1-D values in canonical units; ``abs_lat``: |latitude| of the
    points, degrees. Columns are :meth:`PredictorStack.columns`.
    """
    parts: dict[str, np.ndarray] = {}
    for name in stack.layers.data_vars:
        prefix = PREDICTOR_INFO[str(name)][0]
        data = np.asarray(values[name], dtype=float)
        if name in stack.categories:
            for code, label in sorted(stack.categories[name].items()):
                parts[f"{prefix}_{_short(label)}"] = (data == code).astype(float)
        else:
            parts[prefix] = data
    parts["abs_lat"] = np.abs(np.asarray(abs_lat, dtype=float))
    return pd.DataFrame(parts)[stack.columns()]


def grid_table(stack: PredictorStack) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Design matrix of every valid cell and the cells' (lat, lon) indices."""
    ilat, ilon = np.nonzero(stack.valid())
    values = {name: stack.layers[name].values[ilat, ilon] for name in stack.layers.data_vars}
    return design_matrix(values, stack.lat[ilat], stack), ilat, ilon


def load_stack(source: Source, path: Path) -> PredictorStack:
    """Every layer of a ``predictors`` source, through the loader (canonical units).

    The catalog entry's ``categories`` (layer -> {code: label}) mark categorical layers;
    provenance records the file's SHA-256 and the entry's ``version``.
    """
    path = Path(path)
    layers = {}
    for name in source.variables:
        if name not in PREDICTOR_INFO:
            raise MissingVariableError(
                "layer is not a known predictor",
                source=source.name,
                file=str(path),
                variable=name,
                expected=sorted(PREDICTOR_INFO),
            )
        data = loader.open_variable(source, name, path).compute()
        _check_range(data, name, source.name, path)
        layers[name] = data.drop_vars([c for c in data.coords if c not in ("lat", "lon")])
    meta = catalog.entry_for(source).metadata
    categories = {
        str(layer): {int(code): str(label) for code, label in labels.items()}
        for layer, labels in (meta.get("categories") or {}).items()
        if layer in layers
    }
    provenance = {
        "source": source.name,
        "file": path.name,
        "sha256": sha256_of(path),
        "version": str(meta.get("version", "")),
        "citation": source.citation,
        "synthetic": "false",
    }
    return PredictorStack(xr.Dataset(layers), categories, provenance)


def _check_range(data: xr.DataArray, name: str, source: str, path: Path) -> None:
    """Raise :class:`ValueRangeError` when a layer leaves :data:`PLAUSIBLE_RANGE`."""
    if name not in PLAUSIBLE_RANGE or not bool(data.notnull().any()):
        return
    low, high = PLAUSIBLE_RANGE[name]
    found_low, found_high = float(data.min()), float(data.max())
    if found_low < low or found_high > high:
        raise ValueRangeError(
            "predictor layer outside its physical range (scaling or units slip?)",
            source=source,
            file=str(path),
            variable=name,
            found=f"{found_low:g}..{found_high:g} {PREDICTOR_INFO[name][2]}",
            expected=f"{low:g}..{high:g} {PREDICTOR_INFO[name][2]}",
        )


def stack_from_grids(grids: xr.Dataset) -> PredictorStack:
    """A stack from the demo's ``tas`` (deg C), ``pr`` (mm yr-1) and ``vegclass`` grids.

    Raises
    ------
    MissingVariableError
        When ``tas``, ``pr`` or ``vegclass`` is absent.
    UnitsError
        When ``tas``/``pr`` declare units other than deg C / mm yr-1.
    DataError
        When ``vegclass`` lacks ``flag_values``/``flag_meanings`` or they differ in length.
    """
    for name in ("tas", "pr", "vegclass"):
        if name not in grids:
            raise MissingVariableError(
                "gridded predictor missing",
                source="predictors",
                variable=name,
                found=sorted(map(str, grids.data_vars)),
                expected="tas, pr, vegclass",
            )
    for name, allowed, label in (("tas", _TAS_UNITS, "degC"), ("pr", _PR_UNITS, "mm yr-1")):
        units = str(grids[name].attrs.get("units", label)).strip().lower()
        if units not in allowed:
            raise UnitsError(
                "unexpected units for a gridded predictor",
                source="predictors",
                variable=name,
                found=units,
                expected=label,
            )
    # only the paper's classes are predictors; other codes (e.g. "none") are not valid cells
    by_lower = {name.lower(): name for name in CLASS_NAMES}
    classes = {c: by_lower[n.lower()] for c, n in grid_class_names(grids["vegclass"]).items() if n.lower() in by_lower}
    grids = normalize_coordinates(grids[["tas", "pr", "vegclass"]], source="predictors")
    layers = xr.Dataset({n: grids[n].transpose("lat", "lon").astype(float) for n in ("tas", "pr", "vegclass")})
    synthetic = says_true(grids.attrs.get("synthetic", "false"))
    provenance = {"source": "climate grids (tas, pr) and vegetation classes", "synthetic": str(synthetic).lower()}
    return PredictorStack(layers, {"vegclass": classes}, provenance)


def grid_class_names(vegclass: xr.DataArray) -> dict[int, str]:
    """Map ``vegclass`` integer codes to class names from its CF flag attributes."""
    values = vegclass.attrs.get("flag_values")
    meanings = vegclass.attrs.get("flag_meanings")
    if values is None or meanings is None:
        raise DataError(
            "vegclass lacks CF flag attributes",
            source="predictors",
            variable="vegclass",
            found=sorted(vegclass.attrs),
            expected="flag_values and flag_meanings",
        )
    codes = np.atleast_1d(np.asarray(values)).astype(int).tolist()
    names = str(meanings).split()
    if len(codes) != len(names):
        raise DataError(
            "vegclass flag_values and flag_meanings differ in length",
            source="predictors",
            variable="vegclass",
            found=f"{len(codes)} values, {len(names)} meanings",
            expected="equal",
        )
    return dict(zip(codes, names, strict=True))
