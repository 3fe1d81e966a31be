"""End to end: the CI gate catches a model whose Rh drops 25 %, whatever its Taylor score does.

Runs ``rhbench run`` twice in-process on the SYNTHETIC 4-degree reliability demo root: once
as is (the baseline), once with CLM5.0's Rh file scaled by 0.75, then ``rhbench check``.
"""

from __future__ import annotations

import json
import os
import shutil

import netCDF4
import pytest
from test_reliability_isolation import write_config

from rhbench.cli import main

RH_FILE = "trendy_v9/CLM5.0/CLM5.0_S2_rh.nc"


@pytest.fixture(autouse=True)
def _cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("RHBENCH_CACHE", str(tmp_path_factory.getbasetemp() / "rhbench-cache"))


def _scaled_root(demo_root, folder, factor: float):
    root = folder / "data"
    shutil.copytree(demo_root, root, copy_function=os.link)
    target = root / RH_FILE
    target.unlink()  # break the hard link: the shared demo root stays intact
    shutil.copyfile(demo_root / RH_FILE, target)
    with netCDF4.Dataset(target, "r+") as ds:
        ds["rh"][:] = ds["rh"][:] * factor
    return root


def _global(out, source, metric):
    rows = json.loads((out / "scorecard.json").read_text())["rows"]
    return next(r["value"] for r in rows if (r["source"], r["metric"], r["region"]) == (source, metric, "global"))


@pytest.mark.slow
def test_gate_fails_a_model_whose_rh_drops_25_percent(demo_root, tmp_path, capsys):
    base_out, cur_out = tmp_path / "base" / "out", tmp_path / "cur" / "out"
    config = write_config(tmp_path / "base", demo_root, ("CLM5.0",))
    assert main(["-q", "run", "--config", str(config), "--out", str(base_out)]) == 0
    root = _scaled_root(demo_root, tmp_path / "cur", 0.75)
    config = write_config(tmp_path / "cur", root, ("CLM5.0",))
    assert main(["-q", "run", "--config", str(config), "--out", str(cur_out)]) == 0
    ratio = _global(cur_out, "CLM5.0", "rh_global") / _global(base_out, "CLM5.0", "rh_global")
    assert ratio == pytest.approx(0.75, rel=1e-3)
    capsys.readouterr()
    junit = tmp_path / "junit.xml"
    code = main(["check", str(cur_out / "scorecard.json"), "--baseline", str(base_out / "scorecard.json"),
                 "--junit", str(junit)])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 1, out
    assert "-25.00%" in out
    assert "CHANGED" in next(line for line in out.splitlines() if "CLM5.0" in line and " rh_global " in line)
    assert 'classname="CLM5.0" name="rh_global"' in junit.read_text()
