"""SRDB reading, the paper's filters and the climate-zone rule."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rhbench.errors import SiteDataError
from rhbench.upscaling.srdb import assign_climate_zone, filter_srdb, load_srdb, read_srdb

SRDB_CSV = Path(__file__).parents[1].parent / "shared" / "data" / "srdb" / "srdb-data.csv"


def _require_srdb() -> Path:
    if not SRDB_CSV.is_file():
        if os.environ.get("CI"):
            pytest.fail(f"shared SRDB copy missing at {SRDB_CSV}")
        pytest.skip(f"shared SRDB copy not found at {SRDB_CSV}")
    return SRDB_CSV


def _rows(**overrides) -> pd.DataFrame:
    base = {
        "Rh_annual": [300.0, 400.0],
        "Latitude": [45.0, 10.0],
        "Longitude": [5.0, -60.0],
        "Study_midyear": [2001.5, 2003.5],
        "YearsOfData": [1.0, 2.0],
        "MAT": [10.0, 25.0],
        "MAP": [800.0, 2000.0],
        "Manipulation": ["None", "None"],
        "Meas_method": ["IRGA", "IRGA"],
        "Ecosystem_type": ["Forest", "Forest"],
        "Leaf_habit": ["Deciduous", "Evergreen"],
        "Biome": ["Temperate", "Tropical"],
    }
    base.update(overrides)
    return pd.DataFrame(base)


@pytest.mark.shared_data
def test_real_srdb_filter_steps_leave_689_then_686_rows():
    rows, log = load_srdb(_require_srdb())
    assert log["rows_left"].tolist() == [10366, 1048, 1037, 766, 689, 689, 686]
    assert log["removed"].tolist() == [0, 9318, 11, 271, 77, 0, 3]
    assert len(rows) == 686
    assert rows["zone"].value_counts().to_dict() == {"temperate": 536, "boreal": 82, "tropical": 68}
    assert (rows["Manipulation"] == "None").all()
    assert rows["Rh_annual"].max() < 455.4 + 6 * 296.6


def test_manipulation_none_string_survives_reading(tmp_path):
    csv = tmp_path / "srdb.csv"
    _rows(Manipulation=["None", "Warmed"]).to_csv(csv, index=False)
    table = read_srdb(csv)
    assert table["Manipulation"].tolist() == ["None", "Warmed"]
    rows, log = filter_srdb(table)
    assert len(rows) == 1
    assert log.set_index("step").loc["no manipulation (Manipulation == 'None')", "removed"] == 1


def test_filters_drop_alkali_soda_lime_short_records_and_missing_coordinates():
    table = pd.concat([_rows()] * 4, ignore_index=True)
    table.loc[0, "Meas_method"] = "Alkali absorption"
    table.loc[1, "Meas_method"] = "Soda lime"
    table.loc[2, "YearsOfData"] = 0.5
    table.loc[3, "Study_midyear"] = np.nan
    table.loc[4, "Rh_annual"] = 0.0
    rows, log = filter_srdb(table)
    assert log["removed"].tolist() == [0, 1, 1, 0, 2, 1, 0]
    assert len(rows) == 3


def test_outliers_beyond_6_sd_are_removed_once():
    rh = np.r_[np.full(100, 300.0), 310.0, 10000.0]
    table = pd.concat([_rows()] * 51, ignore_index=True)
    table["Rh_annual"] = rh
    rows, log = filter_srdb(table)
    # mean 396.2, sample SD 958.7: 10000 is 10.0 SD away, 310 is 0.09 SD away
    assert log["removed"].iloc[-1] == 1
    assert rows["Rh_annual"].max() == 310.0


def test_zone_prefers_biome_then_latitude():
    table = pd.DataFrame(
        {
            "Biome": [
                "Tropical",
                "Boreal",
                "Arctic",
                "Subtropical",
                "Mediterranean",
                "Alpine",
                np.nan,
                np.nan,
                np.nan,
            ],
            "Latitude": [30.0, 45.0, 60.0, 10.0, 38.0, 52.0, -10.0, 40.0, -23.5],
        }
    )
    zones = assign_climate_zone(table).tolist()
    assert zones == [
        "tropical",
        "boreal",
        "boreal",
        "temperate",
        "temperate",
        "boreal",
        "tropical",
        "temperate",
        "temperate",
    ]


def test_text_in_numeric_column_names_file_column_and_expectation(tmp_path):
    csv = tmp_path / "bad.csv"
    _rows(Rh_annual=["300", "n/a?"]).to_csv(csv, index=False)
    with pytest.raises(SiteDataError) as err:
        read_srdb(csv)
    message = str(err.value)
    assert "Rh_annual" in message and "bad.csv" in message and "a number" in message
    assert "row 2" in message


def test_missing_required_column_is_named(tmp_path):
    csv = tmp_path / "short.csv"
    _rows().drop(columns=["Meas_method"]).to_csv(csv, index=False)
    with pytest.raises(SiteDataError, match="Meas_method"):
        read_srdb(csv)


def test_non_utf8_file_is_a_site_data_error(tmp_path):
    csv = tmp_path / "latin1.csv"
    _rows(Biome=["Temp\u00e9rate", "Tropical"]).to_csv(csv, index=False, encoding="latin-1")
    with pytest.raises(SiteDataError, match="UTF-8"):
        read_srdb(csv)


def test_out_of_range_latitude_is_a_site_data_error(tmp_path):
    csv = tmp_path / "lat.csv"
    _rows(Latitude=[45.0, 145.0]).to_csv(csv, index=False)
    with pytest.raises(SiteDataError, match="Latitude"):
        load_srdb(csv)
