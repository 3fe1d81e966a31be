"""Predictor tables for the Random Forest Rh upscaling at the sites.

Two modes:

- with a gridded :class:`~rhbench.upscaling.stack.PredictorStack` (the real Jian et al.
  2020 stack, or the demo's climate and vegetation grids): every site takes every
  predictor from its 0.5 deg cell, or from the nearest valid cell within the search
  radius (:mod:`rhbench.upscaling.sampling`), plus ``abs_lat`` from its own latitude.
  The same predictors then exist on every grid cell, so the forest can map Rh.
- without a stack (a CV report only, no map): SRDB's own columns ``MAT`` (deg C),
  ``MAP`` (mm yr-1) and the vegetation type one-hot as ``veg_<class>`` over the paper's
  classes (see :func:`site_vegetation`). A missing MAT/MAP is filled from SRDB's
  ``Study_temp``/``Study_precip``, else the row is dropped; an unmappable vegetation type
  drops the row. Every fill and drop is counted in the filter log.
"""

from __future__ import annotations

import logging
import re
from typing import NamedTuple

import numpy as np
import pandas as pd

from rhbench.upscaling.sampling import site_cells
from rhbench.upscaling.srdb import FILTER_LOG_COLUMNS, text_column
from rhbench.upscaling.stack import PredictorStack, design_matrix
from rhbench.vegclass import CLASS_NAMES, TUNDRA_FROM, TUNDRA_MIN_LAT

logger = logging.getLogger(__name__)

#: Share of sites without a valid predictor cell above which a warning asks whether the
#: coordinates are swapped (SRDB v5 with the real stack: 7 of 641, 1 %).
MAX_DROPPED_SHARE = 0.2
VEG_CLASSES = CLASS_NAMES
CLIMATE_COLUMNS = ("MAT", "MAP")
VEG_COLUMNS = tuple(f"veg_{name}" for name in VEG_CLASSES)
PREDICTORS = CLIMATE_COLUMNS + VEG_COLUMNS
#: Predictor groups of the site-column mode for the PCA group importance.
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


class SitePredictors(NamedTuple):
    """The site predictor table ``X``, the matching site rows, the fill/drop log and,
    with a gridded stack, the cell sampling summary (see :meth:`SiteCells.summary`)."""

    X: pd.DataFrame
    sites: pd.DataFrame
    log: pd.DataFrame
    cells: dict | None = None


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


def build_site_predictors(sites: pd.DataFrame, stack: PredictorStack | None = None) -> SitePredictors:
    """Predictor table at the sites: from the gridded stack when given, else SRDB columns.

    Parameters
    ----------
    sites
        Filtered SRDB rows (see :func:`rhbench.upscaling.srdb.load_srdb`); MAT in deg C,
        MAP in mm yr-1.
    stack
        Gridded predictors. Every site then takes every predictor from its cell (or the
        nearest valid cell, see :mod:`rhbench.upscaling.sampling`) and ``abs_lat`` from its
        own latitude; site-only columns are not used.

    Returns
    -------
    SitePredictors
        ``X``, the kept ``sites`` (with ``vegetation`` and, with a stack, ``cell_lat``,
        ``cell_lon``, ``cell_status``, ``cell_distance_km``), the ``log`` (``step``,
        ``rows_left``, ``removed``, ``filled``) and the sampling summary (``cells``).
    """
    sites = sites.copy()
    sites["vegetation"] = site_vegetation(sites)
    if stack is not None:
        return _from_stack(sites, stack)
    log: list[tuple[str, int, int, int]] = []
    for column, fallback in (("MAT", "Study_temp"), ("MAP", "Study_precip")):
        if fallback in sites.columns:
            gap = sites[column].isna() & sites[fallback].notna()
            sites.loc[gap, column] = sites.loc[gap, fallback]
            log.append((f"{column} filled from SRDB {fallback}", len(sites), 0, int(gap.sum())))
    for label, columns in (("MAT or MAP", ["MAT", "MAP"]), ("vegetation class", ["vegetation"])):
        missing = sites[columns].isna().any(axis=1)
        sites = sites.loc[~missing]
        log.append((f"drop rows still missing {label}", len(sites), int(missing.sum()), 0))
    sites = sites.reset_index(drop=True)
    X = pd.concat([sites[list(CLIMATE_COLUMNS)].astype(float), one_hot(sites["vegetation"])], axis=1)
    return SitePredictors(X, sites, pd.DataFrame(log, columns=FILTER_LOG_COLUMNS), None)


def _from_stack(sites: pd.DataFrame, stack: PredictorStack) -> SitePredictors:
    cells = site_cells(stack.valid(), stack.lat, stack.lon, sites["Latitude"], sites["Longitude"])
    summary = cells.summary()
    sites = sites.assign(
        cell_lat=np.where(cells.kept, stack.lat[cells.ilat], np.nan),
        cell_lon=np.where(cells.kept, stack.lon[cells.ilon], np.nan),
        cell_status=cells.status,
        cell_distance_km=cells.distance_km,
    )
    kept = cells.kept
    values = {name: stack.layers[name].values[cells.ilat[kept], cells.ilon[kept]] for name in stack.layers.data_vars}
    sites = sites.loc[kept].reset_index(drop=True)
    X = design_matrix(values, sites["Latitude"].to_numpy(), stack)
    radius = f"{summary['search_radius_km']:g} km"
    if summary["dropped"] > MAX_DROPPED_SHARE * max(len(cells.status), 1):
        logger.warning(
            "%d of %d sites have no valid predictor cell of %s within %s (SRDB v5 with the real stack: "
            "7 of 641): Latitude and Longitude swapped in the site table, or a stack covering only part "
            "of the globe?",
            summary["dropped"],
            len(cells.status),
            stack.provenance.get("file", "the predictor stack"),
            radius,
        )
    log = [
        ("site's own predictor cell valid", len(sites) + summary["dropped"], 0, summary["own_cell"]),
        (f"moved to the nearest valid cell within {radius}", len(sites) + summary["dropped"], 0, summary["moved"]),
        (f"dropped: no valid predictor cell within {radius}", len(sites), summary["dropped"], 0),
    ]
    return SitePredictors(X, sites, pd.DataFrame(log, columns=FILTER_LOG_COLUMNS), summary)
