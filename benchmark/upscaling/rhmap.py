"""The Rh map of the Random Forest ensemble, its totals and its CF-netCDF form.

- Map: every ensemble member (fold forest) predicts every valid cell of the predictor
  stack; ``rh`` is the members' mean and ``rh_sd`` their SD (ddof=1), g C m-2 yr-1.
- Totals: sum of Rh x cell area x land fraction (:func:`land_area`), Pg C yr-1, for each
  member; a region's total is the mean over the members and its SD is the SD (ddof=1) of
  the members' totals. (Summing the per-cell SD map instead would treat the cells' errors
  as perfectly correlated and overstate the spread; the members' totals carry the
  ensemble's real covariance.) Regions: global, climate zones by |latitude| (tropical
  < 23.5, boreal >= 50, as the site zones' fallback), and each class of each categorical
  layer (vegetation class when the stack has one, else the Koeppen class).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from rhbench.errors import CoordinateError
from rhbench.grid import cell_area, grid_mismatch
from rhbench.metrics.totals import GRAMS_PER_PETAGRAM
from rhbench.upscaling.srdb import BOREAL_MIN_ABS_LAT, TROPICAL_MAX_ABS_LAT
from rhbench.upscaling.stack import PredictorStack, grid_class_names
from rhbench.vegclass import CLASS_NAMES

logger = logging.getLogger(__name__)

RH_UNITS_CF = "g m-2 yr-1"
RH_ATTRS = {
    "units": RH_UNITS_CF,
    "standard_name": "heterotrophic_respiration_carbon_flux",
    "long_name": "soil heterotrophic respiration, mass of carbon (Random Forest ensemble mean)",
    "cell_methods": "area: mean where land",
    "comment": "g of carbon per m2 of land per year",
}
RH_SD_ATTRS = {"units": RH_UNITS_CF, "long_name": "SD (ddof=1) of Rh across the Random Forest ensemble members"}
TOTALS_COLUMNS = ["region_kind", "region", "total_PgC_per_yr", "sd_PgC_per_yr", "land_area_km2", "n_cells"]


def member_maps(member_values: np.ndarray, ilat: np.ndarray, ilon: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """(members, lat, lon) maps from per-cell predictions (members, cells); NaN elsewhere."""
    maps = np.full((member_values.shape[0], *shape), np.nan)
    maps[:, ilat, ilon] = member_values
    return maps


def land_area(
    lat: np.ndarray, lon: np.ndarray, land_fraction: xr.DataArray | None, source: str = "land fraction"
) -> xr.DataArray:
    """Land area of each cell, m2: sphere cell area x land fraction (0-1).

    ``land_fraction`` (lat, lon) on the same grid (:func:`rhbench.grid.grid_mismatch`) is
    used cell for cell; missing values count as 0. Without it every cell counts fully (fraction 1). A land fraction on
    another grid is matched by nearest neighbour with a warning; one that does not reach
    every cell centre of the grid (``lat``, ``lon``, degrees) is refused (its missing
    cells would silently count as sea). ``source`` names the file in messages.

    Raises
    ------
    CoordinateError
        When the land fraction's grid does not cover the grid's latitudes or longitudes.
    """
    area = cell_area(lat, lon)
    if land_fraction is None:
        return area
    for axis, centres in (("lat", np.asarray(lat, float)), ("lon", np.asarray(lon, float))):
        _require_cover(np.asarray(land_fraction[axis].values, float), centres, axis, source)
    frac = land_fraction.transpose("lat", "lon").sortby("lat").sortby("lon")
    mismatch = grid_mismatch(frac, area)
    if mismatch is None:  # the one "same grid" rule: cell for cell
        frac = frac.assign_coords(lat=area["lat"], lon=area["lon"])
    else:  # never a partial match: every cell takes its nearest land-fraction cell
        logger.warning(
            "%s is on another grid than the predictor stack (%s): matched by nearest neighbour", source, mismatch
        )
        frac = frac.sel(lat=area["lat"], lon=area["lon"], method="nearest")
    return area * frac.fillna(0.0).clip(0.0, 1.0).values


def _require_cover(grid: np.ndarray, centres: np.ndarray, axis: str, source: str) -> None:
    """Raise :class:`CoordinateError` when ``centres`` (degrees) reach beyond half a cell
    of the land-fraction ``grid``'s first or last centre."""
    half = float(np.median(np.abs(np.diff(np.sort(grid))))) / 2 if grid.size > 1 else 0.0
    low, high = float(grid.min()) - half - 1e-6, float(grid.max()) + half + 1e-6
    outside = (centres < low) | (centres > high)
    if outside.any():
        raise CoordinateError(
            "land fraction does not cover the predictor grid (missing cells would count as sea)",
            source=source,
            variable=axis,
            found=f"{axis} {low + 1e-6:g}..{high - 1e-6:g}; {int(outside.sum())} grid centres outside, "
            f"e.g. {float(centres[outside][0]):g}",
            expected=f"a land fraction spanning {axis} {float(centres.min()):g}..{float(centres.max()):g}",
        )


