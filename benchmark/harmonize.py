"""Harmonise opened variables: annual means, period selection, common grid, one Dataset per source."""

from __future__ import annotations

import logging
from pathlib import Path

import dask.array as dask_array
import numpy as np
import xarray as xr

from benchmark import catalog, loader, products, timeaxis
from benchmark.errors import TimeAxisError
from benchmark.sources import Source

log = logging.getLogger(__name__)


def annual_mean(data: xr.DataArray) -> xr.DataArray:
    """Calendar-year means of a variable labelled by :func:`benchmark.loader.open_variable`.

    Monthly steps are weighted by the number of days in each month of the file's
    calendar (``calendar`` attribute), so the annual mean of a flux rate times the year
    length is the annual total. Yearly steps pass through. Returns dims
    ``(year, ...)``; data without a time axis is returned unchanged.
    """
    if "time" not in data.dims:
        return data
    years = data["year"].values
    months = data["month"].values
    _, steps_per_year = np.unique(years, return_counts=True)
    data = data.drop_vars(["year", "month"])
    if np.all(steps_per_year == 1):
        return data.assign_coords(time=years).rename(time="year")
    if not np.all(steps_per_year == 12):
        raise TimeAxisError("incomplete years in a monthly series", variable=str(data.name),
                            found=f"{steps_per_year.min()}..{steps_per_year.max()} steps per year",
                            expected="12 monthly steps in every year (or one step per year)")
    days = timeaxis.days_in_month(years, months, data.attrs.get("calendar", "standard"))
    # each month's share of its year, in the data's dtype: a float32 x float64 product would
    # cast every value, the costliest step when streaming full-size monthly files
    share = (days / np.repeat(days.reshape(-1, 12).sum(axis=1), 12)).astype(data.dtype)
    axis = data.get_axis_num("time")
    dims = tuple("year" if d == "time" else d for d in data.dims)
    coords = {name: c for name, c in data.coords.items() if "time" not in c.dims}
    values = data.data
    if isinstance(values, dask_array.Array):
        if any(size % 12 for size in values.chunks[axis]):
            values = values.rechunk({axis: loader.TIME_CHUNK})
        chunks = tuple(tuple(c // 12 for c in sizes) if i == axis else sizes
                       for i, sizes in enumerate(values.chunks))
        mean = values.map_blocks(_month_weighted_sum, share=share, axis=axis, chunks=chunks,
                                 dtype=values.dtype)
    else:
        mean = _month_weighted_sum(np.asarray(values), share=share, axis=axis)
    return xr.DataArray(mean, dims=dims, coords={**coords, "year": years[::12]}, name=data.name,
                        attrs=data.attrs)


def _month_weighted_sum(block: np.ndarray, *, share: np.ndarray, axis: int,
                        block_info: dict | None = None) -> np.ndarray:
    """Sums of ``block``'s 12-month groups along ``axis`` weighted by ``share`` (one pass).

    ``share`` covers the whole time axis; ``block_info`` (from dask) locates the block in
    it. A NaN in any month makes its year NaN. Weights and sums stay in ``block``'s dtype.
    """
    start, stop = block_info[0]["array-location"][axis] if block_info else (0, block.shape[axis])
    moved = np.moveaxis(block, axis, 0)
    groups = moved.reshape(moved.shape[0] // 12, 12, -1)
    sums = np.einsum("ym,ymp->yp", share[start:stop].reshape(-1, 12), groups)
    return np.moveaxis(sums.reshape(groups.shape[0], *moved.shape[1:]), 0, axis)


def select_period(data: xr.DataArray | xr.Dataset, period: tuple[int, int] | None) -> xr.DataArray | xr.Dataset:
    """Years ``period[0]..period[1]`` inclusive; data without a ``year`` dim passes through."""
    if period is None or "year" not in data.dims:
        return data
    return data.sel(year=slice(period[0], period[1]))


def load_source(
    source: Source,
    data_root: Path,
    target: xr.Dataset,
    *,
    period: tuple[int, int] | None = None,
) -> xr.Dataset:
    """Open every variable of ``source``, as annual means on ``target``'s grid, lazily.

    A grid finer than ``target`` is aggregated by area-weighted means, an equal or
    coarser one sampled by nearest neighbour (:func:`benchmark.products.to_common_grid`).

    For a DGVM whose litter is a separate pool, ``cSoil`` becomes cSoil + cLitter (once;
    ``cSoil.attrs['includes_litter']`` records it) and cLitter is kept as is.
    """
    entry = catalog.entry_for(source)
    variables = {}
    for name in source.variables:
        path = catalog.resolve_file(data_root, entry.files[name], source=source.name)
        data = annual_mean(loader.open_variable(source, name, path))
        if on_grid(data, target):  # exact target coordinates, so xarray aligns them
            data = data.assign_coords(lat=target["lat"].values, lon=target["lon"].values)
        else:
            data = products.to_common_grid(data, target, source=source.name)
        variables[name] = select_period(data, period)
    if source.kind == "dgvm" and "cSoil" in variables:
        variables["cSoil"] = _soil_with_litter(source, variables)
    ds = xr.Dataset(variables)
    ds.attrs.update(source=source.name, kind=source.kind, citation=source.citation)
    return ds


def on_grid(data: xr.DataArray | xr.Dataset, target: xr.Dataset) -> bool:
    """True when ``data`` already has ``target``'s lat/lon (regridding would be a costly copy)."""
    return all(data[dim].shape == target[dim].shape
               and np.allclose(data[dim].values, target[dim].values) for dim in ("lat", "lon"))


def _soil_with_litter(source: Source, variables: dict[str, xr.DataArray]) -> xr.DataArray:
    soil = variables["cSoil"]
    if source.litter_in_soil or "cLitter" not in variables:
        return soil.assign_attrs(includes_litter=int(source.litter_in_soil))
    total = soil + variables["cLitter"]
    total.attrs = {**soil.attrs, "includes_litter": 1, "long_name": "soil + litter carbon"}
    return total.rename("cSoil")
