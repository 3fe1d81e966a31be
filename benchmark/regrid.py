"""First-order conservative regridding between regular (or Gaussian) latitude-longitude grids.

Why conservative for a finer grid onto a coarser one: a common-grid cell then holds the
area-weighted mean of every source cell (or part of a cell) inside it, so the map keeps
the totals it implies, whatever the two spacings are (0.4, 0.3 or 0.75 degree onto 1
degree, a Gaussian grid onto 2 degree: nothing needs to divide anything). Nearest
neighbour would keep one source cell in N and drop the others. For a grid as coarse as
the common grid or coarser, rhbench keeps the paper's nearest neighbour
(:func:`rhbench.grid.regrid_nearest`): conservative remapping of a coarse cell onto the
finer cells inside it gives the same value, and nearest neighbour never mixes a cell
with its ocean neighbour at a coast.

The method: both grids are products of latitude and longitude intervals (cell edges from
the coordinate midpoints, clipped at the poles), so the overlap area of source cell (i, j)
and target cell (I, J) is ``R^2 * L[I, i] * M[J, j]`` with ``L`` the overlaps in
sin(latitude) and ``M`` those in longitude (radians, periodic). A target value is
``sum(L f w M) / sum(L v w M)`` over the valid source cells ``v``, with optional extra
weights ``w`` (e.g. land fraction, for a density per land area). A target cell is
missing only when no valid source cell overlaps it.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from rhbench.grid import cell_edges


def lat_overlaps(source_edges: np.ndarray, target_edges: np.ndarray) -> np.ndarray:
    """(target, source) overlaps of latitude intervals (edges in degrees north) in sin(latitude)
    (dimensionless: area / R^2 / dlon, dlon in radians)."""
    s_lo, s_hi = np.sin(np.deg2rad(source_edges[:-1])), np.sin(np.deg2rad(source_edges[1:]))
    t_lo, t_hi = np.sin(np.deg2rad(target_edges[:-1])), np.sin(np.deg2rad(target_edges[1:]))
    lo = np.maximum(np.minimum(s_lo, s_hi)[None, :], np.minimum(t_lo, t_hi)[:, None])
    hi = np.minimum(np.maximum(s_lo, s_hi)[None, :], np.maximum(t_lo, t_hi)[:, None])
    return np.clip(hi - lo, 0.0, None)


def lon_overlaps(source_edges: np.ndarray, target_edges: np.ndarray) -> np.ndarray:
    """(target, source) overlaps of longitude intervals in radians, periodic in 360 degrees."""
    s_lo, s_hi = source_edges[:-1], source_edges[1:]
    t_lo, t_hi = target_edges[:-1, None], target_edges[1:, None]
    total = np.zeros((t_lo.size, s_lo.size))
    for shift in (-360.0, 0.0, 360.0):
        lo = np.maximum(s_lo[None, :] + shift, t_lo)
        hi = np.minimum(s_hi[None, :] + shift, t_hi)
        total += np.clip(hi - lo, 0.0, None)
    return np.deg2rad(total)


def _apply(values: np.ndarray, lat_w: np.ndarray, lon_w: np.ndarray) -> np.ndarray:
    """``lat_w @ values @ lon_w.T`` over the last two axes (NaN-free ``values``)."""
    return np.einsum("Ii,...ij,Jj->...IJ", lat_w, values, lon_w, optimize=True)


def _kernel(values: np.ndarray, weights: np.ndarray, lat_w: np.ndarray, lon_w: np.ndarray) -> np.ndarray:
    valid = np.isfinite(values)
    weighted = np.where(valid, values, 0.0) * weights
    num = _apply(weighted, lat_w, lon_w)
    den = _apply(valid * weights, lat_w, lon_w)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def conservative_mean(data: xr.DataArray, target: xr.Dataset, *, weights: xr.DataArray | None = None) -> xr.DataArray:
    """``data`` (dims ``(..., lat, lon)``, rhbench conventions) averaged onto ``target``'s cells.

    Parameters
    ----------
    data: a field per unit area (any units; kept).
    target: a Dataset with ``lat``/``lon`` cell centres (ascending, lon in [-180, 180)).
    weights: optional (lat, lon) weights on ``data``'s grid multiplying the overlap areas,
        e.g. the land fraction (0-1) so the result is a mean per land area.

    Returns a DataArray on ``target``'s grid, ``float64``; NaN where no valid source cell
    overlaps a target cell. Lazy when ``data`` is (one task per chunk).
    """
    lat_w = lat_overlaps(cell_edges(data["lat"].values, "lat"), cell_edges(target["lat"].values, "lat"))
    lon_w = lon_overlaps(cell_edges(data["lon"].values, "lon"), cell_edges(target["lon"].values, "lon"))
    w = np.ones((data.sizes["lat"], data.sizes["lon"])) if weights is None else np.nan_to_num(weights.values)
    out = xr.apply_ufunc(
        _kernel,
        data.astype("float64"),
        input_core_dims=[["lat", "lon"]],
        output_core_dims=[["lat_out", "lon_out"]],
        kwargs={"weights": w, "lat_w": lat_w, "lon_w": lon_w},
        dask="parallelized",
        output_dtypes=["float64"],
        dask_gufunc_kwargs={"output_sizes": {"lat_out": target.sizes["lat"], "lon_out": target.sizes["lon"]}},
        keep_attrs=True,
    )
    out = out.rename(lat_out="lat", lon_out="lon").assign_coords(lat=target["lat"].values, lon=target["lon"].values)
    return out.rename(data.name)
