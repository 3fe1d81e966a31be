"""Observation products on the common grid: area-weighted aggregation of finer grids.

Products come at many resolutions (0.05 deg MODIS-derived maps, 250 m SoilGrids
aggregates, 0.5 deg TRENDY-like grids). Onto rhbench's common grid a finer product is
aggregated by area-weighted block means (:func:`rhbench.grid.coarsen_mean`), so a
common-grid cell holds the mean of the source cells inside it; a product as coarse as
the common grid or coarser is taken by nearest neighbour (as in the paper).

Packed values (``int16`` with ``scale_factor``/``add_offset``, e.g. kg C m-2 stored in
0.1 units) are unpacked by xarray when a file is opened (``mask_and_scale``), before the
units are converted; nothing here needs to handle them.
"""

from __future__ import annotations

import logging

import numpy as np
import xarray as xr

from rhbench import grid
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
            f"cannot tell the grid spacing of a single {dim}",
            variable=str(dim),
            found=values.size,
            expected="at least two values",
        )
    return float(np.median(np.abs(np.diff(values))))


def is_finer(data: xr.DataArray | xr.Dataset, target: xr.Dataset) -> bool:
    """True when ``data``'s latitude spacing is finer than ``target``'s (by more than rounding)."""
    return spacing(data, "lat") < spacing(target, "lat") * (1 - _SPACING_RTOL)


def to_common_grid(
    data: xr.DataArray | xr.Dataset, target: xr.Dataset, *, source: str | None = None
) -> xr.DataArray | xr.Dataset:
    """Put ``data`` (rhbench coordinate conventions) on ``target``'s grid.

    A finer grid is aggregated by area-weighted means (missing source cells ignored; a
    target cell is missing only when all its source cells are); an equal or coarser grid
    is sampled by nearest neighbour. Values keep their units (a mean of a density, e.g.
    kg C m-2, is a density).

    Raises
    ------
    CoordinateError
        When the source spacing does not divide the target spacing, or the source cell
        edges do not line up with the target cell edges.
    """
    if not is_finer(data, target):
        return grid.regrid_nearest(data, target)
    _check_aligned(data, target, source=source)
    log.debug(
        "aggregating %s from %.4g to %.4g degrees",
        source,
        spacing(data, "lat"),
        spacing(target, "lat"),
    )
    aggregated = grid.coarsen_mean(data, target)
    if isinstance(data, xr.DataArray):
        aggregated = aggregated.rename(data.name)
        aggregated.attrs = dict(data.attrs)
    return aggregated


def _check_aligned(data: xr.DataArray | xr.Dataset, target: xr.Dataset, *, source: str | None) -> None:
    """Blocks of whole source cells must fill target cells exactly, in both directions."""
    lat_factor = spacing(target, "lat") / spacing(data, "lat")
    for dim in ("lat", "lon"):
        src, dst = spacing(data, dim), spacing(target, dim)
        factor = dst / src
        if not np.isclose(factor, round(factor), rtol=1e-6) or round(factor) != round(lat_factor):
            raise CoordinateError(
                "source grid spacing must divide the common grid spacing, equally in lat and lon",
                source=source,
                variable=dim,
                found=f"{src:g} degrees",
                expected=f"{dst:g} / {round(lat_factor)} degrees",
            )
        first_edge = float(data[dim].values[0]) - src / 2
        target_edge = float(target[dim].values[0]) - dst / 2
        offset = (first_edge - target_edge) / dst
        if not np.isclose(offset, round(offset), atol=1e-6):
            raise CoordinateError(
                "source cells do not line up with the common grid's cell edges",
                source=source,
                variable=dim,
                found=f"first edge {first_edge:g}",
                expected=f"an edge at {target_edge:g} + k * {dst:g}",
            )
