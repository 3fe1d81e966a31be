"""A file's time and grid axes written in forms that are rhbench's own under other names.

The names a latitude or longitude goes by (:data:`LAT_NAMES`, :data:`LON_NAMES`, or a
``standard_name``: :func:`names_axis`), the one test that 2-D coordinates are a regular grid's
(:func:`repeats`), and the renaming to ``lat``/``lon`` with the refusal of curvilinear grids
(:func:`rename_coordinates`, called by :func:`rhbench.grid.normalize_coordinates`).

Called by the netCDF reader on every opened file (:func:`conventional`), before anything reads
the axes, so the loader, the value check and the grid code see one layout:

- a time dimension named otherwise (``tstep``, ``month``, ``time_step``) whose coordinate says it
  is time (CF units ``... since ...`` or CDO's ``day as %Y%m%d.%f``, ``axis: T``,
  ``standard_name: time``) is renamed ``time`` (twelfth audit, A12-3). A dimension without such
  evidence is left as it is (a ``month`` climatology axis 1..12 stays an extra dimension, refused
  by :func:`rhbench.layout.arrange` naming it);
- a regular grid given only as 2-D latitude/longitude on ``y``/``x`` dimensions (the latitude
  the same along each row, the longitude the same down each column, within
  :data:`REGULAR_TOLERANCE` degree) becomes the 1-D ``lat``/``lon`` grid it is (A12-2). A grid
  whose 2-D coordinates vary otherwise is curvilinear and left for
  :func:`rename_coordinates` to refuse; 2-D coordinates beside 1-D ones that they repeat
  (ORCHIDEE's ``nav_lat``/``nav_lon``) are dropped there.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Hashable

import numpy as np
import xarray as xr

from rhbench.errors import CoordinateError
from rhbench.timeaxis import TIME_NAMES

log = logging.getLogger(__name__)

#: Names of a latitude / longitude coordinate or dimension, renamed to ``lat``/``lon``.
LAT_NAMES = ("lat", "latitude", "y", "nav_lat", "lat_FULL")
LON_NAMES = ("lon", "longitude", "x", "nav_lon", "lon_FULL")
#: CF time units (``days since 1700-01-01``) or CDO's absolute time (``day as %Y%m%d.%f``).
_TIME_UNITS = re.compile(r"^\s*\w+\s+(since\s|as\s+%Y)", re.IGNORECASE)
#: Degrees by which a 2-D latitude (longitude) may vary along a row (column) of a regular grid.
REGULAR_TOLERANCE = 1e-6


def conventional(ds: xr.Dataset, *, time_chunk: int | None = None) -> xr.Dataset:
    """``ds`` with a time dimension of another name renamed ``time`` and a regular grid given as 2-D
    coordinates made 1-D (see the module doc); unchanged otherwise. ``time_chunk``: the dask chunk
    (steps) of a renamed time dimension when ``ds`` is dask-backed."""
    ds = _time_renamed(ds, time_chunk)
    return _regular_from_2d(ds)


def has_time_evidence(attrs: dict) -> bool:
    """True when a coordinate's attributes say it is time: CF time units, ``axis: T`` or ``standard_name: time``."""
    units = attrs.get("units")
    return (
        (isinstance(units, str) and bool(_TIME_UNITS.match(units)))
        or str(attrs.get("axis", "")).strip().upper() == "T"
        or str(attrs.get("standard_name", "")).strip().lower() == "time"
    )


def _time_renamed(ds: xr.Dataset, time_chunk: int | None) -> xr.Dataset:
    """``ds`` with its one time-evidenced dimension of another name renamed ``time`` (none when a
    :data:`rhbench.timeaxis.TIME_NAMES` dimension exists or when two dimensions claim to be time)."""
    if any(name in ds.dims for name in TIME_NAMES):
        return ds
    grid_names = (*LAT_NAMES, *LON_NAMES)
    claims = [
        str(dim)
        for dim in ds.dims
        if dim not in grid_names and dim in ds.variables and ds[dim].ndim == 1 and has_time_evidence(ds[dim].attrs)
    ]
    if len(claims) != 1 or "time" in ds.variables:
        return ds
    log.info("time dimension %r (%s) read as time", claims[0], ds[claims[0]].attrs.get("units"))
    renamed = ds.rename({claims[0]: "time"})
    if time_chunk and any(var.chunks is not None for var in renamed.variables.values()):
        renamed = renamed.chunk({"time": time_chunk})
    return renamed


