"""The command line: plugin listing, demo config defaults, and the no-argument main job."""

from __future__ import annotations

import argparse
import json

import pytest

from rhbench.cli import main
from rhbench.config import DEMO_RESOLUTION
from rhbench.config import resolve as _config


def test_plugins_json_lists_17_dgvms_and_the_observation_products(capsys):
    assert main(["plugins", "--json"]) == 0
    listing = json.loads(capsys.readouterr().out)
    kinds = [s["kind"] for s in listing["sources"]]
    assert kinds.count("dgvm") == 17
    assert {"csoil", "clitter", "rh", "landcover", "ndvi", "sites"} <= set(kinds)
    clm = next(s for s in listing["sources"] if s["name"] == "CLM5.0")
    assert clm["variables"]["rh"] == {"file_name": "rh", "units": "kg m-2 s-1"}
    assert listing["broken"] == []


def test_run_without_data_root_is_the_synthetic_demo(monkeypatch):
    monkeypatch.delenv("RHBENCH_DATA", raising=False)
    args = argparse.Namespace(
        config=None, data_root=None, out=None, models=None, seed=None, force=False, scheduler=None
    )
    config = _config(args)
    assert config.demo and config.resolution == DEMO_RESOLUTION and config.quick_upscaling


def test_run_with_data_root_is_not_the_demo(tmp_path):
    args = argparse.Namespace(
        config=None, data_root=tmp_path, out=None, models="CLM5.0, JSBACH", seed=3, force=False, scheduler=None
    )
    config = _config(args)
    assert not config.demo and config.data_root == tmp_path.resolve()
    assert config.models == ("CLM5.0", "JSBACH") and config.seed == 3


def test_existing_output_folder_is_refused_with_exit_2(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "mine.txt").write_text("keep me")
    assert main(["-q", "run", "--data-root", str(tmp_path), "--out", str(out)]) == 2
    assert (out / "mine.txt").read_text() == "keep me"


@pytest.mark.slow
def test_rhbench_run_with_no_arguments_writes_a_synthetic_scorecard(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RHBENCH_DATA", raising=False)
    assert main(["-q", "run"]) == 0
    (run_dir,) = (tmp_path / "rhbench-out").iterdir()
    scorecard = json.loads((run_dir / "scorecard.json").read_text())
    assert scorecard["synthetic"] is True
    dgvms = {r["source"] for r in scorecard["rows"] if r["kind"] == "dgvm" and r["status"] == "ok"}
    assert len(dgvms) == 17
    assert "SYNTHETIC" in (run_dir / "index.html").read_text()


def test_array_runtime_warnings_are_silent_unless_verbose():
    import subprocess
    import sys

    script = (
        "import sys, warnings; from rhbench.cli import _configure_logging;"
        "_configure_logging(True, sys.argv[1] == 'v');"
        "warnings.warn_explicit('invalid value encountered in divide', RuntimeWarning, 'chunk.py', 1,"
        " module='dask.array.chunk')"
    )
    quiet = subprocess.run([sys.executable, "-c", script, "q"], capture_output=True, text=True, check=True)
    verbose = subprocess.run([sys.executable, "-c", script, "v"], capture_output=True, text=True, check=True)
    assert "invalid value" not in quiet.stderr
    assert "invalid value" in verbose.stderr


def test_importing_the_units_registry_prints_nothing_under_quiet():
    import subprocess
    import sys

    script = "from rhbench.cli import _configure_logging; _configure_logging(True, False); import rhbench.units"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert "Redefining" not in done.stderr


def test_the_results_table_title_names_the_runs_configured_period(capsys):
    from types import SimpleNamespace

    from rhbench.commands import run as run_command
    from rhbench.config import RunConfig
    from rhbench.constraint import REFERENCE_PERIOD
    from rhbench.results import ScoreRow

    row = ScoreRow(source="M", kind="dgvm", metric="rh_global", region="global", value=50.0, units="Pg C/yr")
    outcome = SimpleNamespace(synthetic=False, results=SimpleNamespace(rows=[row]))
    run_command._summary(outcome, (2000, 2014))
    err = capsys.readouterr().err
    assert "global Rh 2000-2014 and tau_soil" in err and "1982-2018" not in err
    assert RunConfig().period == REFERENCE_PERIOD == (1982, 2018)  # one place for the default period
