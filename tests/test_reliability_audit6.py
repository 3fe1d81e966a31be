"""Sixth audit (science rows and interop): each test failed before its fix (docs/trust-cases.md, A6 rows)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import xarray as xr


def test_the_reference_sd_attribute_is_read_without_decoding_the_time_axis(tmp_path: Path) -> None:
    """A6-1: a reference file whose time units cftime cannot decode (VISIT's convention, the
    demo's Tang2020) crashed a run with `reference = "Tang2020"` (traceback, exit 1) where the
    run only reads the file's global attributes for the SD of its members' totals."""
    from rhbench.upscaling.rhmap import ensemble_total_sd

    path = tmp_path / "rh.nc"
    ds = xr.Dataset(
        {"rh": (("time", "lat", "lon"), np.ones((2, 2, 2)))},
        coords={"time": ("time", [282.5, 283.5], {"units": "years since AD 1700-Jan-1st"})},
        attrs={"global_total_sd_PgC_per_yr": 0.9},
    )
    ds.to_netcdf(path, engine="netcdf4")
    assert ensemble_total_sd(path) == pytest.approx(0.9)
    ds.attrs.clear()
    ds.to_netcdf(tmp_path / "plain.nc", engine="netcdf4")
    assert ensemble_total_sd(tmp_path / "plain.nc") is None
    (tmp_path / "map.tif").write_bytes(b"II*\x00not a netCDF file")
    assert ensemble_total_sd(tmp_path / "map.tif") is None


def _twobox_rows(models: dict, n_draws: int = 3) -> dict:
    from rhbench.uptake import twobox_results
    from tests.test_twobox import AREA

    results = twobox_results(models, AREA, n_draws=n_draws)
    return {(r.source, r.metric): r for r in results.rows if r.region == "global"}


def test_a_model_at_steady_state_has_no_underestimation_and_does_not_crash_the_run() -> None:
    """A6-3: constant NPP and turnover times (a spun-up control run) crashed the run with a
    ZeroDivisionError (constrained change exactly 0) or reported underestimation_pct = 100 %
    from a constrained change of 4.5e-15 Pg C (rounding)."""
    from tests.test_twobox import _dgvm

    steady = _dgvm(np.full(118, 50.0), 10.0, 30.0)
    shifted = steady.copy()
    shifted["cSoil"] = steady["cSoil"] * (1 + 1e-15)  # rounding-size difference in the pools
    for model in (steady, shifted):
        rows = _twobox_rows({"S": model})
        row = rows[("S", "underestimation_pct")]
        assert row.status == "skipped" and np.isnan(row.value)
        assert "constrained change in cVeg + cSoil is 0" in row.reason
        assert rows[("S", "emulation_r2")].status == "skipped"
        assert abs(rows[("S", "dcTotal_constrained")].value) < 1e-9
        assert rows[("S", "dcTotal_unconstrained")].status == "ok"


def test_a_models_own_turnover_below_one_year_is_said_on_its_rows() -> None:
    """A6-4: a model whose own tau_soil is below 1 yr is emulated with tau clipped to 1 yr;
    its unconstrained rows were `ok` with no word of it (a log line only)."""
    from tests.test_twobox import NPP, _dgvm

    model = _dgvm(NPP, 10.0, 30.0)
    model["cSoil"] = model["cSoil"] / 100.0  # tau_soil 0.3 yr
    rows = _twobox_rows({"T": model})
    assert "clipped to 1 yr in its emulation" in rows[("T", "dcSoil_unconstrained")].reason
    normal = _twobox_rows({"N": _dgvm(NPP, 10.0, 30.0)})
    assert "clipped" not in normal[("N", "dcSoil_unconstrained")].reason


def test_a_gap_in_the_years_of_the_2box_names_the_missing_years() -> None:
    """A6-5: a model missing one year failed 'found: 113 years' without saying which."""
    from rhbench.errors import ValueRangeError
    from rhbench.twobox import global_turnover
    from tests.test_twobox import AREA, NPP, _dgvm

    model = _dgvm(NPP, 10.0, 30.0)
    gap = model.sel(year=model["year"] != 1990)
    with pytest.raises(ValueRangeError, match="1901-2018 without 1990"):
        global_turnover(gap, AREA)


def _scorecard(rows: list[tuple]) -> object:
    """A score table as read by read_scorecard: rows (source, metric, value, status[, units])."""
    import pandas as pd

    records = [
        {
            "source": r[0],
            "kind": "ensemble" if r[0].startswith("ensemble") else "dgvm",
            "metric": r[1],
            "region": "global",
            "units": r[4] if len(r) > 4 else ("1" if r[1].endswith("_score") else "Pg C yr-1"),
            "value": r[2] if r[3] == "ok" else float("nan"),
            "status": r[3],
            "reason": "" if r[3] == "ok" else "the 2-box constraint needs more years",
        }
        for r in rows
    ]
    return pd.DataFrame(records)


def _outcomes(current: list[tuple], baseline: list[tuple]) -> dict:
    from rhbench.report.check import compare_scorecards

    report = compare_scorecards(_scorecard(current), _scorecard(baseline))
    return {(r.source, r.metric): r for r in report.rows}


def test_an_ensemble_sd_of_zero_is_gated_on_the_ensemble_means_scale() -> None:
    """A6-10 (gate leftover): two identical models give ensemble_sd 0; a rerun at 2e-4 failed
    'tolerance ±0' (a relative-only tolerance of a zero baseline allows no change)."""
    base = [("ensemble_mean", "rh_global", 60.0, "ok"), ("ensemble_sd", "rh_global", 0.0, "ok")]
    rows = _outcomes([("ensemble_mean", "rh_global", 60.0, "ok"), ("ensemble_sd", "rh_global", 2e-4, "ok")], base)
    assert rows[("ensemble_sd", "rh_global")].outcome == "within_tolerance"
    assert "ensemble mean" in rows[("ensemble_sd", "rh_global")].message
    moved = _outcomes([("ensemble_mean", "rh_global", 60.0, "ok"), ("ensemble_sd", "rh_global", 7.0, "ok")], base)
    assert moved[("ensemble_sd", "rh_global")].outcome == "changed"  # beyond 10 % of the mean's 60


def test_the_spread_of_a_score_has_no_floor_and_is_gated_either_way() -> None:
    """Review: an ``ensemble_sd`` score row (the models' spread, ~0.05) was gated as a score: any
    ``--fail-under`` above it failed every multi-model run (below_floor), and models agreeing
    more (a smaller spread) REGRESSED while a wider spread improved."""
    from rhbench.report.check import compare_scorecards

    def rows(sd: float, score: float = 0.8) -> list[tuple]:
        return [("A", "rh_taylor_score", score, "ok"), ("ensemble_sd", "rh_taylor_score", sd, "ok")]

    report = compare_scorecards(_scorecard(rows(0.05)), _scorecard(rows(0.05)), fail_under=0.3)
    assert {(r.source, r.outcome) for r in report.rows} == {("A", "unchanged"), ("ensemble_sd", "unchanged")}
    assert report.passed
    below = compare_scorecards(_scorecard(rows(0.05, 0.2)), _scorecard(rows(0.05, 0.2)), fail_under=0.3)
    assert {(r.source, r.outcome) for r in below.rows} == {("A", "below_floor"), ("ensemble_sd", "unchanged")}
    narrower = _outcomes(rows(0.01), rows(0.05))[("ensemble_sd", "rh_taylor_score")]
    wider = _outcomes(rows(0.09), rows(0.05))[("ensemble_sd", "rh_taylor_score")]
    assert narrower.outcome == wider.outcome == "changed"  # beyond the score tolerance 0.02, either way
    assert _outcomes(rows(0.06), rows(0.05))[("ensemble_sd", "rh_taylor_score")].outcome == "within_tolerance"


def test_a_zero_baseline_under_a_relative_tolerance_says_why_it_fails() -> None:
    """A6-10b: any other row with a zero baseline and a relative-only tolerance fails with the
    reason and what to do (it said 'tolerance ±0' only)."""
    rows = _outcomes([("M", "cveg_global", 1e-3, "ok", "Pg C")], [("M", "cveg_global", 0.0, "ok", "Pg C")])
    row = rows[("M", "cveg_global")]
    assert row.outcome == "changed" and "the baseline is 0" in row.message and "--metric" in row.message


def test_a_row_whose_units_changed_fails_instead_of_comparing_numbers() -> None:
    """A6-11: a current row in other units (Tg C vs Pg C) with the same number passed silently."""
    rows = _outcomes([("M", "csoil_global", 1500.0, "ok", "Tg C")], [("M", "csoil_global", 1500.0, "ok", "Pg C")])
    row = rows[("M", "csoil_global")]
    assert row.failed and "units changed" in row.message and "'Pg C'" in row.message


def test_a_row_lost_by_a_source_with_other_failed_rows_is_missing_not_blamed_on_them() -> None:
    """A6-12: a model whose 2-box rows fail (too few years) and whose rh_global row vanished
    was reported 'was ok, now absent: the source failed: <the 2-box reason>'."""
    failed_2box = ("M", "dcTotal_constrained", float("nan"), "failed")
    base = [("M", "rh_global", 60.0, "ok"), ("M", "rh_taylor_score", 0.8, "ok"), failed_2box]
    rows = _outcomes([("M", "rh_taylor_score", 0.8, "ok"), failed_2box], base)
    row = rows[("M", "rh_global")]
    assert row.outcome == "missing" and "2-box" not in row.message
    gone = _outcomes([("M", "load", float("nan"), "failed")], [("M", "rh_taylor_score", 0.8, "ok")])
    assert "the source failed" in gone[("M", "rh_taylor_score")].message  # failed as a whole: still said


def _written_scorecard(folder: Path, resolution: float = 4) -> Path:
    from rhbench.report.tables import write_scorecard
    from rhbench.results import Results, ScoreRow

    results = Results()
    results.rows += [
        ScoreRow("M", "dgvm", "rh_global", "global", "Pg C yr-1", 60.0),
        ScoreRow("M", "dgvm", "rh_taylor_score", "global", "1", 0.8),
        ScoreRow("N", "dgvm", "rh_global", "global", "Pg C yr-1", 50.0),
    ]
    folder.mkdir()
    write_scorecard(results, folder, synthetic=True, meta={"config": {"resolution": resolution}})
    return folder / "scorecard.json"


def _check(current: Path, baseline: Path, *options: str) -> int:
    from rhbench.cli import main

    return main(["check", str(current), "--baseline", str(baseline), *options])


def test_a_baseline_edited_by_hand_to_pass_fails_the_gate(tmp_path: Path, capsys) -> None:
    """A6-16: a baseline edited to the broken current value (or with the broken model's rows
    deleted, or a row's status set to failed) made a regression pass: exit 0."""
    import json

    good = _written_scorecard(tmp_path / "good")
    current = json.loads(good.read_text())
    current["rows"][0]["value"] = 30.0  # M's Rh halved: the run that the gate must stop
    cur = tmp_path / "cur.json"
    cur.write_text(json.dumps(current))
    assert _check(cur, good) == 1  # untouched baseline (the current is edited too here)
    for edit in ("value", "deleted", "status", "setting"):
        base = json.loads(good.read_text())
        if edit == "value":
            base["rows"][0]["value"] = 30.0
        elif edit == "deleted":
            base["rows"] = base["rows"][1:]
        elif edit == "status":
            base["rows"][0].update(status="failed", value=None)
        else:  # an untouched run at another resolution; the baseline's settings edited to match it
            base["meta"]["config"]["resolution"] = 0.5
        compared = _written_scorecard(tmp_path / "other_setup", resolution=0.5) if edit == "setting" else cur
        path = tmp_path / f"base_{edit}.json"
        path.write_text(json.dumps(base))
        capsys.readouterr()
        assert _check(compared, path, "--allow-edited") == 0, edit  # the edits pass when accepted knowingly
        assert "WARNING: the baseline is not the file rhbench wrote" in capsys.readouterr().out
        assert _check(compared, path) == 1, edit
        assert "FAILED: the baseline is not the file rhbench wrote" in capsys.readouterr().out


def test_the_digest_ignores_row_order_and_formatting_and_is_absent_from_old_scorecards(tmp_path, capsys) -> None:
    """A6-16b: reordered or re-indented rows are the same scorecard; a scorecard without a
    digest (an older rhbench, a CSV) passes with a warning that edits cannot be seen."""
    import json

    from rhbench.report.tables import read_scorecard

    good = _written_scorecard(tmp_path / "good")
    document = json.loads(good.read_text())
    document["rows"].reverse()
    shuffled = tmp_path / "shuffled.json"
    shuffled.write_text(json.dumps(document, indent=7, sort_keys=True))
    assert read_scorecard(shuffled).attrs["digest"] == "ok"
    assert _check(shuffled, good) == 0
    del document["sha256"]
    old = tmp_path / "old.json"
    old.write_text(json.dumps(document))
    capsys.readouterr()
    assert _check(good, old) == 0
    assert "the baseline records no sha256" in capsys.readouterr().out


def test_a_baseline_reformatted_by_jq_is_not_an_edit(tmp_path, capsys) -> None:
    """Review: ``jq . scorecard.json`` writes 60.0 as 60; the digest told int from float, so an
    honest baseline pretty-printed with jq failed the gate as "edited by hand" (README: JSON
    formatting does not matter). A digest of the first form (exact numbers) is still accepted;
    a changed value still is an edit."""
    import json

    from rhbench.report.tables import read_scorecard, scorecard_digest

    def as_jq(value):  # what jq does to integral floats
        if isinstance(value, dict):
            return {k: as_jq(v) for k, v in value.items()}
        if isinstance(value, list):
            return [as_jq(v) for v in value]
        return int(value) if isinstance(value, float) and value.is_integer() else value

    good = _written_scorecard(tmp_path / "good")
    document = json.loads(good.read_text())
    jq = tmp_path / "jq.json"
    jq.write_text(json.dumps(as_jq(document), indent=2))
    assert '"value": 60,' in jq.read_text()
    assert read_scorecard(jq).attrs["digest"] == "ok"
    assert _check(good, jq) == 0
    first = tmp_path / "first.json"  # written with the first digest form
    first.write_text(json.dumps({**document, "sha256": scorecard_digest(document, exact_numbers=True)}))
    assert read_scorecard(first).attrs["digest"] == "ok"
    edited = as_jq(document)
    edited["rows"][0]["value"] = 61
    jq.write_text(json.dumps(edited))
    assert read_scorecard(jq).attrs["digest"] == "edited"


def test_cells_left_out_of_the_2box_totals_are_said_and_too_many_fail_the_rows() -> None:
    """A6-9: a cVeg value missing in one year drops its cell from every year of the 2-box
    (documented), but the rows said nothing (dcTotal_dgvm 11 % lower, status ok); past
    the coverage threshold (80 % of the land) the rows now fail."""
    from rhbench import reduce
    from rhbench.uptake import twobox_results
    from tests.test_twobox import AREA, NPP, _dgvm

    parts = reduce.partition({}, AREA)
    rows = {}
    for label, cell in (("whole", None), ("10%", (0, 0)), ("40%", (1, 1))):
        model = _dgvm(NPP, 8.0, 15.0)
        if cell is not None:
            model["cVeg"][50, cell[0], cell[1]] = np.nan
        totals = reduce.partition_totals(model, AREA, parts)
        result = twobox_results({"A": totals}, parts.area, n_draws=2)
        rows[label] = {r.metric: r for r in result.rows if r.source == "A" and r.region == "global"}
    assert "left out" not in rows["whole"]["dcTotal_dgvm"].reason
    assert rows["10%"]["dcTotal_dgvm"].status == "ok"
    assert "sum 90.0% of its land in global" in rows["10%"]["dcTotal_dgvm"].reason
    assert rows["10%"]["dcTotal_dgvm"].value == pytest.approx(0.9 * rows["whole"]["dcTotal_dgvm"].value, rel=1e-9)
    assert rows["40%"]["dcTotal_dgvm"].status == "failed"
    assert "60.0% of its land" in rows["40%"]["dcTotal_dgvm"].reason


def test_an_undefined_turnover_time_names_its_years_and_cause() -> None:
    """A6-17: global NPP negative in two years (litterfall = npp - dcVeg/dt negative) or a year
    of zero Rh failed the 2-box rows with '2-box forcing must be finite ... found: 2 missing
    values' (which years? why?)."""
    from tests.test_twobox import NPP, _dgvm

    model = _dgvm(NPP, 10.0, 30.0).drop_vars("fVegLitter")
    model["npp"][60:62] = -3 * model["npp"][60:62]
    row = _twobox_rows({"M": model})[("M", "dcTotal_constrained")]
    assert row.status == "failed"
    assert "litterfall (npp - dcVeg/dt) <= 0 or missing in 1961, 1962" in row.reason
    model = _dgvm(NPP, 10.0, 30.0)
    model["rh"][70] = 0.0
    row = _twobox_rows({"M": model})[("M", "dcTotal_constrained")]
    assert row.status == "failed" and "rh <= 0 or missing in 1971" in row.reason
    model = _dgvm(NPP, 10.0, 30.0)
    model["rh"][0] = 0.0  # the first year's turnover is replaced by the second's (paper): no failure
    assert _twobox_rows({"M": model})[("M", "dcTotal_constrained")].status == "ok"


def test_an_ok_row_without_a_finite_value_is_written_as_skipped(tmp_path: Path) -> None:
    """A6-18: the scorecard wrote an `ok` row whose value was NaN as {"status": "ok", "value":
    null} (the 2-box emulation_r2 of A6-3 did): the gate then said 'was ok, now ok: no value'
    and a consumer reading status alone took it for a number."""
    import json

    from rhbench.report.tables import write_scorecard
    from rhbench.results import Results, ScoreRow

    results = Results()
    results.rows += [
        ScoreRow("M", "dgvm", "emulation_r2", "global", "1", float("nan"), "ok", "changes 1901-2018"),
        ScoreRow("M", "dgvm", "rh_global", "global", "Pg C yr-1", 60.0),
    ]
    write_scorecard(results, tmp_path, synthetic=True, meta={})
    rows = {r["metric"]: r for r in json.loads((tmp_path / "scorecard.json").read_text())["rows"]}
    assert rows["emulation_r2"]["status"] == "skipped" and rows["emulation_r2"]["value"] is None
    assert rows["emulation_r2"]["reason"].startswith("undefined") and "1901-2018" in rows["emulation_r2"]["reason"]
    assert rows["rh_global"]["status"] == "ok" and rows["rh_global"]["value"] == 60.0


def test_the_skipped_rmse_rows_say_that_period_means_are_scored() -> None:
    """A6-19: with a yearly reference (Tang2020, 1982-2016) the RMSE rows said 'the reference has
    no time axis (a static map)', which the user's file contradicts: the suite scores period means."""
    from rhbench.metrics.map_scores import PERIOD_MEAN_RMSE
    from rhbench.metrics.map_scores import ilamb_rows as _ilamb_rows
    from rhbench.metrics.suite import Reference

    lat, lon = np.arange(-60.0, 61.0, 20.0), np.arange(-170.0, 180.0, 20.0)
    coords = {"lat": lat, "lon": lon}
    rh = xr.DataArray(
        np.random.default_rng(0).uniform(100, 900, (lat.size, lon.size)), dims=("lat", "lon"), coords=coords
    )
    from rhbench.grid import cell_area

    ref = Reference(rh=rh, csoil_products=(rh * 0 + 10).expand_dims(product=["P"]), area=cell_area(lat, lon))
    rows = {r.metric: r for r in _ilamb_rows("M", "dgvm", "rh", ref.rh_land, rh * 1.1, ref)}
    assert rows["rh_rmse_score"].status == "skipped" and rows["rh_rmse_score"].reason == PERIOD_MEAN_RMSE
    assert "static map" not in rows["rh_rmse_score"].reason
    assert rows["rh_bias_score"].status == "ok"
