"""Implausible numbers (orders of magnitude off, or all-zero fields) are failed rows, not warnings."""

from __future__ import annotations

import math

import pytest

from rhbench.plausibility import (
    PLAUSIBLE_GLOBAL,
    enforce_plausibility,
    implausible_reason,
    zero_fields,
    zero_fields_reason,
)
from rhbench.results import ScoreRow


def _row(source: str, metric: str, value: float, region: str = "global", units: str = "Pg C yr-1") -> ScoreRow:
    return ScoreRow(source, "dgvm", metric, region, units, value)


@pytest.mark.parametrize(
    ("metric", "value", "units"),
    [
        ("rh_global", 4.1e9, "Pg C yr-1"),  # g m-2 d-1 read as kg m-2 s-1 (issue 13)
        ("rh_global", 0.5, "Pg C yr-1"),
        ("rh_global", 1000.5, "Pg C yr-1"),
        ("rh_global", math.inf, "Pg C yr-1"),
        ("tau_soil_global", 0.05, "yr"),
        ("tau_soil_global", 20_000.0, "yr"),
        ("tau_veg_global", 1e-6, "yr"),
        ("csoil_global", 0.0, "Pg C"),
        ("csoil_global", 1.5e6, "Pg C"),  # kg read as g: 1000x
        ("cveg_global", 5e5, "Pg C"),
    ],
)
def test_implausible_global_row_fails_every_ok_row_of_its_source(metric, value, units):
    rows = [
        _row("Bad", metric, value, units=units),
        _row("Bad", "rh_taylor_score", 0.9, units="1"),
        _row("Bad", "tau_soil", 30.0, region="tropical", units="yr"),
        ScoreRow("Bad", "dgvm", "cveg_global", "global", "Pg C", math.nan, "skipped", "no cVeg"),
        _row("Good", "rh_global", 55.0),
        _row("Good", "tau_soil_global", 30.0, units="yr"),
    ]
    checked, failures = enforce_plausibility(rows)
    assert set(failures) == {"Bad"} and metric in failures["Bad"]
    bad = [r for r in checked if r.source == "Bad"]
    assert [r.status for r in bad] == ["failed", "failed", "failed", "skipped"]
    assert all(math.isnan(r.value) for r in bad)
    assert all(metric in r.reason for r in bad[:3])
    assert bad[3].reason == "no cVeg"  # a skipped row keeps its own reason
    good = [r for r in checked if r.source == "Good"]
    assert good == rows[4:]  # another source is untouched


@pytest.mark.parametrize(
    ("metric", "value"),
    [
        ("rh_global", 1.0),
        ("rh_global", 1000.0),
        ("rh_global", 55.0),
        ("tau_soil_global", 0.1),
        ("tau_soil_global", 1e4),
    ],
)
def test_plausible_values_at_and_inside_the_bounds_pass(metric, value):
    rows = [_row("M", metric, value)]
    checked, failures = enforce_plausibility(rows)
    assert failures == {} and checked == rows


def test_regional_rows_are_not_range_checked():
    # A latitude band can hold 0.2 Pg C yr-1 of Rh; only global rows are judged.
    row = _row("M", "rh_global", 0.2, region="80N-90N")
    assert implausible_reason(row) is None


def test_zero_fields_lists_only_fields_zero_everywhere():
    import numpy as np
    import xarray as xr

    fields = {
        "cSoil": xr.DataArray([[0.0, np.nan], [0.0, 0.0]]),
        "rh": xr.DataArray([[0.0, 1e-30], [0.0, 0.0]]),
        "cVeg": np.array([np.nan, np.nan]),  # all missing: another error
    }
    assert zero_fields(fields) == ["cSoil"]
    assert "cSoil" in zero_fields_reason(fields) and zero_fields_reason({"rh": fields["rh"]}) is None


def test_the_ranges_are_those_of_issue_13():
    assert (PLAUSIBLE_GLOBAL["rh_global"].low, PLAUSIBLE_GLOBAL["rh_global"].high) == (1.0, 1000.0)
    assert (PLAUSIBLE_GLOBAL["tau_soil_global"].low, PLAUSIBLE_GLOBAL["tau_soil_global"].high) == (0.1, 10_000.0)


# --- end to end: a units error or an all-zero field fails the source, exit 3 -------------------


@pytest.fixture(autouse=False)
def _cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("RHBENCH_CACHE", str(tmp_path_factory.getbasetemp() / "rhbench-cache"))


def _altered_root(demo_root, folder, relative: str, factor: float):
    import os
    import shutil

    import netCDF4

    root = folder / "data"
    shutil.copytree(demo_root, root, copy_function=os.link)
    target = root / relative
    target.unlink()  # break the hard link: the shared demo root stays intact
    shutil.copyfile(demo_root / relative, target)
    with netCDF4.Dataset(target, "r+") as ds:
        name = next(v for v in ds.variables if v not in ("time", "lat", "lon"))
        ds[name][:] = ds[name][:] * factor
    return root


@pytest.mark.slow
@pytest.mark.parametrize(
    ("relative", "factor", "metric"),
    [
        ("trendy_v9/CLM5.0/CLM5.0_S2_rh.nc", 1e9, "rh_global"),  # e.g. units attribute wrong
        ("trendy_v9/CLM5.0/CLM5.0_S2_cSoil.nc", 0.0, "cSoil"),  # an all-zero field
    ],
    ids=["rh-x1e9", "csoil-all-zero"],
)
def test_implausible_model_fails_with_exit_3_and_others_are_untouched(
    demo_root, tmp_path, _cache, relative, factor, metric
):
    import json

    from test_reliability_isolation import write_config

    from rhbench.cli import main

    root = _altered_root(demo_root, tmp_path, relative, factor)
    config = write_config(tmp_path, root, ("CLM5.0", "JSBACH"))
    code = main(["-q", "run", "--config", str(config), "--out", str(tmp_path / "out")])
    assert code == 3
    rows = json.loads((tmp_path / "out" / "scorecard.json").read_text())["rows"]
    clm = [r for r in rows if r["source"] == "CLM5.0"]
    assert clm and all(r["status"] != "ok" for r in clm)
    assert any(metric in r["reason"] for r in clm if r["metric"] == "load"), clm
    assert not [r for r in clm if r["metric"].startswith("dc") and r["status"] == "ok"]  # no 2-box constraint
    jsbach = {r["metric"]: r for r in rows if r["source"] == "JSBACH" and r["region"] == "global"}
    assert jsbach["rh_global"]["status"] == "ok" and 1 < jsbach["rh_global"]["value"] < 1000
