"""Real geography offline: land polygons, coastlines and land masks from a bundled file.

The file ``ne_110m_land.npz`` (37 KB) beside this module holds the vertices of Natural
Earth's 1:110m physical "land" polygons (ne_110m_land, 127 polygons: 127 outer rings and one
hole, the Caspian Sea), as float32 longitude/latitude in degrees, in the GeoJSON conversion of
github.com/martynafford/natural-earth-geojson (``110m/physical/ne_110m_land.json``, commit
0b9a6ce); ``lonlat`` (n, 2) concatenates the rings and ``starts`` gives where each begins
(one more entry than rings). Natural Earth is in the public domain
(https://www.naturalearthdata.com/about/terms-of-use/); the file's ``source`` and ``licence``
entries say so too. It replaces contouring the 1-km GLOBE mask of ``global_land_mask`` (a
~900 MB, 3 s import) for map coastlines and the demo's continents; nothing here uses the network.
"""

from __future__ import annotations

from functools import lru_cache
from itertools import groupby
from pathlib import Path

import numpy as np

#: The bundled Natural Earth 1:110m land polygons (see the module docstring).
LAND_FILE = Path(__file__).with_name("ne_110m_land.npz")
#: Longitude of the antimeridian and latitude of the pole, where Natural Earth cuts its
#: polygons: ring edges lying along them are not coastlines.
_CUT_LON, _CUT_LAT = 180.0, -90.0


@lru_cache(maxsize=1)
def land_rings() -> tuple[np.ndarray, ...]:
    """Every ring of the land polygons as a closed (n, 2) array of (lon, lat) in degrees,
    longitudes in -180..180. Holes are rings too: a point is on land when an odd number of
    rings contains it."""
    with np.load(LAND_FILE, allow_pickle=False) as data:
        lonlat, starts = data["lonlat"].astype(float), data["starts"]
    return tuple(lonlat[a:b] for a, b in zip(starts[:-1], starts[1:], strict=True))


@lru_cache(maxsize=1)
def coastlines() -> tuple[np.ndarray, ...]:
    """Coastlines as (lon, lat) polylines in degrees: the land rings without their edges along
    the antimeridian (lon = +-180) and the South Pole (lat = -90), where Natural Earth cuts
    polygons that cross them (Antarctica, Fiji, Chukotka, Wrangel Island)."""
    lines = []
    for ring in land_rings():
        a, b = ring[:-1], ring[1:]  # edge i runs from a[i] to b[i]
        cut = ((np.abs(a[:, 0]) == _CUT_LON) & (a[:, 0] == b[:, 0])) | ((a[:, 1] == _CUT_LAT) & (b[:, 1] == _CUT_LAT))
        if not cut.any():
            lines.append(ring)
            continue
        # start right after a cut edge so that no kept run wraps around the ring's end
        order = np.roll(np.arange(cut.size), -(int(np.flatnonzero(cut)[0]) + 1))
        for is_cut, group in groupby(order, key=lambda edge: cut[edge]):
            if not is_cut:
                edges = list(group)
                lines.append(np.concatenate([a[edges], b[edges[-1:]]]))
    return tuple(line for line in lines if len(line) > 1)


def land_mask(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Land mask of the grid of cell centres ``lat`` x ``lon`` (Natural Earth 1:110m).

    Parameters
    ----------
    lat, lon: 1-D cell-centre coordinates in degrees north and east, any order, any
        longitude convention (wrapped into -180..180).

    Returns
    -------
    Boolean array (lat, lon): True where the cell centre lies on land, by the even-odd rule
    over every ring (so the Caspian Sea is water). At 1:110m islands smaller than ~50 km are
    missing. The rings are scan-converted row by row: a 0.5 degree grid takes milliseconds.
    """
    lat = np.asarray(lat, dtype=float)
    lon = ((np.asarray(lon, dtype=float) + 180.0) % 360.0) - 180.0
    lat_order, lon_order = np.argsort(lat), np.argsort(lon)
    rows, cols = lat[lat_order], lon[lon_order]
    # crossings[i, j]: ring edges crossing row i left of column j (a ray cast towards the west)
    crossings = np.zeros((rows.size, cols.size + 1), dtype=np.int64)
    for ring in land_rings():
        (x0, y0), (x1, y1) = ring[:-1].T, ring[1:].T
        # an edge crosses the rows min(y0, y1) <= y < max(y0, y1) (half-open: a vertex once)
        first = np.searchsorted(rows, np.minimum(y0, y1), side="left")
        count = np.searchsorted(rows, np.maximum(y0, y1), side="left") - first
        edge = np.repeat(np.arange(x0.size), count)
        row = np.repeat(first - np.cumsum(count) + count, count) + np.arange(count.sum())
        y = rows[row]
        x = x0[edge] + (y - y0[edge]) * (x1[edge] - x0[edge]) / (y1[edge] - y0[edge])
        np.add.at(crossings, (row, np.searchsorted(cols, x, side="right")), 1)
    inside = (np.cumsum(crossings, axis=1)[:, :-1] % 2).astype(bool)
    mask = np.empty_like(inside)
    mask[np.ix_(lat_order, lon_order)] = inside
    return mask
