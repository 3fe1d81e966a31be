"""The units of a latitude / longitude coordinate: degrees north and east, latitudes within -90..90.

Read as degrees, a coordinate in radians, in degrees south or west, or an index (units '1') moves or
shrinks every cell without a word; :func:`check_degrees` refuses them naming the file
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
