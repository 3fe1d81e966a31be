"""Predictor tables for the Random Forest Rh upscaling, at the sites and on the grid.

Predictors (latitude and longitude are never predictors):

- ``MAT``: mean annual air temperature, deg C;
- ``MAP``: mean annual precipitation, mm yr-1;
- vegetation type, one-hot encoded as ``veg_<class>`` (0/1) over the paper's classes
  ENF, EBF, DNF, DBF, MF, Shrub, Savanna, Grassland, Crop, Tundra. One-hot rather than
  ordinal because the classes have no order and scikit-learn's trees split numbers only.

At the sites they come from SRDB's own columns (see :func:`site_vegetation` for the class
rule). Missing values follow one documented rule, counted in the filter log:
MAT/MAP missing -> SRDB's ``Study_temp``/``Study_precip`` (year-of-study climate) -> the
nearest cell of the gridded predictors when given -> the row is dropped; an unmappable
vegetation type -> the grid's ``vegclass`` when given -> the row is dropped.

Gridded predictors are an ``xr.Dataset`` on ``lat``/``lon`` with ``tas`` (deg C, annual
mean), ``pr`` (mm yr-1) and ``vegclass`` (integer codes with CF ``flag_values`` and
space-separated ``flag_meanings`` naming the classes above).
"""

from __future__ import annotations

import re
from typing import NamedTuple

import numpy as np
import pandas as pd
import xarray as xr

from rhbench.errors import DataError, MissingVariableError, UnitsError
from rhbench.grid import normalize_coordinates
from rhbench.upscaling.srdb import FILTER_LOG_COLUMNS, text_column
from rhbench.vegclass import CLASS_NAMES, TUNDRA_FROM, TUNDRA_MIN_LAT

VEG_CLASSES = CLASS_NAMES
CLIMATE_COLUMNS = ("MAT", "MAP")
VEG_COLUMNS = tuple(f"veg_{name}" for name in VEG_CLASSES)
PREDICTORS = CLIMATE_COLUMNS + VEG_COLUMNS
#: Predictor groups for the PCA group importance (only climate and vegetation exist offline).
PREDICTOR_GROUPS = {"climate": list(CLIMATE_COLUMNS), "vegetation": list(VEG_COLUMNS)}


_NON_FOREST = {
    "grassland": "Grassland",
    "wetland": "Grassland",
    "urban": "Grassland",
    "pasture": "Grassland",
    "meadow": "Grassland",
    "steppe": "Grassland",
    "shrubland": "Shrub",
    "desert": "Shrub",
    "heathland": "Shrub",
    "savanna": "Savanna",
    "agriculture": "Crop",
    "orchard": "Crop",
    "cropland": "Crop",
    "tundra": "Tundra",
}
_FOREST = ("forest", "plantation")
_DECIDUOUS_CONIFERS = {"larix", "taxodium", "metasequoia", "glyptostrobus", "pseudolarix"}
_CONIFER_GENERA = _DECIDUOUS_CONIFERS | {
    "abies",
    "agathis",
    "araucaria",
    "callitris",
    "cedrus",
    "chamaecyparis",
    "cryptomeria",
    "cunninghamia",
    "cupressus",
    "cypressus",
    "fitzroya",
    "juniperus",
    "keteleeria",
    "picea",
    "pinus",
    "platycladus",
    "podocarpus",
    "pseudotsuga",
    "sequoia",
    "sequoiadendron",
    "taxus",
    "thuja",
    "tsuga",
}
_CONIFER_WORDS = ("pine", "spruce", "fir", "larch", "hemlock", "cedar", "cypress", "conifer")
_COLD_BIOMES = {"boreal", "arctic", "alpine"}
_TAS_UNITS = {"degc", "deg c", "degree_celsius", "degrees_celsius", "celsius", "c"}
_PR_UNITS = {"mm yr-1", "mm/yr", "mm year-1", "mm a-1", "mm yr^-1"}


class SitePredictors(NamedTuple):
    """The site predictor table ``X``, the matching site rows and the fill/drop log."""

    X: pd.DataFrame
    sites: pd.DataFrame
    log: pd.DataFrame


