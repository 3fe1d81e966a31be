"""An unusable reference input (a corrupt SRDB table, a broken predictor grid) fails the
reference and the rows that need it, not the run (fifth audit, issue 12).

Before: ``rhbench run`` stopped with exit 2 and wrote nothing, so one broken observation
file sank every model's numbers. Now the run exits 3, the reference's rows and every row
that needs it fail with the reason (file, variable, what was found and expected), and each
model's own rows (totals, turnover times, regional means on its own grid, period coverage)
are bit-identical to a run on the good files.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from rhbench.config import RunConfig
from rhbench.errors import ConfigError
from rhbench.failed_reference import NEEDS_REFERENCE
from rhbench.pipeline import run
from tests.conftest import RELIABILITY_MODELS, SMALL_DEMO_RESOLUTION

#: Rows a DGVM computes from its own files alone: they must survive a failed reference.
OWN_METRICS = ("rh_global", "csoil_global", "cveg_global", "tau_soil_global", "tau_veg_global", "period_coverage")


def _run(root: Path, out: Path):
    config = RunConfig(
        data_root=root,
        out=out,
        resolution=SMALL_DEMO_RESOLUTION,
        quick_upscaling=True,
        demo=False,
        n_draws=30,
        models=RELIABILITY_MODELS,
    )
    outcome = run(config)
    rows = json.loads((out / "scorecard.json").read_text())["rows"]
    return outcome, {(r["source"], r["metric"], r["region"]): r for r in rows}


@pytest.fixture(scope="module")
def good(demo_root, tmp_path_factory):
    return _run(demo_root, tmp_path_factory.mktemp("good") / "out")


def _broken_root(demo_root: Path, tmp_path: Path, case: str) -> tuple[Path, str]:
    """A copy of the demo root with one reference input broken; returns it and the file's name."""
    root = tmp_path / "root"
    shutil.copytree(demo_root, root, symlinks=True)
    if case == "binary":
        broken = root / "srdb" / "srdb-data.csv"
        broken.write_bytes(b"\x00\x01 not a table \xff" * 20)
    elif case == "columns":
        broken = root / "srdb" / "srdb-data.csv"
        broken.write_text("Site,Value\nA,1\n")
    else:  # the climate grid the demo's reference is built from
        broken = root / "obs" / "predictors" / "CRU-TS4_tas.nc"
        broken.write_bytes(b"CDF\x01 truncated")
    return root, broken.name


@pytest.mark.parametrize("case", ["binary", "columns", "predictors"])
def test_a_broken_reference_input_fails_its_rows_and_keeps_every_model_row(demo_root, tmp_path, good, case):
    root, name = _broken_root(demo_root, tmp_path, case)
    good_outcome, good_rows = good
    outcome, rows = _run(root, tmp_path / "out")
    assert good_outcome.exit_code == 0 and outcome.exit_code == 3  # README: a source the run uses failed
    load = rows[("RF-Rh", "load", "global")]
    assert load["status"] == "failed" and name in load["reason"], load
    assert "found:" in load["reason"] or "variable:" in load["reason"], load["reason"]
    # each model's own rows: produced, and the same numbers as the good run's, bit for bit
    for model in RELIABILITY_MODELS:
        for metric in OWN_METRICS:
            key = (model, metric, "global")
            assert rows[key]["status"] == "ok" and rows[key]["value"] == good_rows[key]["value"], key
    kept = [k for k, r in rows.items() if r["status"] == "ok"]
    assert len(kept) > 100 and all(rows[k]["value"] == good_rows[k]["value"] for k in kept)
    assert any(k[1] == "rh_total" and k[0] in RELIABILITY_MODELS for k in kept)  # regional, own grid
    # the reference's rows and every row that needs it fail with the reason naming the file
    reference = [r for k, r in rows.items() if r["kind"] == "reference"]
    assert reference and all(r["status"] == "failed" for r in reference)
    # every other row that is not ok needs the reference and says so, or is skipped for a reason
    # of its own exactly as in the good run (e.g. ilamb3's RMSE score of period-mean maps)
    others = {k: r for k, r in rows.items() if r["status"] != "ok" and r["metric"] != "load"}
    needing = [r for k, r in others.items() if r["reason"].startswith(NEEDS_REFERENCE) and name in r["reason"]]
    own = [k for k, r in others.items() if not r["reason"].startswith(NEEDS_REFERENCE)]
    assert len(needing) > 100
    assert all((rows[k]["status"], rows[k]["reason"]) == (good_rows[k]["status"], good_rows[k]["reason"]) for k in own)
    assert rows[(RELIABILITY_MODELS[0], "rh_taylor_score", "global")]["status"] == "failed"
    assert not (tmp_path / "out" / "upscaling").exists()  # no half-built product in the output


