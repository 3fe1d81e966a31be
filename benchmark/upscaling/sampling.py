"""Which grid cell each site takes its predictors from.

Rule (documented in the README, counted in ``filter_log.csv`` and ``site_cells.csv``):
a site takes the cell that contains it when that cell is valid (every predictor
present); otherwise the valid cell whose centre is nearest on the sphere, when that centre
is within :data:`SEARCH_RADIUS_KM` of the site (coastal and lake-shore sites whose own cell
is water or unvegetated in the stack); otherwise the site is dropped. Distances are
great-circle distances on a sphere of radius :data:`rhbench.grid.EARTH_RADIUS_M`.

The radius, 55 km, is about one 0.5 deg cell at the equator: a moved site takes a cell
adjacent (or diagonal) to its own, never one further away.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

from rhbench.grid import EARTH_RADIUS_M

SEARCH_RADIUS_KM = 55.0


@dataclass(frozen=True)
class SiteCells:
    """Cell of every site: ``ilat``/``ilon`` indices (-1 when dropped), ``status``
    ("own cell", "moved", "dropped") and ``distance_km`` from the site to the centre of
    the cell used (NaN when dropped)."""

    ilat: np.ndarray
    ilon: np.ndarray
    status: np.ndarray
    distance_km: np.ndarray

    @property
    def kept(self) -> np.ndarray:
        """Bool per site: True when the site has a cell (not dropped)."""
        return self.status != "dropped"

    def summary(self) -> dict[str, float | int]:
        """Counts per status and the moved sites' distances (km)."""
        moved = self.status == "moved"
        far = self.distance_km[moved]
        return {
            "own_cell": int((self.status == "own cell").sum()),
            "moved": int(moved.sum()),
            "dropped": int((self.status == "dropped").sum()),
            "moved_median_km": float(np.median(far)) if far.size else 0.0,
            "moved_max_km": float(far.max()) if far.size else 0.0,
            "search_radius_km": SEARCH_RADIUS_KM,
        }


def _unit_vectors(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    phi, lam = np.deg2rad(lat), np.deg2rad(lon)
    return np.column_stack([np.cos(phi) * np.cos(lam), np.cos(phi) * np.sin(lam), np.sin(phi)])


def great_circle_km(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray) -> np.ndarray:
    """Great-circle distance in km between points given in degrees."""
    chord = np.linalg.norm(_unit_vectors(lat1, lon1) - _unit_vectors(lat2, lon2), axis=1)
    return 2.0 * np.arcsin(np.clip(chord / 2.0, 0.0, 1.0)) * EARTH_RADIUS_M / 1000.0


def own_cells(grid_lat: np.ndarray, grid_lon: np.ndarray, lat: np.ndarray, lon: np.ndarray) -> tuple:
    """Indices (lat, lon) of the cells containing each point on a regular grid (centres ascending);
    latitudes and longitudes in degrees (point longitudes wrapped to [-180, 180))."""
    lon = ((np.asarray(lon, dtype=float) + 180.0) % 360.0) - 180.0

    def index(centres: np.ndarray, x: np.ndarray) -> np.ndarray:
        edges = np.concatenate([[centres[0] - (centres[1] - centres[0]) / 2], (centres[1:] + centres[:-1]) / 2])
        return np.clip(np.searchsorted(edges, x, side="right") - 1, 0, centres.size - 1)

    return index(np.asarray(grid_lat, float), np.asarray(lat, float)), index(np.asarray(grid_lon, float), lon)


def site_cells(
    valid: np.ndarray,
    grid_lat: np.ndarray,
    grid_lon: np.ndarray,
    lat: np.ndarray,
    lon: np.ndarray,
    radius_km: float = SEARCH_RADIUS_KM,
) -> SiteCells:
    """Apply the rule of this module to sites at ``lat``/``lon`` (degrees).

    ``valid`` is the (lat, lon) mask of cells with every predictor; ``grid_lat`` ascending
    and ``grid_lon`` in [-180, 180) ascending are the cell centres (degrees).
    """
    lat = np.asarray(lat, dtype=float)
    lon = ((np.asarray(lon, dtype=float) + 180.0) % 360.0) - 180.0
    ilat, ilon = own_cells(grid_lat, grid_lon, lat, lon)
    status = np.where(valid[ilat, ilon], "own cell", "dropped").astype(object)
    distance = great_circle_km(lat, lon, grid_lat[ilat], grid_lon[ilon])
    vlat, vlon = np.nonzero(valid)
    away = status == "dropped"
    if away.any() and vlat.size:
        tree = cKDTree(_unit_vectors(grid_lat[vlat], grid_lon[vlon]))
        _, nearest = tree.query(_unit_vectors(lat[away], lon[away]))
        near_lat, near_lon = vlat[nearest], vlon[nearest]
        km = great_circle_km(lat[away], lon[away], grid_lat[near_lat], grid_lon[near_lon])
        inside = km <= radius_km
        idx = np.nonzero(away)[0]
        ilat[idx[inside]], ilon[idx[inside]] = near_lat[inside], near_lon[inside]
        status[idx[inside]] = "moved"
        distance[idx] = np.where(inside, km, np.nan)
    dropped = status == "dropped"
    ilat, ilon = np.where(dropped, -1, ilat), np.where(dropped, -1, ilon)
    distance = np.where(dropped, np.nan, distance)
    return SiteCells(ilat, ilon, status.astype(str), distance)