def _forest_class(leaf: str, species: str, biome: str) -> float | str:
    genus = species.split()[0].strip(",;.") if species else ""
    conifer = genus in _CONIFER_GENERA or any(re.search(rf"\b{w}", species) for w in _CONIFER_WORDS)
    if leaf == "mixed" or species.startswith("mix"):
        return "MF"
    if leaf == "evergreen":
        if species:
            return "ENF" if conifer else "EBF"
        return "ENF" if biome in _COLD_BIOMES else "EBF"
    if leaf == "deciduous":
        return "DNF" if genus in _DECIDUOUS_CONIFERS or "larch" in species else "DBF"
    return np.nan


def site_vegetation(sites: pd.DataFrame) -> pd.Series:
    """The paper's vegetation class of each SRDB row, or NaN when it cannot be mapped.

    Rule: ``Ecosystem_type`` Forest/Plantation -> by ``Leaf_habit``: Mixed (or a species
    entry starting "Mix") -> MF; Evergreen -> ENF when the first genus in ``Species`` is a
    conifer (Pinus, Picea, Abies, ...), EBF otherwise, and without a species ENF in
    Boreal/Arctic/Alpine biomes, EBF elsewhere; Deciduous -> DNF for Larix (and other
    deciduous conifers), DBF otherwise. Grassland/Wetland/Urban -> Grassland,
    Shrubland/Desert -> Shrub, Savanna -> Savanna, Agriculture/Orchard -> Crop,
    Tundra -> Tundra; Grassland, Savanna and Shrub north of 55 N or in the Arctic biome
    become Tundra. Anything else (e.g. Bare, missing) is NaN.
    """
    eco, leaf, biome = (text_column(sites, c) for c in ("Ecosystem_type", "Leaf_habit", "Biome"))
    species = text_column(sites, "Species")
    classes = []
    for e, lf, sp, bi in zip(eco, leaf, species, biome, strict=True):
        classes.append(_forest_class(lf, sp, bi) if e in _FOREST else _NON_FOREST.get(e, np.nan))
    veg = pd.Series(classes, index=sites.index, dtype=object, name="vegetation")
    cold = (sites["Latitude"] > TUNDRA_MIN_LAT) | (biome == "arctic")
    veg[cold & veg.isin(TUNDRA_FROM)] = "Tundra"
    return veg


def one_hot(vegetation: pd.Series) -> pd.DataFrame:
    """0/1 columns ``veg_<class>`` for every class in :data:`VEG_CLASSES`."""
    return pd.DataFrame(
        {col: (vegetation == name).astype(float) for col, name in zip(VEG_COLUMNS, VEG_CLASSES, strict=True)},
        index=vegetation.index,
    )


