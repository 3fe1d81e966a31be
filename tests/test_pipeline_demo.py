"""End to end on the SYNTHETIC demo: every source's encoded truth is recovered."""

from __future__ import annotations

import json

import pytest


def _global(outcome, metric: str) -> dict[str, float]:
    return {
        r.source: r.value
        for r in outcome.results.rows
        if r.metric == metric and r.region == "global" and r.status == "ok"
    }


def test_every_dgvm_global_rh_matches_truth_within_1_percent(small_demo_run):
    outcome, truth = small_demo_run
    found = _global(outcome, "rh_global")
    assert set(truth["dgvm"]) <= set(found)
    for name, expected in truth["dgvm"].items():
        assert found[name] == pytest.approx(expected["rh_global"], rel=0.01), name


def test_every_dgvm_tau_soil_matches_truth_within_1_percent(small_demo_run):
    outcome, truth = small_demo_run
    found = _global(outcome, "tau_soil_global")
    for name, expected in truth["dgvm"].items():
        assert found[name] == pytest.approx(expected["tau_soil_global"], rel=0.01), name


def test_prior_rh_products_match_truth_within_1_percent(small_demo_run):
    outcome, truth = small_demo_run
    found = _global(outcome, "rh_global")
    priors = {k: v["rh_global"] for k, v in truth["obs"].items() if "rh_global" in v}
    assert len(priors) == 4
    for name, expected in priors.items():
        assert found[name] == pytest.approx(expected, rel=0.01), name


def test_reference_rh_is_close_to_the_observed_truth(small_demo_run):
    outcome, truth = small_demo_run
    reference = _global(outcome, "rh_global")["observations"]
    assert reference == pytest.approx(truth["observations"]["rh_global"], rel=0.1)


def test_run_writes_every_output_file_and_all_sources_succeed(small_demo_run):
    outcome, _ = small_demo_run
    assert outcome.exit_code == 0, outcome.failures
    names = {p.name for p in outcome.out_dir.iterdir()}
    assert {"scorecard.json", "scores.csv", "results.nc", "run.json", "index.html"} <= names
    run_record = json.loads((outcome.out_dir / "run.json").read_text())
    assert run_record["inputs"]["CLM5.0"]["rh"].startswith("sha256:")
    assert len([p for p in run_record["plugins"].values() if p["kind"] == "dgvm"]) == 17


def test_twobox_constraint_reported_per_model_class_and_ensemble(small_demo_run):
    outcome, truth = small_demo_run
    rows = {(r.source, r.metric, r.region): r for r in outcome.results.rows}
    for name in truth["dgvm"]:
        row = rows[(name, "dcTotal_constrained", "global")]
        assert row.status == "ok" and row.value > rows[(name, "dcTotal_unconstrained", "global")].value
    assert rows[("ensemble_mean", "dcTotal_constrained", "global")].status == "ok"
    per_class = [r for r in outcome.results.rows if r.metric == "underestimation_pct" and r.region == "ENF"]
    assert per_class and all(r.status == "ok" for r in per_class)
    assert not [r for r in outcome.results.rows if r.metric.startswith("dc") and r.region == "Crop"]
