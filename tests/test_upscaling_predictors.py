"""Vegetation classes, the site-column fill/drop rule, and site predictors from a gridded stack."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from rhbench.errors import DataError, MissingVariableError, UnitsError
from rhbench.upscaling.predictors import build_site_predictors, site_vegetation
from rhbench.upscaling.stack import grid_table, stack_from_grids
from rhbench.vegclass import CLASS_NAMES


def _grid() -> xr.Dataset:
    """4 x 4 cells of 1 deg at lat 0.5..3.5, lon 10.5..13.5; tas = lat index * 10 +
    lon index (degC), pr = 100 * tas (mm yr-1); classes ENF, Crop, 0 (none) and NaN."""
    lat = np.arange(0.5, 4.0)
    lon = np.arange(10.5, 14.0)
    tas = np.add.outer(np.arange(4) * 10.0, np.arange(4.0))
    veg = np.array([[1, 1, 9, 9], [1, 1, 9, 9], [0, 0, 10, 10], [1, 1, 1, np.nan]])
    tas[3, 3] = np.nan
    return xr.Dataset(
        {
            "tas": (("lat", "lon"), tas, {"units": "degC"}),
            "pr": (("lat", "lon"), tas * 100.0, {"units": "mm yr-1"}),
            "vegclass": (
                ("lat", "lon"),
                veg,
                {"flag_values": list(range(11)), "flag_meanings": "none " + " ".join(CLASS_NAMES)},
            ),
        },
        coords={"lat": lat, "lon": lon},
    )


def _sites(**columns) -> pd.DataFrame:
    n = len(next(iter(columns.values())))
    base = {
        "Latitude": [40.0] * n,
        "Longitude": [0.0] * n,
        "Biome": ["Temperate"] * n,
        "Leaf_habit": [np.nan] * n,
        "Ecosystem_type": ["Grassland"] * n,
        "MAT": [5.0] * n,
        "MAP": [500.0] * n,
        "Rh_annual": [300.0] * n,
        "zone": ["temperate"] * n,
    }
    base.update(columns)
    return pd.DataFrame(base)


def test_site_vegetation_follows_the_documented_rule():
    sites = _sites(
        Ecosystem_type=[
            "Forest",
            "Forest",
            "Forest",
            "Forest",
            "Forest",
            "Forest",
            "Plantation",
            "Grassland",
            "Grassland",
            "Agriculture",
            "Shrubland",
            "Savanna",
            "Bare",
        ],
        Leaf_habit=[
            "Evergreen",
            "Evergreen",
            "Evergreen",
            "Deciduous",
            "Deciduous",
            "Mixed",
            "Evergreen",
            np.nan,
            np.nan,
            "Deciduous",
            np.nan,
            np.nan,
            np.nan,
        ],
        Species=[
            "Pinus sylvestris",
            "Castanopsis eyrei",
            np.nan,
            "Larix gmelinii",
            "Quercus robur",
            "Picea; Betula",
            "Cunninghamia lanceolata",
            np.nan,
            np.nan,
            np.nan,
            np.nan,
            np.nan,
            np.nan,
        ],
        Biome=[
            "Boreal",
            "Subtropical",
            "Boreal",
            "Boreal",
            "Temperate",
            "Boreal",
            "Subtropical",
            "Temperate",
            "Arctic",
            "Temperate",
            "Temperate",
            "Tropical",
            "Temperate",
        ],
        Latitude=[60.0, 25.0, 62.0, 52.0, 48.0, 55.0, 27.0, 40.0, 50.0, 40.0, 56.0, 5.0, 40.0],
    )
    assert site_vegetation(sites).fillna("?").tolist() == [
        "ENF",
        "EBF",
        "ENF",
        "DNF",
        "DBF",
        "MF",
        "ENF",
        "Grassland",
        "Tundra",
        "Crop",
        "Tundra",
        "Savanna",
        "?",
    ]


def test_site_predictors_come_from_the_grid_cell_and_site_latitude():
    sites = _sites(Latitude=[0.9, 2.2], Longitude=[10.1, 13.4], MAT=[np.nan, 99.0])
    result = build_site_predictors(sites, stack_from_grids(_grid()))
    assert result.X["MAT"].tolist() == [0.0, 23.0]  # grid values; the site MAT 99 is not used
    assert result.X["MAP"].tolist() == [0.0, 2300.0]
    assert result.X["veg_ENF"].tolist() == [1.0, 0.0]
    assert result.X["veg_Tundra"].tolist() == [0.0, 1.0]
    assert result.X["abs_lat"].tolist() == [0.9, 2.2]  # the site's own latitude
    assert result.sites["cell_status"].tolist() == ["own cell", "own cell"]


def test_sites_in_invalid_cells_move_to_a_valid_neighbour_or_are_dropped_and_counted():
    # (3.4, 13.6) sits in the NaN cell (3, 3): its neighbour (3.5, 12.5) is 1 deg (~111 km)
    # away, beyond the 55 km radius -> dropped; (2.6, 10.4) sits in a class-0 cell (2, 0):
    # the valid cell (3.5, 10.5) is ~101 km away -> dropped as well; (0.4, 11.4) is valid.
    sites = _sites(Latitude=[3.4, 2.6, 0.4], Longitude=[13.6, 10.4, 11.4])
    result = build_site_predictors(sites, stack_from_grids(_grid()))
    log = result.log.set_index("step")
    assert log.loc["dropped: no valid predictor cell within 55 km", "removed"] == 2
    assert result.cells == {
        "own_cell": 1,
        "moved": 0,
        "dropped": 2,
        "moved_median_km": 0.0,
        "moved_max_km": 0.0,
        "search_radius_km": 55.0,
    }
    assert result.X["MAT"].tolist() == [1.0]


def test_without_grid_rows_missing_climate_or_class_are_dropped():
    sites = _sites(
        MAT=[np.nan, 1.0, 2.0],
        Study_temp=[4.0, np.nan, np.nan],
        Ecosystem_type=["Grassland", "Bare", "Grassland"],
    )
    result = build_site_predictors(sites)
    assert result.log["removed"].tolist() == [0, 0, 1]
    assert result.log["filled"].tolist() == [1, 0, 0]
    assert result.X["MAT"].tolist() == [4.0, 2.0]


def test_grid_table_skips_nan_and_unclassified_cells():
    table, ilat, ilon = grid_table(stack_from_grids(_grid()))
    assert len(table) == 16 - 2 - 1  # two class-0 cells, one NaN cell
    row = np.nonzero((ilat == 1) & (ilon == 2))[0][0]
    assert table.loc[row, "MAT"] == 12.0
    assert table.loc[row, "veg_Crop"] == 1.0
    assert table.loc[row, "abs_lat"] == 1.5


def test_grid_with_0_360_longitudes_is_wrapped_before_sampling():
    grids = _grid().assign_coords(lon=[190.5, 191.5, 192.5, 193.5])
    result = build_site_predictors(_sites(Latitude=[0.5], Longitude=[-168.5]), stack_from_grids(grids))
    assert result.X["MAT"].tolist() == [1.0]


def test_demo_grids_with_missing_variable_wrong_units_or_flags_are_refused():
    with pytest.raises(MissingVariableError, match="vegclass"):
        stack_from_grids(_grid().drop_vars("vegclass"))
    bad_units = _grid()
    bad_units["tas"].attrs["units"] = "K"
    with pytest.raises(UnitsError, match="tas"):
        stack_from_grids(bad_units)
    no_flags = _grid()
    no_flags["vegclass"].attrs = {}
    with pytest.raises(DataError, match="flag_meanings"):
        stack_from_grids(no_flags)
