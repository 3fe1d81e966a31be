"""Grids: cell areas on the sphere, coordinate conventions, regridding to the common grid.

Conventions inside rhbench: coordinates are named ``lat`` and ``lon`` (degrees), latitudes
ascending from south to north, longitudes ascending in [-180, 180). Grid cells are
regular; a cell's centre is its coordinate value.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from rhbench import coordunits
from rhbench.errors import CoordinateError
from rhbench.fileaxes import CURVILINEAR, rename_coordinates

#: Earth radius in metres (authalic sphere, as in CDO and ILAMB).
EARTH_RADIUS_M = 6371007.181

#: Two grids are the same when their coordinates differ by at most this share of the grid
#: spacing (one grid written in float32 and in float64 differs by ~1e-7 of a coordinate).
GRID_MATCH_TOLERANCE = 1e-3


def grid_mismatch(data: xr.DataArray | xr.Dataset, like: xr.DataArray | xr.Dataset) -> str | None:
    """Why ``data``'s lat/lon are not ``like``'s, or None when they are the same grid.

    The one rule for "same grid" in rhbench: equal sizes and every coordinate within
    :data:`GRID_MATCH_TOLERANCE` of the grid spacing (degrees; 1 degree for a one-value
    axis), so float32 rounding passes and a real offset does not. A NaN coordinate never
    matches.
    """
    for dim in ("lat", "lon"):
        if dim not in data.coords or dim not in like.coords:
            return f"no {dim} coordinate (found {sorted(map(str, data.coords))})"
        mine, theirs = np.asarray(data[dim].values, float), np.asarray(like[dim].values, float)
        if mine.shape != theirs.shape:
            return f"{mine.size} {dim} values, expected {theirs.size}"
        step = float(np.min(np.abs(np.diff(theirs)))) if theirs.size > 1 else 1.0
        worst = float(np.max(np.abs(mine - theirs))) if mine.size else 0.0
        if not worst <= GRID_MATCH_TOLERANCE * step:  # NaN compares False: refused
            return f"{dim} differs by up to {worst:.4g} degrees (allowed {GRID_MATCH_TOLERANCE:g} of the spacing)"
    return None


def same_grid(data: xr.DataArray | xr.Dataset, like: xr.DataArray | xr.Dataset) -> bool:
    """True when ``data`` is on ``like``'s lat/lon grid (:func:`grid_mismatch`)."""
    return grid_mismatch(data, like) is None


def common_grid(resolution: float = 0.5) -> xr.Dataset:
    """A global regular grid with cell centres at ``resolution`` degree spacing.

    Returns a Dataset with coordinates ``lat`` (ascending) and ``lon`` (in [-180, 180)).
    """
    if resolution <= 0 or not np.isclose(180.0 / resolution, round(180.0 / resolution)):
        raise CoordinateError("grid resolution must divide 180 degrees", found=resolution, expected="e.g. 0.5, 1, 2")
    half = resolution / 2.0
    lat = np.arange(-90.0 + half, 90.0, resolution)
    lon = np.arange(-180.0 + half, 180.0, resolution)
    return xr.Dataset(coords={"lat": ("lat", lat), "lon": ("lon", lon)})


def _edges(centres: np.ndarray, lower: float, upper: float) -> np.ndarray:
    mids = (centres[1:] + centres[:-1]) / 2.0
    first = centres[0] - (mids[0] - centres[0]) if len(centres) > 1 else lower
    last = centres[-1] + (centres[-1] - mids[-1]) if len(centres) > 1 else upper
    return np.clip(np.concatenate([[first], mids, [last]]), lower, upper)


def cell_edges(centres: np.ndarray, dim: str) -> np.ndarray:
    """Cell edges (n + 1, degrees) of ascending ``centres``: midpoints, clipped at the poles.

    For ``lat`` the outer edges are clipped to -90/90; for ``lon`` they are not clipped
    (a global grid's edges then span exactly 360 degrees).
    """
    centres = np.asarray(centres, dtype=float)
    return _edges(centres, -90.0, 90.0) if dim == "lat" else _edges(centres, -360.0, 720.0)


def cell_area(lat: np.ndarray | xr.DataArray, lon: np.ndarray | xr.DataArray) -> xr.DataArray:
    """Area of each grid cell on the sphere, in m2.

    area = R^2 * dlon (radians) * (sin(lat_north) - sin(lat_south)), with cell edges half
    way between centres (clipped to the poles). On a global grid the areas sum to 4 pi R^2.

    Returns a DataArray named ``cell_area`` with dims (lat, lon) and ``units: m2``.
    """
    lat_values = np.asarray(lat, dtype=float)
    lon_values = np.asarray(lon, dtype=float)
    lat_edges = np.deg2rad(_edges(lat_values, -90.0, 90.0))
    lon_edges = np.deg2rad(_edges(lon_values, -360.0, 360.0))
    band = np.abs(np.sin(lat_edges[1:]) - np.sin(lat_edges[:-1]))
    width = np.abs(lon_edges[1:] - lon_edges[:-1])
    area = EARTH_RADIUS_M**2 * np.outer(band, width)
    return xr.DataArray(
        area,
        dims=("lat", "lon"),
        coords={"lat": lat_values, "lon": lon_values},
        name="cell_area",
        attrs={"units": "m2", "long_name": "grid cell area"},
    )


