"""The third data label, UNVERIFIED (real-looking inputs that are not the pinned releases),
the label worded by what the data is, and scores.csv's ``data_label`` column (fifth audit)."""

from __future__ import annotations

import argparse
import json

import netCDF4
import pandas as pd
import pytest

from rhbench import datalabel
from rhbench.commands import upscale
from rhbench.registry import build_registry
from rhbench.report.cmec import cmec_bundle
from rhbench.report.tables import SCORE_COLUMNS, read_scorecard, write_scorecard
from rhbench.results import Results, ScoreRow
from rhbench.upscaling import inputs
from tests.test_upscaling_product import synthetic_grids, synthetic_srdb


@pytest.mark.parametrize(
    ("synthetic", "unverified", "label"),
    [([], [], "REAL"), ([], ["b"], "UNVERIFIED"), (["a"], ["b"], "SYNTHETIC"), (["a"], [], "SYNTHETIC")],
)
def test_the_one_rule(synthetic, unverified, label):
    got, reason = datalabel.decide(synthetic, unverified, "all pinned")
    assert got == label
    assert reason == ("; ".join(synthetic + unverified) or "all pinned")


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({"data_label": "SYNTHETIC", "data_label_reason": datalabel.DEMO_REASON}, "SYNTHETIC demo data"),
        ({"data_label": "SYNTHETIC", "data_label_reason": "predictor grids are synthetic (x.nc)"}, "SYNTHETIC data"),
        ({"data_label": "UNVERIFIED", "data_label_reason": "site table is not a pinned release"}, "UNVERIFIED data"),
        ({"data_label": "REAL"}, "REAL data"),
        (None, "SYNTHETIC data"),  # no description: never REAL
    ],
)
def test_the_label_is_worded_by_what_the_data_is(data, words):
    """A run on synthetic files that are not the demo was called "SYNTHETIC demo data"."""
    assert datalabel.short(data) == words
    assert datalabel.headline(data).startswith(words)


def _upscale(tmp_path, table: pd.DataFrame, grids_synthetic: bool) -> dict:
    grids = synthetic_grids()
    if not grids_synthetic:
        grids.attrs = {}
    tmp_path.mkdir()
    csv, nc = tmp_path / "srdb.csv", tmp_path / "grids.nc"
    table.to_csv(csv, index=False)
    grids.to_netcdf(nc)
    out = tmp_path / "out"
    parser = argparse.ArgumentParser()
    upscale.add_parser(parser.add_subparsers())
    argv = ["upscale", "--srdb", str(csv), "--predictors", str(nc), "--out", str(out), "--quick"]
    assert upscale.run(parser.parse_args(argv)) == 0
    with netCDF4.Dataset(out / "rh_rf.nc") as product:
        assert product.getncattr("data_label") in product.getncattr("title")
        attrs = {k: product.getncattr(k) for k in ("data_label", "data_label_reason", "synthetic")}
    metrics = json.loads((out / "cv_metrics.json").read_text())
    assert metrics["data_label"] == attrs["data_label"] and metrics["synthetic"] == bool(attrs["synthetic"])
    return metrics


def test_unmarked_unpinned_inputs_are_unverified_and_marked_ones_synthetic(tmp_path):
    """Real-looking but unpinned inputs were labelled SYNTHETIC; now UNVERIFIED, saying why."""
    table = synthetic_srdb(synthetic_grids(), n=120)
    unmarked = _upscale(tmp_path / "a", table, grids_synthetic=False)
    assert unmarked["data_label"] == "UNVERIFIED" and unmarked["synthetic"] is False
    assert "site table srdb.csv is not a pinned release" in unmarked["data_label_reason"]
    assert "grid file(s) grids.nc not a pinned release" in unmarked["data_label_reason"]
    marked_grids = _upscale(tmp_path / "b", table, grids_synthetic=True)
    assert (
        marked_grids["data_label"] == "SYNTHETIC"
        and "predictor grids are synthetic" in (marked_grids["data_label_reason"])
    )
    marked_table = _upscale(tmp_path / "c", table.assign(synthetic=1), grids_synthetic=False)
    assert marked_table["data_label"] == "SYNTHETIC"
    assert "srdb.csv is marked synthetic" in marked_table["data_label_reason"]


