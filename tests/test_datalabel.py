"""The run's data description (:mod:`rhbench.datalabel`): REAL or SYNTHETIC, with the data
versions, in each of the five places a run reports (scorecard.json, run.json, cmec.json,
results.nc, the CLI table), and how the gate treats it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import netCDF4
import pandas as pd
import pytest
from conftest import shared_data_path

from rhbench.report.check import compare_scorecards
from rhbench.report.gate_rules import data_differences
from rhbench.report.tables import read_scorecard

SRDB_RELEASE = "SRDB-V5 v20200511"  # catalogs/obs_datasets.yaml: the pinned SRDB release
JIAN_COMMIT = "c0072c04dea03dd5e2ad78d3896e4a41c1893e08"  # the pinned Jian et al. 2020 stack


def _five_places(outcome, capsys) -> dict[str, str]:
    """The label text of each place a run reports: the four files and the CLI table."""
    from rhbench.commands.run import _summary

    out = Path(outcome.out_dir)
    scorecard = json.loads((out / "scorecard.json").read_text())
    run_json = json.loads((out / "run.json").read_text())
    cmec = json.loads((out / "cmec.json").read_text())
    with netCDF4.Dataset(out / "results.nc") as nc:
        attrs = {k: str(nc.getncattr(k)) for k in nc.ncattrs()}
    capsys.readouterr()
    _summary(outcome, (1982, 2018))
    return {
        "scorecard.json": json.dumps(scorecard["meta"]["data"]),
        "run.json": json.dumps(run_json["data"]),
        "cmec.json": json.dumps(cmec["PROVENANCE"]),
        "results.nc": json.dumps(attrs),
        "cli": " ".join(capsys.readouterr().err.split()),
    }, {
        "scorecard": scorecard["meta"]["data"]["data_label"],
        "run": run_json["data"]["data_label"],
        "cmec": cmec["PROVENANCE"]["data_label"],
        "nc": attrs["data_label"],
    }


def test_a_demo_run_is_labelled_synthetic_with_its_reason_in_each_place(small_demo_run, capsys):
    outcome, _ = small_demo_run
    assert outcome.synthetic and outcome.data["data_label"] == "SYNTHETIC"
    assert "SYNTHETIC demo" in outcome.data["data_label_reason"]
    texts, labels = _five_places(outcome, capsys)
    assert set(labels.values()) == {"SYNTHETIC"}
    for place, text in texts.items():
        assert "SYNTHETIC" in text, place
    assert "(SYNTHETIC demo data: not a scientific result)" in texts["cli"]
    assert "SYNTHETIC demo data, not a scientific result: the data root is the SYNTHETIC demo" in texts["cli"]
    assert "REAL data" not in texts["cli"]
    # the observation products read are listed with their file checksums (run.json's, not hashed again)
    run_json = json.loads((Path(outcome.out_dir) / "run.json").read_text())
    products = run_json["data"]["observations"]
    assert products["SRDB-V5"]["pinned"] is False  # the demo's site table is not the pinned release
    some = next(iter(products))
    sums = products[some]["sha256"]
    first = sums if isinstance(sums, str) else next(iter(sums.values()))
    assert first in json.dumps(run_json["inputs"][some])


@pytest.mark.shared_data
@pytest.mark.slow
def test_a_run_on_the_real_pinned_data_is_labelled_real_with_the_srdb_version_in_each_place(tmp_path, capsys):
    from rhbench.config import RunConfig
    from rhbench.pipeline import run

    shared_data_path("jian2020", "global_Rt_contribution_to_Rs2.nc")
    root = shared_data_path("srdb", "srdb-data.csv").parents[1]
    config = RunConfig(data_root=root, out=tmp_path / "out", resolution=4.0, quick_upscaling=True, n_draws=10)
    outcome = run(config)
    assert not outcome.synthetic
    data = outcome.data
    assert data["data_label"] == "REAL" and data["srdb_version"] == SRDB_RELEASE
    assert data["predictors_version"] == JIAN_COMMIT and data["observations"]["SRDB-V5"]["pinned"] is True
    texts, labels = _five_places(outcome, capsys)
    assert set(labels.values()) == {"REAL"}
    for place, text in texts.items():
        assert SRDB_RELEASE in text, place
        assert "SYNTHETIC" not in text, place
    assert "(REAL data)" in texts["cli"]
    assert f"REAL data: {SRDB_RELEASE}, Jian2020-predictors {JIAN_COMMIT[:7]}" in texts["cli"]
    cmec = json.loads((Path(outcome.out_dir) / "cmec.json").read_text())
    assert "DISCLAIMER" not in cmec and cmec["PROVENANCE"]["synthetic"] is False


@pytest.mark.shared_data
@pytest.mark.slow
def test_real_observations_with_an_unpinned_site_table_are_not_real(tmp_path):
    """Not a demo root, the real pinned predictor stack and land fraction, but an edited
    SRDB table: the upscaled reference is UNVERIFIED (it was SYNTHETIC), so the whole run is
    UNVERIFIED, said in every output, scores.csv included."""
    from rhbench.config import RunConfig
    from rhbench.pipeline import run

    stack = shared_data_path("jian2020", "global_Rt_contribution_to_Rs2.nc")
    srdb = shared_data_path("srdb", "srdb-data.csv")
    root = tmp_path / "root"
    (root / "srdb").mkdir(parents=True)
    (root / "jian2020").mkdir()
    shutil.copyfile(stack, root / "jian2020" / stack.name)
    shutil.copyfile(srdb.parent / "fractional_land.0.5-deg.nc", root / "srdb" / "fractional_land.0.5-deg.nc")
    lines = srdb.read_text(encoding="utf-8", errors="surrogateescape").splitlines(keepends=True)
    (root / "srdb" / "srdb-data.csv").write_text("".join(lines[:-1]), encoding="utf-8", errors="surrogateescape")
    outcome = run(RunConfig(data_root=root, out=tmp_path / "out", resolution=4.0, quick_upscaling=True, n_draws=10))
    assert not outcome.synthetic and outcome.data["data_label"] == "UNVERIFIED"
    assert "site table srdb-data.csv is not a pinned release" in outcome.data["data_label_reason"]
    run_json = json.loads((tmp_path / "out" / "run.json").read_text())
    assert run_json["synthetic"] is False and run_json["data"]["data_label"] == "UNVERIFIED"
    cmec = json.loads((tmp_path / "out" / "cmec.json").read_text())
    assert cmec["DISCLAIMER"]["unverified"].startswith("UNVERIFIED data: real-looking inputs")
    assert set(pd.read_csv(tmp_path / "out" / "scores.csv")["data_label"]) == {"UNVERIFIED"}
    assert "UNVERIFIED DATA" in (tmp_path / "out" / "index.html").read_text(encoding="utf-8")


def _scorecard(path: Path, data: dict | None) -> Path:
    meta = {"config": {"resolution": 0.5, "period": [1982, 2018]}}
    if data is not None:
        meta["data"] = data
    row = {"source": "A", "kind": "dgvm", "metric": "rh_taylor_score", "region": "global", "units": "1"}
    document = {
        "synthetic": False,
        "rhbench_version": "0.1.0",
        "meta": meta,
        "rows": [{**row, "value": 0.8, "status": "ok", "reason": ""}],
    }
    path.write_text(json.dumps(document))
    return path


def test_the_gate_compares_the_srdb_release_but_not_the_reason_nor_checksums(tmp_path):
    from rhbench.errors import ConfigError

    v5 = {"data_label": "REAL", "srdb_version": SRDB_RELEASE, "predictors_version": JIAN_COMMIT}
    same = {**v5, "data_label_reason": "other words", "observations": {"X": {"sha256": "sha256:00"}}}
    base = read_scorecard(_scorecard(tmp_path / "base.json", v5))
    report = compare_scorecards(read_scorecard(_scorecard(tmp_path / "cur.json", same)), base)
    assert report.setup_changes == [] and report.passed
    # a baseline written before meta.data existed still compares
    old = read_scorecard(_scorecard(tmp_path / "old.json", None))
    assert compare_scorecards(read_scorecard(_scorecard(tmp_path / "c2.json", v5)), old).setup_changes == []
    other = read_scorecard(_scorecard(tmp_path / "v6.json", {**v5, "srdb_version": "SRDB-V6 v2025"}))
    with pytest.raises(ConfigError, match="srdb_version: baseline 'SRDB-V5 v20200511', current 'SRDB-V6 v2025'"):
        compare_scorecards(other, base)
    assert compare_scorecards(other, base, allow_setup_change=True).setup_changes == [
        "srdb_version: baseline 'SRDB-V5 v20200511', current 'SRDB-V6 v2025'"
    ]
    assert data_differences({"srdb_version": "a"}, {}) == []