def _two_d(ds: xr.Dataset, axis: str) -> list[str]:
    """The 2-D variables of ``ds`` that are latitudes (``axis`` ``"lat"``) or longitudes (``"lon"``)."""
    return [str(name) for name, var in ds.variables.items() if var.ndim == 2 and names_axis(name, var, axis)]


def _regular_from_2d(ds: xr.Dataset) -> xr.Dataset:
    """``ds`` with its 2-D latitude/longitude replaced by 1-D ``lat``/``lon`` when they describe a
    regular grid and no 1-D latitude/longitude dimension coordinate exists; else unchanged."""
    lats, lons = _two_d(ds, "lat"), _two_d(ds, "lon")
    if len(lats) != 1 or len(lons) != 1 or set(ds[lats[0]].dims) != set(ds[lons[0]].dims):
        return ds
    if any(n in ds.dims and n in ds.variables and ds[n].ndim == 1 for n in ("lat", "lon")):
        return ds  # 1-D coordinates beside the 2-D ones: _without_auxiliary_2d's case
    lat, lon = ds[lats[0]], ds[lons[0]]
    axes = _row_and_column(np.asarray(lat.values, float), np.asarray(lon.transpose(*lat.dims).values, float))
    if axes is None:
        return ds
    y, x = (lat.dims[axes], lat.dims[1 - axes])
    lat_1d = np.take(np.asarray(lat.values, float), 0, axis=1 - axes)
    lon_1d = np.take(np.asarray(lon.transpose(*lat.dims).values, float), 0, axis=axes)
    drop = [lats[0], lons[0], *(b for b in (lat.attrs.get("bounds"), lon.attrs.get("bounds")) if b in ds.variables)]
    drop += [d for d in (y, x) if d in ds.variables]  # 1-D index coordinates of y/x (replaced)
    keep = {k: v for k, v in lat.attrs.items() if k != "bounds"}, {k: v for k, v in lon.attrs.items() if k != "bounds"}
    out = ds.drop_vars(drop)
    out = out.rename({d: n for d, n in ((y, "lat"), (x, "lon")) if d != n})
    log.info("2-D %s/%s on (%s, %s) describe a regular grid: read as 1-D lat/lon", lats[0], lons[0], y, x)
    return out.assign_coords(lat=("lat", lat_1d, keep[0]), lon=("lon", lon_1d, keep[1]))


def _row_and_column(lat: np.ndarray, lon: np.ndarray) -> int | None:
    """The axis (0 or 1) of the 2-D arrays along which the latitude varies, when ``lat`` is constant
    along the other axis and ``lon`` constant along this one (:func:`repeats` within
    :data:`REGULAR_TOLERANCE` degree, longitudes compared modulo 360); None for a curvilinear (or non-finite) grid."""
    if not (np.all(np.isfinite(lat)) and np.all(np.isfinite(lon))):
        return None
    for axis in (0, 1):
        rows = repeats(lat, np.take(lat, [0], axis=1 - axis), longitude=False, tolerance=REGULAR_TOLERANCE)
        if rows and repeats(lon, np.take(lon, [0], axis=axis), longitude=True, tolerance=REGULAR_TOLERANCE):
            return axis
    return None


#: The message of every curvilinear-grid refusal.
CURVILINEAR = "curvilinear grid not supported: regrid to a regular lat-lon grid first"


def rename_coordinates(ds: xr.Dataset, *, source: str | None = None, file: str | None = None) -> xr.Dataset:
    """Rename latitude/longitude coordinates to ``lat``/``lon``.

    Raises
    ------
    CoordinateError
        When no latitude or longitude coordinate is found, when one is two-dimensional
        (a curvilinear grid such as ORCA: :data:`CURVILINEAR`), or when the latitude or
        longitude dimension has no coordinate values.
    """
    ds = _without_auxiliary_2d(ds)
    _refuse_curvilinear(ds, source=source, file=file)
    renames: dict[str, str] = {}
    for canonical, candidates in (("lat", LAT_NAMES), ("lon", LON_NAMES)):
        found = [name for name in candidates if name in ds.dims or name in ds.coords]
        if not found:
            raise CoordinateError(
                f"no {canonical} coordinate",
                source=source,
                file=file,
                found=sorted(map(str, ds.dims)),
                expected=f"one of {list(candidates)}",
            )
        if found[0] not in ds.variables:
            raise CoordinateError(
                f"the {canonical} dimension has no coordinate values",
                source=source,
                file=file,
                found=f"dimension {found[0]!r} without a coordinate variable",
                expected=f"a 1-D {canonical} coordinate in degrees",
            )
        if found[0] != canonical:
            renames[found[0]] = canonical
    return ds.rename(renames) if renames else ds


