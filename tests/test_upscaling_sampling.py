"""Which 0.5 deg cell a site takes: own cell, nearest valid cell within the radius, or dropped."""

from __future__ import annotations

import numpy as np
import pytest

from rhbench.upscaling.sampling import SEARCH_RADIUS_KM, great_circle_km, own_cells, site_cells

# a 0.5 deg window: lat 50.25..51.75 (4 rows), lon -5.25..-3.75 (4 columns)
LAT = np.arange(50.25, 52.0, 0.5)
LON = np.arange(-5.25, -3.5, 0.5)


def _valid() -> np.ndarray:
    """Land in the east half (columns 2, 3) and in row 3; sea elsewhere."""
    valid = np.zeros((4, 4), dtype=bool)
    valid[:, 2:] = True
    valid[3, :] = True
    return valid


def test_great_circle_distance_matches_the_haversine_formula():
    # 0.5 deg of latitude = R * pi / 360 with R = 6371.007181 km
    assert great_circle_km(np.array([50.0]), np.array([0.0]), np.array([50.5]), np.array([0.0]))[0] == pytest.approx(
        6371.007181 * np.pi / 360, rel=1e-9
    )


def test_own_cell_indices_follow_cell_edges_and_wrap_longitudes():
    ilat, ilon = own_cells(LAT, LON, np.array([50.01, 50.49, 50.51, 51.99]), np.array([-5.49, -5.01, 355.0, -3.51]))
    assert ilat.tolist() == [0, 0, 1, 3]
    assert ilon.tolist() == [0, 0, 1, 3]  # 355 E = -5.0 W, the west edge of column 1 (-5.0..-4.5)


def test_sites_take_own_cell_nearest_valid_cell_or_are_dropped():
    lat = np.array([50.3, 50.3, 50.3, 51.2])
    lon = np.array([-4.2, -4.8, -5.4, -5.4])
    cells = site_cells(_valid(), LAT, LON, lat, lon)
    # site 0: own cell (0, 2) is land
    # site 1: own cell (0, 1) is sea; nearest land centre (50.25, -4.25) is 0.55 deg of
    #         longitude away at 50.3 N (~39 km) -> moved there
    # site 2: own cell (0, 0) is sea; nearest land centre (50.25, -4.25) ~82 km -> dropped
    # site 3: own cell (1, 0) is sea; nearest land (51.75, -5.25) ~62 km or (51.25, -4.25) ~80 km -> dropped
    assert cells.status.tolist() == ["own cell", "moved", "dropped", "dropped"]
    assert cells.ilat.tolist() == [0, 0, -1, -1]
    assert cells.ilon.tolist() == [2, 2, -1, -1]
    expected = great_circle_km(np.array([50.3]), np.array([-4.8]), np.array([50.25]), np.array([-4.25]))[0]
    assert cells.distance_km[1] == pytest.approx(expected)
    assert 35.0 < cells.distance_km[1] < SEARCH_RADIUS_KM
    assert np.isnan(cells.distance_km[2:]).all()
    summary = cells.summary()
    assert (summary["own_cell"], summary["moved"], summary["dropped"]) == (1, 1, 2)
    assert summary["moved_max_km"] == pytest.approx(expected)


def test_a_larger_radius_moves_the_site_a_smaller_one_dropped():
    lat, lon = np.array([51.2]), np.array([-5.4])
    near = great_circle_km(lat, lon, np.array([51.75]), np.array([-5.25]))[0]
    assert site_cells(_valid(), LAT, LON, lat, lon, radius_km=near + 1).status.tolist() == ["moved"]
    assert site_cells(_valid(), LAT, LON, lat, lon, radius_km=near - 1).status.tolist() == ["dropped"]
    moved = site_cells(_valid(), LAT, LON, lat, lon, radius_km=near + 1)
    assert (moved.ilat[0], moved.ilon[0]) == (3, 0)


def test_nearest_cell_search_uses_great_circle_not_degree_distance():
    # at 60 N a degree of longitude is half a degree of latitude: a cell 0.75 deg east is
    # nearer (~42 km) than one 0.5 deg north (~56 km)
    lat_c, lon_c = np.array([59.75, 60.25, 60.75]), np.array([9.75, 10.25, 10.75, 11.25])
    valid = np.zeros((3, 4), dtype=bool)
    valid[2, 0] = True  # (60.75, 9.75)
    valid[1, 3] = True  # (60.25, 11.25)
    cells = site_cells(valid, lat_c, lon_c, np.array([60.25]), np.array([10.5]), radius_km=200)
    assert (cells.ilat[0], cells.ilon[0]) == (1, 3)
