"""Harmonise opened variables: annual means, period selection, common grid, one Dataset per source."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import xarray as xr

from rhbench import catalog, kernels, loader, products
from rhbench.sources import Source

log = logging.getLogger(__name__)


def annual_mean(data: xr.DataArray) -> xr.DataArray:
    """Calendar-year means of a variable labelled by :func:`rhbench.loader.open_variable`.

    Monthly steps are weighted by the number of days in each month of the file's
    calendar (``calendar`` attribute), so the annual mean of a flux rate times the year
    length is the annual total. Yearly steps pass through. Returns dims
    ``(year, ...)``; data without a time axis is returned unchanged.
    """
    if "time" not in data.dims:
        return data
    share = kernels.month_shares(data)
    return kernels.yearly(data) if share is None else kernels.year_means(data, share)


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
    files: dict[str, Path] | None = None,
) -> xr.Dataset:
    """Open every variable of ``source``, as annual means on ``target``'s grid, lazily.

    ``files`` (canonical variable -> file) replaces the catalog's paths, for products
    rhbench builds during the run (e.g. the upscaled Rh reference in the staging folder).

    A grid finer than ``target`` is aggregated by area-weighted means, an equal or
    coarser one sampled by nearest neighbour (:func:`rhbench.products.to_common_grid`).

    For a DGVM whose litter is a separate pool, ``cSoil`` becomes cSoil + cLitter (once;
    ``cSoil.attrs['includes_litter']`` records it) and cLitter is kept as is.
    """
    if files is None:
        entry = catalog.entry_for(source)
        files = {
            name: catalog.resolve_file(data_root, entry.files[name], source=source.name) for name in source.variables
        }
    variables = {}
    for name in source.variables:
        path = files[name]
        data = loader.open_variable(source, name, path, annual=True)
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
    return all(
        data[dim].shape == target[dim].shape and np.allclose(data[dim].values, target[dim].values)
        for dim in ("lat", "lon")
    )


def _soil_with_litter(source: Source, variables: dict[str, xr.DataArray]) -> xr.DataArray:
    soil = variables["cSoil"]
    if source.litter_in_soil or "cLitter" not in variables:
        return soil.assign_attrs(includes_litter=int(source.litter_in_soil))
    total = soil + variables["cLitter"]
    total.attrs = {**soil.attrs, "includes_litter": 1, "long_name": "soil + litter carbon"}
    return total.rename("cSoil")
