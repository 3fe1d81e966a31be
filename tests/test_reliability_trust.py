"""Siblings of issue 13's cases found by the adversarial audit (docs/trust-cases.md).

Each test failed on the code before its fix.
"""

from __future__ import annotations

import json
import subprocess
import sys

from rhbench.cli import main


def _scorecard(path, version: str, value: float = 60.0):
    rows = [
        {"source": "A", "kind": "dgvm", "metric": "rh_global", "region": "global", "units": "Pg C yr-1",
         "value": value, "status": "ok", "reason": ""},
        {"source": "A", "kind": "dgvm", "metric": "rh_taylor_score", "region": "global", "units": "1",
         "value": 0.8, "status": "ok", "reason": ""},
    ]  # fmt: skip
    config = {"resolution": 0.5, "period": [1982, 2018], "reference": "RF-Rh", "demo": False}
    document = {"synthetic": False, "rhbench_version": version, "meta": {"config": config}, "rows": rows}
    path.write_text(json.dumps(document))
    return path


def test_gate_warns_when_the_baseline_comes_from_another_rhbench_version(tmp_path, capsys):
    baseline = _scorecard(tmp_path / "base.json", "0.0.9")
    current = _scorecard(tmp_path / "cur.json", "0.1.0")
    junit, markdown = tmp_path / "j.xml", tmp_path / "m.md"
    code = main(["check", str(current), "--baseline", str(baseline), "--junit", str(junit), "--markdown", str(markdown)])
    out = capsys.readouterr().out
    assert code == 0  # unchanged numbers still pass, but not silently
    assert "different rhbench versions (baseline 0.0.9, current 0.1.0)" in out
    assert "0.0.9" in markdown.read_text()


def test_gate_says_nothing_about_versions_when_they_agree(tmp_path, capsys):
    baseline = _scorecard(tmp_path / "base.json", "0.1.0")
    current = _scorecard(tmp_path / "cur.json", "0.1.0")
    assert main(["check", str(current), "--baseline", str(baseline)]) == 0
    assert "rhbench versions" not in capsys.readouterr().out


def test_importing_the_units_registry_logs_no_pint_redefinition_warnings():
    """cf_xarray's unit redefinitions printed 11 pint WARNING lines on every run, even with -q."""
    code = "import logging; logging.basicConfig(); import rhbench.units"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "Redefining" not in done.stderr, done.stderr
