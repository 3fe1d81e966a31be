"""Scorecard files: write, read back, and refuse unusable input."""

from __future__ import annotations

import json
import math

import pytest

from rhbench.errors import ConfigError
from rhbench.report.tables import SCORE_COLUMNS, read_scorecard, write_scorecard
from rhbench.results import Results, ScoreRow


def _results() -> Results:
    return Results(
        rows=[
            ScoreRow("CLM5.0", "dgvm", "rh_global", "global", "Pg C yr-1", 61.25),
            ScoreRow("CLM5.0", "dgvm", "rh_taylor_score", "global", "1", 0.625),
            ScoreRow(
                "OCN",
                "dgvm",
                "rh_global",
                "global",
                "Pg C yr-1",
                math.nan,
                "skipped",
                "no variable rh",
            ),
        ]
    )


def test_write_then_read_json_and_csv_give_the_same_rows(tmp_path):
    write_scorecard(_results(), tmp_path, synthetic=True, meta={"rhbench_version": "9.9"})
    from_json = read_scorecard(tmp_path / "scorecard.json")
    from_csv = read_scorecard(tmp_path / "scores.csv")
    assert list(from_json.columns) == list(SCORE_COLUMNS)
    assert from_json["value"].iloc[0] == 61.25 and from_json["value"].iloc[1] == 0.625
    assert math.isnan(from_json["value"].iloc[2])
    assert from_json["reason"].tolist() == ["", "", "no variable rh"]
    assert from_json.attrs["synthetic"] is True and from_json.attrs["rhbench_version"] == "9.9"
    assert from_csv.attrs["synthetic"] is True  # from its data_label column (SYNTHETIC)
    assert from_csv.drop(columns="value").equals(from_json.drop(columns="value"))
    assert from_csv["value"].fillna(-1).tolist() == [61.25, 0.625, -1]


def test_json_document_has_the_fixed_keys_and_null_for_nan(tmp_path):
    write_scorecard(_results(), tmp_path, synthetic=False, meta={"config": "demo.yaml"})
    document = json.loads((tmp_path / "scorecard.json").read_text())
    assert document["synthetic"] is False
    assert document["meta"] == {"config": "demo.yaml"}
    assert document["rows"][2] == {
        "source": "OCN",
        "kind": "dgvm",
        "metric": "rh_global",
        "region": "global",
        "units": "Pg C yr-1",
        "value": None,
        "status": "skipped",
        "reason": "no variable rh",
    }
    assert not list(tmp_path.glob(".*.tmp"))  # the temporary files were renamed away


def test_reading_a_folder_reads_its_scorecard_json(tmp_path):
    write_scorecard(_results(), tmp_path, synthetic=False, meta={})
    assert len(read_scorecard(tmp_path)) == 3


@pytest.mark.parametrize(
    ("name", "text", "needle"),
    [
        ("scorecard.json", "{not json", "unreadable scorecard JSON"),
        ("scorecard.json", "[1, 2]", "'rows' list"),
        ("scorecard.json", '{"rows": [{"source": "A"}]}', "lacks columns"),
        (
            "scores.csv",
            "source,kind,metric,region,units,value,status,reason\nA,dgvm,m_score,global,1,high,ok,\n",
            "non-numeric",
        ),
        (
            "scores.csv",
            "source,kind,metric,region,units,value,status,reason\nA,dgvm,m_score,global,1,0.5,great,\n",
            "unknown row status",
        ),
        (
            "scores.csv",
            "source,kind,metric,region,units,value,status,reason\n"
            "A,dgvm,m_score,global,1,0.5,ok,\nA,dgvm,m_score,global,1,0.6,ok,\n",
            "duplicated scorecard key",
        ),
        ("scores.csv", "", "unreadable scores CSV"),
    ],
)
def test_unusable_input_raises_config_error_naming_the_file(tmp_path, name, text, needle):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(ConfigError, match=needle) as info:
        read_scorecard(path)
    assert str(path) in str(info.value)


def test_missing_file_raises_config_error(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        read_scorecard(tmp_path / "nope.json")