def cell_area_from_bounds(
    lat: np.ndarray, lon: np.ndarray, lat_bounds: np.ndarray, lon_bounds: np.ndarray
) -> xr.DataArray:
    """Area of each cell on the sphere from its bounds, in m2 (e.g. CMOR ``lat_bnds``/``lon_bnds``).

    ``lat_bounds`` (n, 2) and ``lon_bounds`` (m, 2) in degrees, one row per centre of ``lat``
    and ``lon``: area = R^2 * |dlon| (radians) * |sin(lat_1) - sin(lat_0)|. Exact for any
    grid whose bounds are given, Gaussian grids included (their edges are not midpoints).
    A longitude bound pair that wraps across 0/360 or -180/180 (``[358.75, 1.25]``, as files
    keeping every bound in 0..360 write the cell at 0) is the 2.5 degree cell it is, not
    357.5 degrees: a width above 180 degrees is taken the short way round (a one-column
    grid's [0, 360] stays 360).
    """
    lat_b = np.deg2rad(np.clip(np.asarray(lat_bounds, dtype=float), -90.0, 90.0))
    band = np.abs(np.sin(lat_b[:, 1]) - np.sin(lat_b[:, 0]))
    lon_b = np.asarray(lon_bounds, dtype=float)
    degrees = np.abs(lon_b[:, 1] - lon_b[:, 0])
    wrapped = (degrees > 180.0) & ~np.isclose(degrees, 360.0)
    width = np.deg2rad(np.where(wrapped, 360.0 - degrees, degrees))
    return xr.DataArray(
        EARTH_RADIUS_M**2 * np.outer(band, width),
        dims=("lat", "lon"),
        coords={"lat": np.asarray(lat, dtype=float), "lon": np.asarray(lon, dtype=float)},
        name="cell_area",
        attrs={"units": "m2", "long_name": "grid cell area from the cell bounds"},
    )


def normalize_coordinates(ds: xr.Dataset, *, source: str | None = None, file: str | None = None) -> xr.Dataset:
    """Put a dataset on rhbench's conventions: ``lat`` ascending, ``lon`` in [-180, 180) ascending.

    Longitudes in 0..360 are wrapped (a rotation, undone by a roll); a duplicated seam
    (both 0 and 360, or -180 and 180, or any first column repeated 360 degrees on as the last,
    e.g. 2 .. 358, 362) keeps the first column.
    Latitudes may be ascending or descending.

    Raises :class:`CoordinateError` naming the file for missing (NaN) coordinates, a
    curvilinear grid, longitudes outside -180..360, any other duplicated coordinate, or
    coordinates that are neither monotonic nor (longitude) a rotation of monotonic ones.

    Reordering copies as little as it can, since it runs on every chunk of every file:
    coordinates already in order are left alone, descending latitudes are reversed by a
    slice (a view), and wrapped 0..360 longitudes are rolled (two slices, one contiguous
    copy per chunk).
    """
    ds = rename_coordinates(ds, source=source, file=file)
    where = {"source": source, "file": file}
    for dim in ("lat", "lon"):
        values = np.asarray(ds[dim].values, dtype=float)
        if values.ndim != 1:
            raise CoordinateError(CURVILINEAR, found=f"{dim} {values.ndim}-D", expected="1-D", **where)
        if not np.all(np.isfinite(values)):
            raise CoordinateError(
                f"{dim} coordinate has missing (NaN) values",
                variable=dim,
                found=f"{int(np.sum(~np.isfinite(values)))} of {values.size} values not finite",
                expected="finite degrees",
                **where,
            )
    coordunits.check_degrees(ds, **where)
    lon = ds["lon"].values.astype(float)
    cyclic = lon.size > 1 and lon[-1] == lon[0] + 360.0  # a repeated first column (cartopy's cyclic point)
    if np.min(lon) < -180.0 or np.max(lon[:-1] if cyclic else lon) > 360.0:
        raise CoordinateError(
            "longitudes outside -180..360",
            found=f"{np.min(lon)}..{np.max(lon)}",
            expected="-180..180 or 0..360",
            **where,
        )
    wrapped = ((lon + 180.0) % 360.0) - 180.0
    ds = ds.assign_coords(lon=("lon", wrapped, ds["lon"].attrs))
    if wrapped.size > 1 and wrapped[0] == wrapped[-1]:  # a duplicated seam column
        ds = ds.isel(lon=slice(0, -1))
    _check_distinct(ds, "lon", **where)
    _check_distinct(ds, "lat", **where)
    return _ascending(_ascending(ds, "lon", **where), "lat", **where)


def _check_distinct(ds: xr.Dataset, dim: str, *, source: str | None, file: str | None) -> None:
    values = ds[dim].values
    unique, counts = np.unique(values, return_counts=True)
    if unique.size != values.size:
        raise CoordinateError(
            f"duplicated {dim} values",
            source=source,
            file=file,
            variable=dim,
            found=f"{dim} {unique[counts > 1][:5].tolist()} repeated",
            expected=f"distinct {dim} values",
        )