def region_masks(stack: PredictorStack, classes: xr.DataArray | None = None) -> list[tuple[str, str, np.ndarray]]:
    """(kind, name, (lat, lon) bool mask) of every region totals are reported for.

    ``classes``: an optional vegetation-class map (integer codes with CF ``flag_values`` /
    ``flag_meanings``, e.g. the run's land-cover classes), matched to the stack's grid by
    nearest neighbour; used when the stack has no ``vegclass`` layer of its own.
    """
    abs_lat = np.abs(stack.lat)[:, None] * np.ones((1, stack.lon.size))
    regions = [("global", "global", np.ones_like(abs_lat, dtype=bool))]
    regions += [
        ("climate zone", "tropical", abs_lat < TROPICAL_MAX_ABS_LAT),
        ("climate zone", "temperate", (abs_lat >= TROPICAL_MAX_ABS_LAT) & (abs_lat < BOREAL_MIN_ABS_LAT)),
        ("climate zone", "boreal", abs_lat >= BOREAL_MIN_ABS_LAT),
    ]
    layers = {name: (stack.layers[name].values, labels) for name, labels in stack.categories.items()}
    if classes is not None and "vegclass" not in layers:
        on_grid = classes.sortby("lat").sel(lat=stack.lat, lon=stack.lon, method="nearest").values
        names = grid_class_names(classes)
        layers["vegclass"] = (on_grid, {c: n for c, n in names.items() if n in CLASS_NAMES})
    for layer, (values, labels) in layers.items():
        kind = "vegetation class" if layer == "vegclass" else f"{layer} class"
        regions += [(kind, str(label), values == code) for code, label in sorted(labels.items())]
    return regions


def regional_totals(maps: np.ndarray, area: xr.DataArray, regions: list[tuple[str, str, np.ndarray]]) -> pd.DataFrame:
    """Totals (Pg C yr-1) of every region: mean and SD (ddof=1) of the members' totals.

    ``maps``: (members, lat, lon) Rh in g C m-2 yr-1; ``area``: land area in m2.
    """
    weights = np.asarray(area.values, dtype=float)
    rows = []
    for kind, name, mask in regions:
        cells = mask & np.isfinite(maps[0])
        totals = np.nansum(np.where(cells, maps, 0.0) * weights, axis=(1, 2)) / GRAMS_PER_PETAGRAM
        rows.append(
            (
                kind,
                name,
                float(totals.mean()),
                float(totals.std(ddof=1)) if totals.size > 1 else 0.0,
                float(weights[cells].sum() / 1e6),
                int(cells.sum()),
            )
        )
    return pd.DataFrame(rows, columns=TOTALS_COLUMNS)


def _bounds(centres: np.ndarray, low: float, high: float) -> np.ndarray:
    step = np.diff(centres).mean() if centres.size > 1 else 1.0
    edges = np.concatenate([[centres[0] - step / 2], (centres[1:] + centres[:-1]) / 2, [centres[-1] + step / 2]])
    edges = np.clip(edges, low, high)
    return np.column_stack([edges[:-1], edges[1:]])


def _axis_attrs(units: str, name: str, axis: str) -> dict:
    return {"units": units, "standard_name": name, "axis": axis, "bounds": f"{name[:3]}_bnds"}


