"""Observation products on the common grid: area-weighted aggregation of finer grids.

Products and models come at many resolutions (0.05 deg MODIS-derived maps, 250 m
SoilGrids aggregates, 0.5 deg TRENDY grids, 1-2.8 deg and Gaussian CMIP6 grids). Onto
rhbench's common grid a finer field is remapped conservatively
(:func:`rhbench.regrid.conservative_mean`: a common-grid cell holds the area-weighted
mean of the source cells and parts of cells inside it, whatever the two spacings); a
field as coarse as the common grid or coarser is taken by nearest neighbour (as in the
paper). :mod:`rhbench.regrid` says why.

Packed values (``int16`` with ``scale_factor``/``add_offset``, e.g. kg C m-2 stored in
0.1 units) are unpacked by xarray when a file is opened (``mask_and_scale``), before the
units are converted; nothing here needs to handle them.
"""

from __future__ import annotations

import logging

import numpy as np
import xarray as xr

from rhbench import grid, regrid
from rhbench.errors import CoordinateError

log = logging.getLogger(__name__)

#: Relative tolerance when comparing grid spacings.
_SPACING_RTOL = 1e-6


def spacing(data: xr.DataArray | xr.Dataset, dim: str) -> float:
    """The regular spacing of coordinate ``dim`` in degrees (median of the steps).

    Raises :class:`CoordinateError` when the coordinate has fewer than two values.
    """
    values = np.asarray(data[dim].values, dtype=float)
    if values.size < 2:
        raise CoordinateError(
            f"cannot tell the grid spacing of a single {dim}: a grid one cell wide cannot be put on the common grid",
            variable=str(dim),
            found=values.size,
            expected="at least two values",
        )
    return float(np.median(np.abs(np.diff(values))))


def is_finer(data: xr.DataArray | xr.Dataset, target: xr.Dataset) -> bool:
    """True when ``data``'s latitude spacing is finer than ``target``'s (by more than rounding)."""
    return spacing(data, "lat") < spacing(target, "lat") * (1 - _SPACING_RTOL)


def to_common_grid(
    data: xr.DataArray | xr.Dataset,
    target: xr.Dataset,
    *,
    source: str | None = None,
    weights: xr.DataArray | None = None,
) -> xr.DataArray | xr.Dataset:
    """Put ``data`` (rhbench coordinate conventions) on ``target``'s grid.

    A finer grid is remapped conservatively (missing source cells ignored; a target cell
    is missing only when no valid source cell overlaps it), optionally weighted by
    ``weights`` (e.g. land fraction); an equal or coarser grid is sampled by nearest
    neighbour. Values keep their units (a mean of a density, e.g. kg C m-2, is a density).
    """
    if not is_finer(data, target):
        return grid.regrid_nearest(data, target)
    log.debug(
        "remapping %s conservatively from %.4g to %.4g degrees", source, spacing(data, "lat"), spacing(target, "lat")
    )
    if isinstance(data, xr.Dataset):
        return xr.Dataset(
            {name: _remapped(var, target, weights) for name, var in data.data_vars.items()}, attrs=data.attrs
        )
    return _remapped(data, target, weights)


def _remapped(data: xr.DataArray, target: xr.Dataset, weights: xr.DataArray | None) -> xr.DataArray:
    out = regrid.conservative_mean(data, target, weights=weights).astype(data.dtype)
    out.attrs = dict(data.attrs)
    return out.rename(data.name)
