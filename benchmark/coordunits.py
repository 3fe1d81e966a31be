"""The units of a latitude / longitude coordinate: degrees north and east, latitudes within -90..90.

Read as degrees, a coordinate in radians, in degrees south or west, or an index (units '1', or no
units on both axes counting 0, 1, 2 ...) moves or shrinks every cell without a word;
:func:`check_degrees` refuses them naming the file
(:func:`rhbench.grid.normalize_coordinates` calls it for every reader).
"""

from __future__ import annotations

import re

import numpy as np
import xarray as xr

from rhbench.errors import CoordinateError

#: The ``units`` of a latitude / longitude coordinate in degrees north or east (CF / UDUNITS spellings,
#: case-insensitive: ``degrees_north``, ``degree_E``, ``degrees``, ``deg``, ``°N``); absent units are read as
#: these degrees. Radians, degrees south or west, an index ('1') or metres are not.
DEGREE_UNITS = re.compile(r"^(deg(ree)?s?|°)?(\s*[ _]?\s*(north|east|n|e))?$", re.IGNORECASE)


def check_degrees(ds: xr.Dataset, *, source: str | None, file: str | None) -> None:
    """Raise :class:`CoordinateError` when ``lat``/``lon`` are not degrees north/east (radians, degrees
    south or west, an index with units '1', metres: read as degrees they would move or shrink every
    cell silently) or a latitude is outside -90..90 (an index 0..179, not degrees)."""
    for dim in ("lat", "lon"):
        if not DEGREE_UNITS.match(str(ds[dim].attrs.get("units", "")).strip()):
            raise CoordinateError(
                f"{dim} coordinate not in degrees {'north' if dim == 'lat' else 'east'}",
                source=source,
                file=file,
                variable=dim,
                found=f"units {ds[dim].attrs.get('units')!r} ({np.nanmin(ds[dim].values):g} .. "
                f"{np.nanmax(ds[dim].values):g})",
                expected=f"'{'degrees_north' if dim == 'lat' else 'degrees_east'}'",
                hint="write the coordinate in degrees (radians x 180 / pi; degrees south or west negated)",
            )
    _refuse_indices(ds, source=source, file=file)
    lat = np.asarray(ds["lat"].values, dtype=float)
    if lat.size and (lat.min() < -90.01 or lat.max() > 90.01):  # float32 noise at the poles tolerated
        raise CoordinateError(
            "latitudes outside -90..90",
            source=source,
            file=file,
            variable="lat",
            found=f"{lat.min():g}..{lat.max():g} ({ds['lat'].attrs.get('units', 'no units')})",
            expected="latitudes in degrees north, -90..90 (not a row index)",
        )


#: The fewest values of an axis read as an index (:func:`_is_index`): the coarsest global model's
#: rows (18 at 10 degrees) are more; a few-cell patch (a test's 2 x 2 grid at 0, 1) is left as degrees.
INDEX_MIN_VALUES = 10


def _is_index(coordinate: xr.DataArray) -> bool:
    """True for a coordinate without units or standard_name whose :data:`INDEX_MIN_VALUES` or more values
    are 0, 1, 2, ... or 1, 2, 3, ..."""
    if "units" in coordinate.attrs or "standard_name" in coordinate.attrs:
        return False
    values = np.asarray(coordinate.values, dtype=float)
    if values.size < INDEX_MIN_VALUES or not np.all(np.isfinite(values)):
        return False
    ordered = np.sort(values)
    return ordered[0] in (0.0, 1.0) and bool(np.all(np.diff(ordered) == 1.0))


def _refuse_indices(ds: xr.Dataset, *, source: str | None, file: str | None) -> None:
    """Raise :class:`CoordinateError` when ``lat`` or ``lon`` is a row or column index (:func:`_is_index`:
    no units, no standard_name, consecutive integers from 0 or 1; twelfth audit, A12-4) not spanning the
    globe, beside an index, or beside an axis that does (latitudes over 150 degrees, longitudes over 300)
    in steps of 2 degrees or more (an index's step 1 against a coarser grid's): read as
    degrees, a 10-degree model indexed 0..17 x 0..35 is a 17 x 35 degree patch (its total 1 % of the
    true one), a column index 0..35 beside real latitudes a 36-degree strip (10 %), silently. A 1-degree
    grid of centres (-89.5 .. 89.5) or integer longitudes with other latitudes is read as before."""
    lat, lon = np.asarray(ds["lat"].values, float), np.asarray(ds["lon"].values, float)
    global_lat = lat.size > 1 and np.ptp(lat) >= 150.0
    global_lon = lon.size > 1 and np.ptp(lon) >= 300.0
    coarse_lat = lat.size > 1 and float(np.min(np.abs(np.diff(lat)))) >= 2.0  # a grid step 1 beside it: 2:1 or worse
    coarse_lon = lon.size > 1 and float(np.min(np.abs(np.diff(lon)))) >= 2.0
    both = _is_index(ds["lat"]) and _is_index(ds["lon"]) and not (global_lat or global_lon)
    lat_alone = _is_index(ds["lat"]) and not global_lat and global_lon and coarse_lon  # beside 10-degree longitudes
    lon_alone = _is_index(ds["lon"]) and not global_lon and global_lat and coarse_lat  # 0..359 integers are degrees
    indices = ["lat", "lon"] if both else ["lat"] if lat_alone else ["lon"] if lon_alone else []
    if not indices:
        return
    what = " and ".join(indices)
    raise CoordinateError(
        f"{what} look{'s' if len(indices) == 1 else ''} like row or column indices, not degrees",
        source=source,
        file=file,
        variable=", ".join(indices),
        found=f"lat {lat.min():g} .. {lat.max():g}, lon {lon.min():g} .. {lon.max():g}; {what} in steps of 1 "
        "from 0 or 1, without units or standard_name",
        expected="latitudes and longitudes in degrees (units 'degrees_north' / 'degrees_east')",
        hint="write the cell-centre degrees as the lat/lon coordinates; if these ARE degrees (a 1-degree "
        "regional grid), say so with units 'degrees_north' and 'degrees_east' (e.g. ncatted -a "
        "units,lat,o,c,degrees_north -a units,lon,o,c,degrees_east FILE)",
    )