def test_a_data_root_without_any_reference_is_still_a_configuration_error(demo_root, tmp_path):
    root, _ = _broken_root(demo_root, tmp_path, "binary")
    (root / "srdb" / "srdb-data.csv").unlink()
    with pytest.raises(ConfigError, match="no reference Rh in the data root"):
        run(RunConfig(data_root=root, out=tmp_path / "out", resolution=SMALL_DEMO_RESOLUTION, quick_upscaling=True))
    assert not (tmp_path / "out").exists()


def test_a_reference_build_failing_after_the_cv_leaves_no_half_product_in_the_run(demo_root, tmp_path, monkeypatch):
    """The run builds the reference into its own output: a failure after the CV tables were
    written (here the map stage) fails the reference and removes what it had written."""
    from rhbench.errors import DataError
    from rhbench.upscaling import rhmap

    def broken(*args, **kwargs):
        raise DataError("map stage failed (test)", file="rh_rf.nc")

    monkeypatch.setattr(rhmap, "product_dataset", broken)
    outcome, rows = _run(demo_root, tmp_path / "out")
    assert outcome.exit_code == 3
    assert "map stage failed (test)" in rows[("RF-Rh", "load", "global")]["reason"]
    assert rows[(RELIABILITY_MODELS[0], "rh_global", "global")]["status"] == "ok"
    assert not (tmp_path / "out" / "upscaling").exists()


def test_which_rows_need_the_reference_is_a_flag_set_where_the_row_is_built_not_its_wording(good):
    """Before: rows were failed by substrings of their reasons ('undefined', 'reference', 'no valid
    cells' ...), so rewording a reason changed which rows failed. Now each row carries the
    observations it is computed from (ScoreRow.needs): the same rows fail whatever they say."""
    from dataclasses import replace

    from rhbench.failed_reference import fail_rows_needing_it
    from rhbench.results import REFERENCE_RH

    rows = good[0].results.rows

    def failed(rows) -> set:
        return {(r.source, r.metric, r.region) for r in fail_rows_needing_it(rows, "x") if r.status == "failed"}

    before = {(r.source, r.metric, r.region) for r in rows if r.status == "failed"}
    chosen = failed(rows) - before
    for wording in ("", "undefined: no valid cells, needs the reference, no spatial variance", "fine"):
        assert failed([replace(r, reason=wording) for r in rows]) - before == chosen
    assert chosen == {(r.source, r.metric, r.region) for r in rows if REFERENCE_RH in r.needs} - before
    model = RELIABILITY_MODELS[0]
    assert (model, "rh_taylor_score", "global") in chosen and (model, "rh_coverage", "global") in chosen
    assert all((model, metric, "global") not in chosen for metric in OWN_METRICS)  # its own files only
    assert all(k in chosen for r in rows if r.kind == "reference" and (k := (r.source, r.metric, r.region)))
    assert "needs" not in rows[0].to_dict()  # the run's business, never written to the scorecard


def test_rows_fail_by_their_flag_and_status_only():
    from rhbench.failed_reference import fail_rows_needing_it
    from rhbench.results import OBSERVED_CSOIL, REFERENCE_RH, ScoreRow

    ref = frozenset({REFERENCE_RH})
    rows = [
        ScoreRow("M", "dgvm", "rh_taylor_r", "global", "1", 0.9, needs=ref),  # ok, computed against it
        ScoreRow("M", "dgvm", "tau_soil_taylor_r", "global", "1", float("nan"), "skipped", "no cSoil variable", ref),
        ScoreRow("M", "dgvm", "rh_global", "global", "Pg C yr-1", 50.0),  # own files
        ScoreRow("M", "dgvm", "rh_mean", "Tropics", "g", float("nan"), "skipped", "needs the reference: undefined"),
        ScoreRow("M", "dgvm", "rh_global", "global", "Pg C yr-1", float("nan"), "failed", "its own error", ref),
        ScoreRow("M", "dgvm", "load", "global", "", float("nan"), "failed", "x", ref),
        ScoreRow("M", "dgvm", "dcTotal_constrained", "global", "Pg C", 1.0, needs=frozenset({OBSERVED_CSOIL})),
    ]
    out = fail_rows_needing_it(rows, "broken SRDB")
    assert [r.status for r in out] == ["failed", "failed", "ok", "skipped", "failed", "failed", "ok"]
    assert out[0].reason.startswith(NEEDS_REFERENCE) and "broken SRDB" in out[1].reason
    assert out[4].reason == "its own error" and out[5].reason == "x"