@pytest.mark.parametrize("flag", ["0", "false", ""])
def test_a_false_synthetic_column_does_not_mark_the_table(tmp_path, flag):
    csv = tmp_path / "t.csv"
    csv.write_text(f"Rh_annual,synthetic\n1,{flag}\n2,{flag}\n")
    assert inputs.table_marked_synthetic(csv) is False
    csv.write_text("Rh_annual,synthetic\n1,0\n2,1\n")
    assert inputs.table_marked_synthetic(csv) is True
    info = inputs.provenance(build_registry(), csv, None)
    assert info["data_label"] == "SYNTHETIC"


def _results() -> Results:
    return Results(rows=[ScoreRow("M", "dgvm", "rh_global", "global", "Pg C yr-1", 50.0)])


@pytest.mark.parametrize("label", ["REAL", "UNVERIFIED", "SYNTHETIC"])
def test_scores_csv_carries_the_data_label_readable_by_plain_read_csv(tmp_path, label):
    """scores.csv carried no data label: a CSV passed on lost the SYNTHETIC warning."""
    data = {"data_label": label, "data_label_reason": "test"}
    write_scorecard(_results(), tmp_path, synthetic=label == "SYNTHETIC", meta={"data": data})
    frame = pd.read_csv(tmp_path / "scores.csv")
    assert list(frame.columns) == [*SCORE_COLUMNS, "data_label"]
    assert frame["data_label"].tolist() == [label] and frame["value"].tolist() == [50.0]
    assert list(read_scorecard(tmp_path / "scores.csv").columns) == list(SCORE_COLUMNS)  # the gate reads it


def test_cmec_disclaimer_words_an_unverified_run():
    rows = [{"source": "M", "kind": "dgvm", "metric": "m", "region": "global", "units": "1", "value": 1.0}]
    rows[0].update(status="ok", reason="")
    data = {"data_label": "UNVERIFIED", "data_label_reason": "grid file x.nc not a pinned release"}
    bundle = cmec_bundle(rows, {"m": "a metric"}, synthetic=False, data=data)
    assert bundle["PROVENANCE"]["data_label"] == "UNVERIFIED" and bundle["PROVENANCE"]["synthetic"] is False
    assert bundle["DISCLAIMER"] == {"unverified": datalabel.headline(data)}
    assert "DISCLAIMER" not in cmec_bundle(rows, {"m": "a metric"}, synthetic=False, data={"data_label": "REAL"})


@pytest.mark.parametrize(
    ("current", "words"),
    [
        ({"data_label": "REAL"}, None),
        (
            {"data_label": "UNVERIFIED", "data_label_reason": "site table x.csv is not a pinned release"},
            "UNVERIFIED data",
        ),
        ({"data_label": "SYNTHETIC", "data_label_reason": datalabel.DEMO_REASON}, "SYNTHETIC demo data"),
    ],
)
def test_the_gate_words_the_least_verified_label_of_its_scorecards(tmp_path, current, words):
    """The gate said "(synthetic data)" / "Synthetic demo data" from the synthetic flag alone:
    an UNVERIFIED pair passed unlabelled and a non-demo SYNTHETIC one was called demo data."""
    from rhbench.report.check import compare_scorecards
    from rhbench.report.check_render import markdown_summary, summary_line

    def scorecard(name: str, data: dict) -> pd.DataFrame:
        write_scorecard(_results(), tmp_path / name, synthetic=data["data_label"] == "SYNTHETIC", meta={"data": data})
        return read_scorecard(tmp_path / name / "scorecard.json")

    base = current if current["data_label"] == "SYNTHETIC" else {"data_label": "REAL"}  # synthetic-ness must match
    # another data label is another setup (ninth audit G9-3): compared here only when allowed
    report = compare_scorecards(scorecard("cur", current), scorecard("base", base), allow_setup_change=True)
    line, markdown = summary_line(report), markdown_summary(report)
    if words is None:
        assert "data)" not in line and "not a scientific result" not in markdown
    else:
        assert f"({words})" in line and datalabel.headline(current) in markdown


def test_the_summary_line_names_the_label_its_meaning_and_the_reason():
    unverified = {"data_label": "UNVERIFIED", "data_label_reason": "grid file x.nc not a pinned release"}
    assert datalabel.summary(unverified) == (
        "UNVERIFIED data, real-looking inputs that are not the pinned releases; not a verified result: "
        "grid file x.nc not a pinned release"
    )
    demo = {"data_label": "SYNTHETIC", "data_label_reason": datalabel.DEMO_REASON}
    assert datalabel.summary(demo).startswith("SYNTHETIC demo data, not a scientific result: the data root")
    assert datalabel.summary({"data_label": "REAL", "srdb_version": "SRDB-V5 v1"}) == "REAL data: SRDB-V5 v1"


