"""The bundled Natural Earth 1:110m land: rings, coastlines and the scan-converted land mask."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.path import Path as PolygonPath

from rhbench import geography, grid


def test_bundled_file_is_small_and_says_where_it_comes_from():
    assert geography.LAND_FILE.stat().st_size < 100_000
    with np.load(geography.LAND_FILE, allow_pickle=False) as data:
        assert "Natural Earth" in str(data["source"]) and "ne_110m_land" in str(data["source"])
        assert "public domain" in str(data["licence"]).lower()
    rings = geography.land_rings()
    assert len(rings) == 128  # 127 polygons, one with a hole (the Caspian Sea)
    assert all(np.array_equal(r[0], r[-1]) for r in rings)  # closed


def test_coastlines_leave_out_the_cuts_along_the_antimeridian_and_the_pole():
    lines = geography.coastlines()
    for line in lines:
        a, b = line[:-1], line[1:]
        assert not np.any((np.abs(a[:, 0]) == 180) & (a[:, 0] == b[:, 0]))
        assert not np.any((a[:, 1] == -90) & (b[:, 1] == -90))
    points = np.concatenate(lines)
    assert points[:, 1].min() > -90 and np.abs(points[:, 0]).max() <= 180
    # the rings hold every vertex; only the cut edges are missing
    assert len(points) >= sum(len(r) for r in geography.land_rings()) - 10


@pytest.mark.parametrize(
    ("lat", "lon", "land"),
    [
        (48.85, 2.35, True),  # Paris
        (-15.8, -47.9, True),  # Brasilia
        (42.0, 51.0, False),  # Caspian Sea (the hole)
        (0.0, -30.0, False),  # Atlantic
        (-25.0, 134.0, True),  # central Australia
        (36.2, 138.3, True),  # Honshu
        (52.0, 215.0, False),  # north-east Pacific, 0-360 convention
        (64.8, 212.3, True),  # Fairbanks, 0-360 convention
    ],
)
def test_land_mask_at_known_places(lat, lon, land):
    assert bool(geography.land_mask(np.array([lat]), np.array([lon]))[0, 0]) is land


def test_land_mask_equals_point_in_polygon_and_ignores_coordinate_order():
    target = grid.common_grid(2.0)
    lat, lon = target.lat.values, target.lon.values
    mask = geography.land_mask(lat, lon)
    lat2, lon2 = np.meshgrid(lat, lon, indexing="ij")
    points = np.column_stack([lon2.ravel(), lat2.ravel()])
    brute = np.zeros(len(points), dtype=bool)
    for ring in geography.land_rings():  # even-odd rule with matplotlib's point-in-polygon
        brute ^= PolygonPath(ring).contains_points(points)
    np.testing.assert_array_equal(mask, brute.reshape(mask.shape))
    # rows and columns come back in the order given, whatever the order and lon convention
    flipped = geography.land_mask(lat[::-1], (lon + 360.0) % 360.0)
    np.testing.assert_array_equal(flipped[::-1], mask)


def test_land_covers_29_percent_of_the_earth():
    # published: land is 29.2 % of the Earth's surface (148.9 of 510.1 million km2)
    target = grid.common_grid(0.5)
    area = grid.cell_area(target.lat, target.lon).values
    mask = geography.land_mask(target.lat.values, target.lon.values)
    assert float((area * mask).sum() / area.sum()) == pytest.approx(0.292, abs=0.005)