def _without_auxiliary_2d(ds: xr.Dataset) -> xr.Dataset:
    """``ds`` without the 2-D latitude/longitude variables (ORCHIDEE's ``nav_lat``/``nav_lon``) it carries
    beside 1-D ``lat`` and ``lon`` dimension coordinates that they repeat (each row of the 2-D latitude
    the 1-D one, :func:`repeats` within :data:`AUXILIARY_TOLERANCE`): a regular grid, not a curvilinear
    one. Anything else is kept (and refused by :func:`_refuse_curvilinear`)."""
    one_d = {}
    for canonical, names in (("lat", LAT_NAMES), ("lon", LON_NAMES)):
        found = [n for n in names if n in ds.dims and n in ds.variables and ds[n].ndim == 1]
        if not found:
            return ds
        one_d[canonical] = ds[found[0]]
    extra = []
    for name, var in ds.variables.items():
        kind = "lon" if names_axis(name, var, "lon") else "lat" if names_axis(name, var, "lat") else None
        if kind is None or var.ndim != 2 or set(var.dims) != {one_d["lat"].dims[0], one_d["lon"].dims[0]}:
            continue
        repeated = var.transpose(one_d["lat"].dims[0], one_d["lon"].dims[0]).values
        expected = one_d[kind].values[:, None] if kind == "lat" else one_d[kind].values[None, :]
        if not repeats(repeated, expected, longitude=kind == "lon", tolerance=AUXILIARY_TOLERANCE):
            return ds
        extra.append(name)
    return ds.drop_vars(extra) if extra else ds


#: Degrees by which a 2-D latitude/longitude beside 1-D ones may differ from them and still repeat them
#: (:func:`_without_auxiliary_2d`).
AUXILIARY_TOLERANCE = 1e-3


def names_axis(name: Hashable, var: xr.Variable, axis: str) -> bool:
    """True when variable ``name`` is a latitude (``axis`` ``"lat"``) or a longitude (``"lon"``) by its
    name (:data:`LAT_NAMES`, :data:`LON_NAMES`) or its ``standard_name``, whatever its dimensions."""
    names, standard = (LAT_NAMES, "latitude") if axis == "lat" else (LON_NAMES, "longitude")
    return name in names or var.attrs.get("standard_name") == standard


def repeats(values: np.ndarray, line: np.ndarray, *, longitude: bool, tolerance: float) -> bool:
    """True when the 2-D coordinate ``values`` (degrees) is ``line`` (degrees, broadcast against it: one
    row or column) everywhere within ``tolerance`` degree, longitudes compared modulo 360; False for any
    missing or infinite value. The one test that a 2-D latitude/longitude is a regular grid's: each row
    of its latitude one latitude, each column of its longitude one longitude (beside 1-D
    coordinates: :func:`_without_auxiliary_2d`; alone: :func:`conventional`)."""
    diff = values - line
    if longitude:
        diff = (diff + 180.0) % 360.0 - 180.0
    return bool(np.all(np.abs(diff) <= tolerance))


def _refuse_curvilinear(ds: xr.Dataset, *, source: str | None, file: str | None) -> None:
    """Raise :data:`CURVILINEAR` when a latitude/longitude variable has more than one dimension."""
    for name, var in ds.variables.items():
        is_coordinate = names_axis(name, var, "lat") or names_axis(name, var, "lon")
        if is_coordinate and var.ndim > 1:
            raise CoordinateError(
                CURVILINEAR,
                source=source,
                file=file,
                variable=str(name),
                found=f"{name} with dims {tuple(map(str, var.dims))}",
                expected="1-D lat and lon coordinates",
            )