def _member_sd(maps: np.ndarray) -> np.ndarray:
    """SD (ddof=1) across the members (axis 0) of ``maps`` (g C m-2 yr-1), float32; 0 for one member."""
    return maps.std(axis=0, ddof=1).astype(np.float32) if maps.shape[0] > 1 else np.zeros(maps.shape[1:], np.float32)


def product_dataset(
    maps: np.ndarray,
    stack: PredictorStack,
    area: xr.DataArray,
    land_fraction_note: str,
    totals: pd.DataFrame,
    attrs: dict,
) -> xr.Dataset:
    """The CF-1.10 netCDF content: ``rh``, ``rh_sd``, ``land_area``, members' totals.

    ``attrs`` (provenance, CV metrics, labels) become global attributes, with the global
    total and its ensemble SD added from ``totals``.
    """
    lat, lon = stack.lat, stack.lon
    glob = totals.set_index("region").loc["global"]
    member_totals = np.nansum(np.nan_to_num(maps) * area.values, axis=(1, 2)) / GRAMS_PER_PETAGRAM
    ds = xr.Dataset(
        {
            "rh": (("lat", "lon"), maps.mean(axis=0).astype(np.float32), RH_ATTRS),
            "rh_sd": (("lat", "lon"), _member_sd(maps), RH_SD_ATTRS),
            "land_area": (
                ("lat", "lon"),
                area.values.astype(np.float32),
                {
                    "units": "m2",
                    "long_name": "cell area x land fraction used for totals",
                    "comment": land_fraction_note,
                },
            ),
            "rh_global_member": (
                ("member",),
                member_totals,
                {"units": "Pg yr-1", "long_name": "global Rh total (carbon) of each ensemble member"},
            ),
            "lat_bnds": (("lat", "nv"), _bounds(lat, -90.0, 90.0)),
            "lon_bnds": (("lon", "nv"), _bounds(lon, -180.0, 180.0)),
        },
        coords={
            "lat": ("lat", lat, _axis_attrs("degrees_north", "latitude", "Y")),
            "lon": ("lon", lon, _axis_attrs("degrees_east", "longitude", "X")),
            "member": (
                "member",
                np.arange(maps.shape[0], dtype=np.int32),
                {"long_name": "ensemble member (CV fold forest)"},
            ),
        },
    )
    ds.attrs = {
        "Conventions": "CF-1.10",
        **attrs,
        "global_total_PgC_per_yr": float(glob["total_PgC_per_yr"]),
        "global_total_sd_PgC_per_yr": float(glob["sd_PgC_per_yr"]),
        "land_fraction": land_fraction_note,
    }
    return ds


def netcdf_encoding(ds: xr.Dataset) -> dict:
    """zlib-compressed float maps with a NaN fill; no fill value on coordinates and bounds (CF 2.5.1)."""
    encoding = {
        name: {"zlib": True, "complevel": 4, "_FillValue": np.float32(np.nan)} for name in ("rh", "rh_sd", "land_area")
    }
    for name in ("lat", "lon", "lat_bnds", "lon_bnds", "member", "rh_global_member"):
        encoding[name] = {"_FillValue": None}
    return encoding


def ensemble_total_sd(path: Path) -> float | None:
    """``global_total_sd_PgC_per_yr`` of a product file (the SD of its members' global
    totals, Pg C yr-1), or None when the file does not record one (:func:`header`)."""
    return header(path)[1]


def header(path: Path) -> tuple[frozenset[str] | None, float | None]:
    """The names of a product file's variables and its ``global_total_sd_PgC_per_yr`` (:func:`ensemble_total_sd`),
    from one netCDF4 read of its header; ``(None, None)`` when netCDF cannot open it (a GeoTIFF product)."""
    from rhbench.readers import netcdf

    # only the header is read: nothing decoded (a reference whose time units cftime cannot
    # decode, e.g. ``years since AD 1700-Jan-1st``, is read by the loader), no xarray backend
    # probed; within a run, the handle the loader read the file with (:mod:`rhbench.runscope`)
    try:
        with netcdf.open_stored(Path(path), decompress=False) as ds:
            names, value = frozenset(ds.variables), ds.__dict__.get("global_total_sd_PgC_per_yr")
    except (OSError, ValueError):
        return None, None
    return names, None if value is None else float(value)