def check_grids(grids: xr.Dataset) -> xr.Dataset:
    """Validate gridded predictors and put them on rhbench coordinate conventions.

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
    grid_class_names(grids["vegclass"])
    return normalize_coordinates(grids, source="predictors")


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


def _decode_classes(codes: np.ndarray, vegclass: xr.DataArray) -> pd.Series:
    lookup = {code: _canonical_class(name) for code, name in grid_class_names(vegclass).items()}
    flat = np.asarray(codes, dtype=float).ravel()
    return pd.Series([lookup.get(int(c), np.nan) if np.isfinite(c) else np.nan for c in flat], dtype=object)


def _canonical_class(name: str) -> float | str:
    by_lower = {c.lower(): c for c in VEG_CLASSES}
    return by_lower.get(name.lower(), np.nan)


def grid_values_at_sites(grids: xr.Dataset, lat: np.ndarray, lon: np.ndarray) -> pd.DataFrame:
    """Values of the nearest grid cell at each site: ``MAT`` (deg C), ``MAP`` (mm yr-1),
    ``vegetation`` (class name or NaN). ``grids`` must have passed :func:`check_grids`."""
    lon = ((np.asarray(lon, dtype=float) + 180.0) % 360.0) - 180.0
    points = grids[["tas", "pr", "vegclass"]].sel(
        lat=xr.DataArray(np.asarray(lat, dtype=float), dims="site"),
        lon=xr.DataArray(lon, dims="site"),
        method="nearest",
    )
    return pd.DataFrame(
        {
            "MAT": points["tas"].values.astype(float),
            "MAP": points["pr"].values.astype(float),
            "vegetation": _decode_classes(points["vegclass"].values, grids["vegclass"]).values,
        }
    )


def build_site_predictors(sites: pd.DataFrame, grids: xr.Dataset | None = None) -> SitePredictors:
    """Predictor table at the sites, with missing values filled or rows dropped by rule.

    Parameters
    ----------
    sites
        Filtered SRDB rows (see :func:`rhbench.upscaling.srdb.load_srdb`); MAT in deg C,
        MAP in mm yr-1.
    grids
        Optional gridded predictors (``tas`` deg C, ``pr`` mm yr-1, ``vegclass``).

    Returns
    -------
    SitePredictors
        ``X`` (columns :data:`PREDICTORS`), the kept ``sites`` (with a ``vegetation``
        column and filled MAT/MAP) and ``log`` (``step``, ``rows_left``, ``removed``,
        ``filled``), one row per fill or drop step.
    """
    sites = sites.copy()
    sites["vegetation"] = site_vegetation(sites)
    log: list[tuple[str, int, int, int]] = []

    def fill(column: str, values: pd.Series, label: str) -> None:
        gap = sites[column].isna() & values.notna()
        sites.loc[gap, column] = values[gap]
        log.append((f"{column} filled from {label}", len(sites), 0, int(gap.sum())))

    for column, fallback in (("MAT", "Study_temp"), ("MAP", "Study_precip")):
        if fallback in sites.columns:
            fill(column, sites[fallback], f"SRDB {fallback}")
    if grids is not None:
        at_sites = grid_values_at_sites(check_grids(grids), sites["Latitude"], sites["Longitude"])
        at_sites.index = sites.index
        for column in ("MAT", "MAP", "vegetation"):
            fill(column, at_sites[column], "gridded predictors")
    for label, columns in (("MAT or MAP", ["MAT", "MAP"]), ("vegetation class", ["vegetation"])):
        missing = sites[columns].isna().any(axis=1)
        sites = sites.loc[~missing]
        log.append((f"drop rows still missing {label}", len(sites), int(missing.sum()), 0))
    sites = sites.reset_index(drop=True)
    X = pd.concat([sites[list(CLIMATE_COLUMNS)].astype(float), one_hot(sites["vegetation"])], axis=1)
    return SitePredictors(X, sites, pd.DataFrame(log, columns=FILTER_LOG_COLUMNS))


def grid_predictors(grids: xr.Dataset) -> pd.DataFrame:
    """Predictor table on the grid: one row per usable cell, same columns as the sites.

    Cells where ``tas``, ``pr`` or ``vegclass`` is missing, or whose class is not one of
    :data:`VEG_CLASSES`, are left out (they become NaN in the map). The index is a
    ``(lat, lon)`` MultiIndex in degrees on rhbench conventions.
    """
    grids = check_grids(grids)
    lat2d, lon2d = np.meshgrid(grids["lat"].values, grids["lon"].values, indexing="ij")
    tas = grids["tas"].transpose("lat", "lon").values.astype(float).ravel()
    pr = grids["pr"].transpose("lat", "lon").values.astype(float).ravel()
    veg = _decode_classes(grids["vegclass"].transpose("lat", "lon").values, grids["vegclass"])
    valid = np.isfinite(tas) & np.isfinite(pr) & veg.notna().to_numpy()
    index = pd.MultiIndex.from_arrays([lat2d.ravel()[valid], lon2d.ravel()[valid]], names=["lat", "lon"])
    veg_valid = pd.Series(veg.to_numpy()[valid], index=index)
    climate = pd.DataFrame({"MAT": tas[valid], "MAP": pr[valid]}, index=index)
    return pd.concat([climate, one_hot(veg_valid)], axis=1)