def _ascending(ds: xr.Dataset, dim: str, *, source: str | None = None, file: str | None = None) -> xr.Dataset:
    """``ds`` ordered by its (distinct) ``dim``: as is, reversed, or (longitude) rolled.

    Raises :class:`CoordinateError` when ``dim`` is not monotonic (nor, for ``lon``, a
    rotation of ascending values): shuffled coordinates are most likely a broken file.
    """
    values = ds[dim].values
    if values.size < 2 or np.all(np.diff(values) > 0):
        return ds
    if np.all(np.diff(values) < 0):
        return ds.isel({dim: slice(None, None, -1)})
    shift = -int(np.argmin(values))
    if dim == "lon" and np.all(np.diff(np.roll(values, shift)) > 0):
        return _roll(ds, dim, shift)
    step = int(np.argmax(np.diff(values) <= 0)) + 1
    raise CoordinateError(
        f"{dim} values are not monotonic",
        source=source,
        file=file,
        variable=dim,
        found=f"{dim}[{step - 1}] = {values[step - 1]:g} then {dim}[{step}] = {values[step]:g}",
        expected=f"{dim} ascending or descending (longitudes may wrap once at the seam)",
    )


def _roll(ds: xr.Dataset, dim: str, shift: int) -> xr.Dataset:
    """``ds`` rolled by ``shift`` along ``dim``, coordinates included, chunk by chunk when lazy.

    A dask variable whose ``dim`` is one chunk is rolled within each chunk (one task per
    chunk, fused with what follows); ``dask.array.roll`` would split the chunk in two.
    """
    out = ds.assign_coords({dim: (dim, np.roll(ds[dim].values, shift), ds[dim].attrs)})
    for name, var in ds.variables.items():
        if dim not in var.dims or name == dim:
            continue
        axis = var.get_axis_num(dim)
        chunks = getattr(var, "chunks", None)
        if chunks is not None and len(chunks[axis]) == 1:
            rolled = var.copy(data=var.data.map_blocks(np.roll, shift, axis=axis, dtype=var.dtype))
        else:
            rolled = var.roll({dim: shift})
        out[name] = rolled
    return out


def regrid_nearest(data: xr.Dataset | xr.DataArray, target: xr.Dataset) -> xr.Dataset | xr.DataArray:
    """Nearest-neighbour regrid onto ``target``'s ``lat``/``lon`` (as in the paper).

    Both grids must follow rhbench's conventions (see :func:`normalize_coordinates`).
    Longitude is treated as periodic: a target cell near the seam takes the nearest
    source cell across it. Target cells whose centre lies outside the source grid's cells
    (a regional product) are missing, not copied from the nearest edge cell. A DataArray
    already on ``target``'s centres is copied with them (each cell is its own nearest).
    """
    if _on_target_centres(data, target):
        return data.copy().assign_coords(lat=target["lat"].values, lon=target["lon"].values)
    lon = data["lon"].values
    padded = data
    lon_spacing = float(np.median(np.diff(lon))) if lon.size > 1 else 360.0
    periodic = np.isclose(lon[-1] - lon[0] + lon_spacing, 360.0, atol=lon_spacing / 2)
    if lon.size > 1 and periodic:
        padded = xr.concat(
            [
                data.isel(lon=[-1]).assign_coords(lon=[lon[-1] - 360.0]),
                data,
                data.isel(lon=[0]).assign_coords(lon=[lon[0] + 360.0]),
            ],
            dim="lon",
        )
    out = padded.sel(lat=target["lat"].values, lon=target["lon"].values, method="nearest")
    out = out.assign_coords(lat=target["lat"].values, lon=target["lon"].values)
    inside = _inside_extent(data["lat"].values, target["lat"].values)
    if not periodic:
        inside_lon = _inside_extent(lon, target["lon"].values)
        inside = inside[:, None] & inside_lon[None, :]
    else:
        inside = np.repeat(inside[:, None], target.sizes["lon"], axis=1)
    if inside.all():
        return out
    return out.where(xr.DataArray(inside, dims=("lat", "lon"), coords={"lat": out.lat, "lon": out.lon}))


def _on_target_centres(data: xr.Dataset | xr.DataArray, target: xr.Dataset) -> bool:
    """True for a DataArray with only ``lat``/``lon`` coordinates, each equal to ``target``'s."""
    if not isinstance(data, xr.DataArray) or set(data.coords) != {"lat", "lon"}:
        return False
    return all(
        data[dim].dims == (dim,) and np.array_equal(data[dim].values, target[dim].values) for dim in ("lat", "lon")
    )


def _inside_extent(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Which ``target`` centres fall within the cells of the regular axis ``source``."""
    half = float(np.median(np.abs(np.diff(source)))) / 2 if source.size > 1 else 0.5
    low, high = np.min(source) - half, np.max(source) + half
    return (target >= low - 1e-9) & (target <= high + 1e-9)
