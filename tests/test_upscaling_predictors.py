"""Vegetation classes, grid extraction and the fill/drop rule of the predictor tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from rhbench.errors import DataError, MissingVariableError, UnitsError
from rhbench.upscaling.predictors import (
    PREDICTORS,
    build_site_predictors,
    check_grids,
    grid_predictors,
    grid_values_at_sites,
    site_vegetation,
)
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


def test_grid_values_at_sites_take_the_nearest_cell_and_decode_classes():
    grids = check_grids(_grid())
    values = grid_values_at_sites(grids, np.array([0.9, 2.2, 3.4]), np.array([10.1, 13.4, 13.6]))
    assert values["MAT"].tolist()[:2] == [0.0, 23.0]
    assert np.isnan(values["MAT"].iloc[2])
    assert values["MAP"].iloc[1] == 2300.0
    assert values["vegetation"].tolist()[:2] == ["ENF", "Tundra"]


def test_missing_site_values_are_filled_from_grid_or_dropped_and_counted():
    sites = _sites(
        Latitude=[0.6, 1.6, 2.4, 3.4, 0.4],
        Longitude=[10.6, 12.6, 10.4, 13.6, 11.4],
        MAT=[np.nan, np.nan, np.nan, np.nan, 7.0],
        MAP=[np.nan, 111.0, np.nan, 50.0, 70.0],
        Ecosystem_type=["Bare", "Grassland", "Grassland", "Bare", "Grassland"],
    )
    result = build_site_predictors(sites, _grid())
    log = result.log.set_index("step")
    assert log.loc["MAT filled from gridded predictors", "filled"] == 3  # (3,3) is NaN
    assert log.loc["MAP filled from gridded predictors", "filled"] == 2
    assert log.loc["vegetation filled from gridded predictors", "filled"] == 1  # (3,3) NaN
    assert log.loc["drop rows still missing MAT or MAP", "removed"] == 1
    assert log.loc["drop rows still missing vegetation class", "removed"] == 0
    assert result.X["MAT"].tolist() == [0.0, 12.0, 20.0, 7.0]
    assert result.X["MAP"].tolist() == [0.0, 111.0, 2000.0, 70.0]
    assert result.sites["vegetation"].tolist() == ["ENF", "Grassland", "Grassland", "Grassland"]
    assert list(result.X.columns) == list(PREDICTORS)
    assert result.X.filter(like="veg_").sum(axis=1).tolist() == [1.0] * 4


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


def test_grid_predictors_skip_nan_and_unclassified_cells():
    table = grid_predictors(_grid())
    assert len(table) == 16 - 2 - 1  # two class-0 cells, one NaN cell
    assert list(table.columns) == list(PREDICTORS)
    assert table.loc[(1.5, 12.5), "MAT"] == 12.0
    assert table.loc[(1.5, 12.5), "veg_Crop"] == 1.0
    assert table.index.names == ["lat", "lon"]


def test_grid_with_0_360_longitudes_is_wrapped_before_extraction():
    grids = _grid().assign_coords(lon=[190.5, 191.5, 192.5, 193.5])
    values = grid_values_at_sites(check_grids(grids), np.array([0.5]), np.array([-168.5]))
    assert values["MAT"].tolist() == [1.0]


def test_check_grids_names_missing_variable_wrong_units_and_flags():
    with pytest.raises(MissingVariableError, match="vegclass"):
        check_grids(_grid().drop_vars("vegclass"))
    bad_units = _grid()
    bad_units["tas"].attrs["units"] = "K"
    with pytest.raises(UnitsError, match="tas"):
        check_grids(bad_units)
    no_flags = _grid()
    no_flags["vegclass"].attrs = {}
    with pytest.raises(DataError, match="flag_meanings"):
        check_grids(no_flags)
