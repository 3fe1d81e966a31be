"""The ensemble-mean maps of :mod:`rhbench.metrics.ensemble` computed on numpy arrays.

The same operations as the xarray expressions of :func:`rhbench.metrics.ensemble.ensemble_maps` and
:func:`rhbench.metrics.ensemble.with_ensemble_maps` (members stacked on a leading axis and averaged
with ``np.mean``, as xarray's ``mean(skipna=False)``; turnover times by
:func:`rhbench.metrics.turnover.tau_values`, :func:`~rhbench.metrics.turnover.tau_map` on arrays), so
the maps are the same bit for bit, without building an xarray object per member and operation. They
apply when every map is a plain (lat, lon) map on the grid of the run's ``maps`` (the suite's case);
each function returns None otherwise and the caller takes its xarray path (when that happens is said
once, in :mod:`rhbench.metrics.totals`, "Numpy paths and their xarray twins").
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

import numpy as np
import xarray as xr
from xarray.structure.merge import merge_attrs

from rhbench.metrics.totals import GRAMS_PER_KILOGRAM, grid_values, lat_lon_values, plain_on_grid
from rhbench.metrics.turnover import tau_values

#: The ensemble-mean maps, in the order of :func:`rhbench.metrics.ensemble.ensemble_maps`' Dataset.
FIELDS = ("rh", "tau_soil", "rh_bias", "tau_bias", "attribution", "tau_veg")


def plain_maps(maps: xr.Dataset, *others: xr.DataArray | None) -> bool:
    """True when ``maps`` holds (source, lat, lon) ``rh`` and ``tau_soil`` and every one of ``others``
    is a (lat, lon) map on its grid with no other coordinate."""
    if any(maps[name].dims != ("source", "lat", "lon") for name in ("rh", "tau_soil") if name in maps):
        return False
    like = maps["rh"].isel(source=0, drop=True) if maps.sizes.get("source") else None
    return like is not None and plain_on_grid(like, *(a for a in others if a is not None))


def member_fields(
    maps: xr.Dataset, chosen: list[str], tau_fields: Mapping[str, Mapping[str, xr.DataArray]]
) -> tuple[np.ndarray, np.ndarray]:
    """Mean Rh (g C m-2 yr-1) and mean cSoil (kg C m-2) (float64, lat, lon) of the ``chosen`` members (see
    :func:`rhbench.metrics.ensemble._tau_members`): each member's own ``tau_fields`` when it has both,
    else its ``rh`` map and the cSoil ``tau_soil x rh / 1000`` recovered from its maps; all NaN without a member."""
    if not chosen:
        nan = np.full(maps["rh"].shape[1:], np.nan)
        return nan, nan.copy()
    index = {str(s): i for i, s in enumerate(maps["source"].values)}
    rh_maps, tau_maps = maps["rh"].values, maps["tau_soil"].values
    rh_each, csoil_each = [], []
    for name in chosen:
        own = tau_fields.get(name, {})
        rh = rh_maps[index[name]].astype(float)
        if "rh" in own and "csoil" in own:
            rh_each.append(lat_lon_values(own["rh"]).astype(float))
            csoil_each.append(lat_lon_values(own["csoil"]).astype(float))
        else:
            rh_each.append(rh)
            csoil_each.append(tau_maps[index[name]].astype(float) * rh / GRAMS_PER_KILOGRAM)
    return np.mean(np.stack(rh_each), axis=0), np.mean(np.stack(csoil_each), axis=0)


def rh_mean(maps: xr.Dataset, members: list[str]) -> np.ndarray:
    """The mean (float64, g C m-2 yr-1) of the ``rh`` maps of ``members`` (NaN without a member)."""
    if not members:
        return np.full(maps["rh"].shape[1:], np.nan)
    index = {str(s): i for i, s in enumerate(maps["source"].values)}
    return np.mean(maps["rh"].values[[index[name] for name in members]].astype(float), axis=0)


def tau_veg(shape: tuple[int, ...], members: Collection[str], tau_fields: Mapping[str, Mapping]) -> np.ndarray:
    """Ensemble tau_veg (yr) as :func:`rhbench.metrics.ensemble._tau_veg`: mean cVeg x 1000 over mean
    litterfall of ``members`` (in name order); NaN when a member lacks them or there is none."""
    pairs = [tau_fields.get(name, {}) for name in sorted(members)]
    if not pairs or not all("cveg" in p and "litterfall" in p for p in pairs):
        return np.full(shape, np.nan)
    cveg = np.mean(np.stack([lat_lon_values(p["cveg"]).astype(float) for p in pairs]), axis=0)
    litter = np.mean(np.stack([lat_lon_values(p["litterfall"]).astype(float) for p in pairs]), axis=0)
    return tau_values(cveg, litter)


def fields_dataset(values: dict[str, np.ndarray], maps: xr.Dataset) -> xr.Dataset:
    """The (lat, lon) ensemble-mean maps as a Dataset on ``maps``' grid (the values as given: units of
    :data:`rhbench.metrics.fields.MAP_UNITS`, set by the caller)."""
    coords = {"lat": maps.coords["lat"], "lon": maps.coords["lon"]}
    return xr.Dataset({name: (("lat", "lon"), values[name]) for name in FIELDS}, coords=coords)


def appended(results_maps: xr.Dataset, fields: xr.Dataset, source: str, coords: dict[str, str]) -> xr.Dataset | None:
    """``results_maps`` with ``fields`` cast to float32 appended as source ``source`` (``coords``: its value
    of every other coordinate on ``source``), as :func:`rhbench.metrics.ensemble.with_ensemble_maps`
    concatenates them; None unless every variable of ``results_maps`` is a (source, lat, lon) map,
    ``fields`` holds each on the same grid and ``coords`` names every coordinate on ``source``."""
    names = list(results_maps.data_vars)
    on_source = {str(c) for c in results_maps.coords if results_maps[c].dims == ("source",) and c != "source"}
    plain = all(results_maps[n].dims == ("source", "lat", "lon") for n in names) and on_source == set(coords)
    if not plain or not all(n in fields and fields[n].dims == ("lat", "lon") for n in names):
        return None
    try:
        grid_values(results_maps[names[0]].isel(source=0, drop=True), *(fields[n] for n in names))
    except ValueError:
        return None
    data = {}
    for name in names:
        old = results_maps[name]
        data[name] = (old.dims, np.concatenate([old.values, fields[name].values.astype(np.float32)[None]]), old.attrs)
    merged = {}  # every coordinate, in the maps' order (the order results.nc writes them in)
    for name, coord in results_maps.coords.items():
        if name == "source":  # as pandas appends to an index of strings
            merged[name] = np.array([*coord.values, source], dtype=object)
        elif name in coords:
            merged[name] = ("source", [*coord.values, coords[name]], coord.attrs)
        else:
            merged[name] = coord
    return xr.Dataset(data, coords=merged).assign_attrs(results_maps.attrs)


def observation_products(
    csoil_products: xr.DataArray, rh_sd: xr.DataArray | None, area: xr.DataArray, land: xr.DataArray
) -> xr.Dataset | None:
    """:func:`rhbench.metrics.ensemble.observation_products` on numpy arrays (the same values, sums
    and attributes), when ``csoil_products`` is a (product, lat, lon) array with only those coordinates
    and ``area``, ``land`` and ``rh_sd`` are (lat, lon) maps on its grid; else None."""
    dims = csoil_products.dims
    if len(dims) != 3 or dims[1:] != ("lat", "lon") or set(csoil_products.coords) - set(dims):
        return None
    maps = [a for a in (area, land, rh_sd) if a is not None]
    if not all(a.dims == ("lat", "lon") for a in maps):
        return None
    try:
        cells, on_land, *sd = grid_values(csoil_products, *maps)  # on the products' grid
    except ValueError:
        return None
    on_land = on_land.astype(bool)
    csoil = np.where(on_land, csoil_products.values, np.nan)  # where(land): NaN off land, dtype kept
    weights = np.where(np.isnan(csoil), 0.0, cells)  # area.where(csoil.notnull(), 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        weighted = np.where(np.isnan(csoil), 0.0, csoil) * weights  # csoil.fillna(0) * weights
        summed = np.where(np.isnan(weighted), 0.0, weighted).sum(axis=2)  # xarray's sum: missing as zero
        total = np.where(np.isnan(weights), 0.0, weights).sum(axis=2)
        zonal = summed / np.where(total > 0, total, np.nan)
    coords = {name: csoil_products.coords[name] for name in csoil_products.coords}  # (in their order)
    units = {"units": "kg C m-2"}
    # (csoil.fillna(0) x weights).sum / weights.sum: the product's attributes, then the quotient's
    zonal_attrs = _arithmetic_attrs(_arithmetic_attrs(csoil_products.attrs, area.attrs), area.attrs)
    maps = xr.DataArray(csoil.astype(np.float32), dims=dims, coords=coords, attrs={**csoil_products.attrs, **units})
    zonal_coords = {name: c for name, c in coords.items() if name != "lon"}
    profiles = xr.DataArray(zonal, dims=dims[:2], coords=zonal_coords, attrs={**zonal_attrs, **units})
    out = xr.Dataset({"csoil": maps, "csoil_zonal": profiles})  # variables in the order xarray's path gives them
    if rh_sd is not None:
        values = np.where(on_land, sd[0], np.nan).astype(np.float32)
        out["rh_sd"] = (("lat", "lon"), values, {**rh_sd.attrs, "units": "g C m-2 yr-1"})
    return out


def _arithmetic_attrs(*operands: dict) -> dict:
    """The attributes xarray's arithmetic gives a result of operands with these (conflicting ones dropped)."""
    return merge_attrs(list(operands), combine_attrs="drop_conflicts") or {}