def _describe(tmp_path, name: str, path, sha: str = "sha256:" + "0" * 64) -> dict:
    """A run's data description with one observation product read (no upscaling in the run)."""
    return datalabel.describe(
        {"inputs": {name: {"rh": sha}}}, {name: {"rh": [path]}}, build_registry(), tmp_path, demo_root=False
    )


def test_a_run_whose_site_table_is_not_the_pinned_release_is_not_real_even_when_the_reference_failed(tmp_path):
    """Review: a corrupt SRDB table fails the reference (no upscaling, so no upscaling label);
    run.json recorded SRDB-V5 ``pinned: false`` but the run was labelled REAL."""
    table = tmp_path / "srdb-data.csv"
    table.write_text('garbage\n"')
    data = _describe(tmp_path, "SRDB-V5", table)
    assert data["observations"]["SRDB-V5"]["pinned"] is False
    assert data["data_label"] == "UNVERIFIED"
    assert "not the pinned release" in data["data_label_reason"] and "SRDB-V5" in data["data_label_reason"]
    assert "stated" not in data["observations"]["SRDB-V5"]


@pytest.mark.parametrize(("stated", "label"), [("UNVERIFIED", "UNVERIFIED"), ("SYNTHETIC", "SYNTHETIC"), ("", "REAL")])
def test_a_prebuilt_product_keeps_the_label_it_states(tmp_path, stated, label):
    """Review: an rh_rf.nc made by ``rhbench upscale`` from an edited SRDB (data_label UNVERIFIED,
    synthetic = 0) copied into the data root gave a REAL run."""
    import numpy as np
    import xarray as xr

    nc = tmp_path / "rh_rf.nc"
    attrs = {"data_label": stated, "synthetic": int(stated == "SYNTHETIC")} if stated else {}
    xr.Dataset(
        {"rh": (("lat", "lon"), np.ones((2, 2)))}, coords={"lat": [0.0, 1.0], "lon": [0.0, 1.0]}, attrs=attrs
    ).to_netcdf(nc)
    data = _describe(tmp_path, "RF-Rh", nc)
    assert data["data_label"] == label
    if stated:
        assert "RF-Rh" in data["data_label_reason"]


def test_the_gate_reads_the_label_of_a_scores_csv(tmp_path):
    """Review: scores.csv carries data_label, but the gate read a CSV as unlabelled: a SYNTHETIC
    scores.csv passed against a REAL one with no label in the verdict and no setup refusal."""
    from rhbench.errors import ConfigError
    from rhbench.report.check import compare_scorecards
    from rhbench.report.check_render import summary_line

    def csv(name: str, label: str) -> pd.DataFrame:
        data = {"data_label": label, "data_label_reason": datalabel.DEMO_REASON if label == "SYNTHETIC" else ""}
        write_scorecard(_results(), tmp_path / name, synthetic=label == "SYNTHETIC", meta={"data": data})
        return read_scorecard(tmp_path / name / "scores.csv")

    demo = csv("demo", "SYNTHETIC")
    assert demo.attrs["synthetic"] is True and demo.attrs["meta"]["data"]["data_label"] == "SYNTHETIC"
    assert "(SYNTHETIC data)" in summary_line(compare_scorecards(demo, csv("demo2", "SYNTHETIC")))
    with pytest.raises(ConfigError, match="synthetic: baseline False, current True"):
        compare_scorecards(demo, csv("real", "REAL"))
    # a CSV of an older rhbench (no column) stays unlabelled; a mixed or unknown label is refused
    path = tmp_path / "demo" / "scores.csv"
    frame = pd.read_csv(path)
    frame.drop(columns="data_label").to_csv(tmp_path / "old.csv", index=False)
    assert read_scorecard(tmp_path / "old.csv").attrs["synthetic"] is None
    frame.assign(data_label="REALISH").to_csv(tmp_path / "bad.csv", index=False)
    with pytest.raises(ConfigError, match="data_label"):
        read_scorecard(tmp_path / "bad.csv")
