"""SRDB reading, the paper's filters and the climate-zone rule."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rhbench.errors import SiteDataError
from rhbench.upscaling.srdb import (
    PROBLEM_FLAGS,
    REPEAT_KEY,
    assign_climate_zone,
    filter_srdb,
    load_srdb,
    quality_flags,
    read_srdb,
)

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
def test_real_srdb_filter_steps_leave_644_then_641_rows():
    rows, log = load_srdb(_require_srdb())
    assert log["rows_left"].tolist() == [10366, 1048, 1037, 766, 689, 689, 689, 679, 678, 644, 644, 641]
    # flags: 2 Q10, 3 "Q1,Q10", 5 Q11; 1 Duplicate_record; 34 exact repeats (e.g. 10 of one study's 11 plots)
    assert log["removed"].tolist() == [0, 9318, 11, 271, 77, 0, 0, 10, 1, 34, 0, 3]
    assert len(rows) == 641
    assert rows["zone"].value_counts().to_dict() == {"temperate": 496, "boreal": 80, "tropical": 65}
    assert not quality_flags(rows).map(lambda codes: bool(codes & PROBLEM_FLAGS.keys())).any()
    assert not rows.duplicated(list(REPEAT_KEY)).any()
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


def test_manipulation_none_in_any_case_or_spacing_is_unmanipulated(tmp_path):
    # a re-exported SRDB may write "none" or "None " (trailing space): still no manipulation
    csv = tmp_path / "srdb.csv"
    spellings = ["none", "None ", " NONE", "Warmed", "nonexistent"]
    _rows(**{k: v * 5 for k, v in _rows().iloc[:1].to_dict(orient="list").items()}).assign(
        Manipulation=spellings, Latitude=[1.0, 2.0, 3.0, 4.0, 5.0]
    ).to_csv(csv, index=False)
    rows, log = filter_srdb(read_srdb(csv))
    assert rows["Manipulation"].tolist() == ["none", "None ", " NONE"]
    assert log.set_index("step").loc["no manipulation (Manipulation == 'None')", "removed"] == 2


def _distinct(table: pd.DataFrame) -> pd.DataFrame:
    """Copies of the base rows made distinct sites (no exact repeats for step 9)."""
    return table.assign(Latitude=np.linspace(-60.0, 60.0, len(table)))


def test_filters_drop_alkali_soda_lime_short_records_and_missing_coordinates():
    table = _distinct(pd.concat([_rows()] * 4, ignore_index=True))
    table.loc[0, "Meas_method"] = "Alkali absorption"
    table.loc[1, "Meas_method"] = "Soda lime"
    table.loc[2, "YearsOfData"] = 0.5
    table.loc[3, "Study_midyear"] = np.nan
    table.loc[4, "Rh_annual"] = 0.0
    rows, log = filter_srdb(table)
    assert log["removed"].tolist() == [0, 1, 1, 0, 2, 1, 0, 0, 0, 0, 0, 0]
    assert len(rows) == 3


def test_outliers_beyond_6_sd_are_removed_once():
    rh = np.r_[np.full(100, 300.0), 310.0, 10000.0]
    table = _distinct(pd.concat([_rows()] * 51, ignore_index=True))
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


def test_quality_flags_parse_single_combined_and_unpadded_codes():
    table = pd.DataFrame({"Quality_flag": ["Q01", "Q01,Q10", "Q01, Q11", "q1;Q12", " Q13 ", np.nan, "", "Q03,Q10,Q16"]})
    assert quality_flags(table).tolist() == [
        {1},
        {1, 10},
        {1, 11},
        {1, 12},
        {13},
        set(),
        set(),
        {3, 10, 16},
    ]
    assert quality_flags(pd.DataFrame({"Other": [1, 2]})).tolist() == [set(), set()]


def test_unreadable_quality_flag_names_row_and_value():
    with pytest.raises(SiteDataError) as err:
        quality_flags(pd.DataFrame({"Quality_flag": ["Q01", "Q01,bad"]}))
    message = str(err.value)
    assert "Quality_flag" in message and "row 2" in message and "Q01,bad" in message


def test_problem_flags_known_duplicates_and_exact_repeats_are_dropped_from_a_csv(tmp_path):
    """Hand-made CSV: 8 records; Q10-Q14 alone or combined drop, Q01-Q04/Q15/Q16 stay,
    Duplicate_record drops, and an exact repeat of (lat, lon, year, Rh) keeps the first."""
    base = _rows()
    table = pd.concat([base.iloc[[0]]] * 8, ignore_index=True)
    table["Latitude"] = [40.0, 41.0, 42.0, 43.0, 44.0, 45.0, 46.0, 46.0]
    table["Rh_annual"] = [300.0, 310.0, 320.0, 330.0, 340.0, 350.0, 360.0, 360.0]
    table["Quality_flag"] = ["", "Q01, Q11", "Q1,Q10", "Q14", "Q02", "Q03,Q16", "Q15", "Q01"]
    table["Duplicate_record"] = [np.nan, np.nan, np.nan, np.nan, 1376, np.nan, np.nan, np.nan]
    csv = tmp_path / "flags.csv"
    table.to_csv(csv, index=False)
    rows, log = load_srdb(csv)
    steps = log.set_index("step")["removed"]
    assert steps["no SRDB problem flag (Q10, Q11, Q12, Q13, Q14)"] == 3
    assert steps["not a known duplicate (Duplicate_record empty)"] == 1
    assert steps["not an exact repeat of (Latitude, Longitude, Study_midyear, Rh_annual)"] == 1
    assert rows["Rh_annual"].tolist() == [300.0, 350.0, 360.0]
    assert rows["Quality_flag"].fillna("").tolist() == ["", "Q03,Q16", "Q15"]


def test_unreadable_quality_flag_drops_only_that_row_with_a_count_and_a_warning(tmp_path, caplog):
    """One broken Quality_flag cell (a typo 'Q1O', 'NA', free text) must not sink the product:
    the row is dropped (it may mark a problem) by its own counted filter step, and a warning
    names the file, the data row and the value. Odd but readable flags parse."""
    csv = tmp_path / "flags.csv"
    table = pd.concat([_rows().iloc[[0]]] * 6, ignore_index=True)
    table["Latitude"] = [40.0, 41.0, 42.0, 43.0, 44.0, 45.0]
    table["Quality_flag"] = ["Q01", "Q1O", "Q10 ", "q10;Q01", "", "see notes"]
    table.to_csv(csv, index=False)
    with caplog.at_level("WARNING", logger="rhbench.upscaling.srdb"):
        rows, log = load_srdb(csv)
    steps = log.set_index("step")["removed"]
    assert steps["Quality_flag readable (Q followed by digits)"] == 2
    assert steps["no SRDB problem flag (Q10, Q11, Q12, Q13, Q14)"] == 2
    assert rows["Latitude"].tolist() == [40.0, 44.0]
    warning = " ".join(r.getMessage() for r in caplog.records if r.levelname == "WARNING")
    assert "flags.csv" in warning and "Quality_flag" in warning
    assert "data row 2: 'Q1O'" in warning and "data row 6: 'see notes'" in warning


def test_srdb_without_quality_columns_warns_that_the_quality_steps_do_not_apply(tmp_path, caplog):
    """An older or trimmed SRDB without Quality_flag / Duplicate_record reads (nothing to
    filter on), but says so: a removed count of 0 must not pass for 'checked, all clean'."""
    csv = tmp_path / "old.csv"
    _rows().to_csv(csv, index=False)
    with caplog.at_level("WARNING", logger="rhbench.upscaling.srdb"):
        rows, _ = load_srdb(csv)
    assert len(rows) == 2
    warning = " ".join(r.getMessage() for r in caplog.records if r.levelname == "WARNING")
    assert "old.csv" in warning and "Quality_flag" in warning and "Duplicate_record" in warning


def test_blank_duplicate_record_cell_is_not_a_duplicate(tmp_path):
    csv = tmp_path / "dup.csv"
    _rows(Duplicate_record=["  ", "3904"], Quality_flag=["", ""]).to_csv(csv, index=False)
    rows, log = load_srdb(csv)
    assert rows["Latitude"].tolist() == [45.0]
    assert log.set_index("step")["removed"]["not a known duplicate (Duplicate_record empty)"] == 1


def test_na_in_a_numeric_column_is_missing_and_other_text_an_error(tmp_path):
    # an SRDB re-exported by R writes NA for an empty cell: read as missing, dropped and counted
    csv = tmp_path / "srdb.csv"
    table = _rows().astype(object)
    table.loc[0, "Rh_annual"] = "NA"
    table.loc[1, "MAT"] = " NaN"
    table.to_csv(csv, index=False)
    rows, log = filter_srdb(read_srdb(csv))
    assert len(rows) == 1 and np.isnan(rows.loc[0, "MAT"])
    assert log.set_index("step").loc["Rh_annual present and > 0", "removed"] == 1
    table.loc[0, "Rh_annual"] = "n.d."
    table.to_csv(csv, index=False)
    with pytest.raises(SiteDataError, match="'n.d.'"):
        read_srdb(csv)
