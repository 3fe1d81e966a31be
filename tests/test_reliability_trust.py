"""Siblings of issue 13's cases found by the adversarial audit (docs/trust-cases.md).

Each test failed on the code before its fix.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time

import pytest
from test_reliability_isolation import demo_with_model_masked, write_config

from rhbench.cli import main
from rhbench.commands import run as run_command
from rhbench.config import RunConfig, validate
from rhbench.errors import ConfigError
from rhbench.metrics import coverage
from rhbench.results import ScoreRow


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
    code = main(
        ["check", str(current), "--baseline", str(baseline), "--junit", str(junit), "--markdown", str(markdown)]
    )
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


@pytest.mark.parametrize(
    "option",
    [
        ["--resolution", "nan"],  # was a ValueError traceback (exit 1)
        ["--resolution", "0.01"],  # was killed for memory
        ["--seed", "-1"],  # was a numpy traceback
        ["--seed", "99999999999"],  # above numpy's 2**32 - 1
        ["--models", "0"],  # wrote a demo without DGVMs, exit 0
        ["--models", "-1"],  # wrote all DGVMs but the last, exit 0
    ],
)
def test_demo_refuses_values_no_demo_can_use(tmp_path, option, capfd):
    out = tmp_path / "demo"
    assert main(["-q", "demo", "--out", str(out), *option]) == 2
    assert not out.exists()
    assert option[0].lstrip("-") in capfd.readouterr().err


def test_a_seed_numpy_cannot_take_is_a_config_error(tmp_path):
    """seed = 99999999999 passed validation and crashed in numpy (exit 1)."""
    with pytest.raises(ConfigError, match="seed"):
        validate(RunConfig(seed=2**32))
    validate(RunConfig(seed=2**32 - 1))
    assert main(["-q", "run", "--data-root", str(tmp_path), "--seed", str(2**32), "--out", str(tmp_path / "o")]) == 2


class _SilentServer:
    """A TCP server that accepts connections and never answers (like a wrong port)."""

    def __init__(self, reply: bytes = b""):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.reply, self.conns = reply, []
        threading.Thread(target=self._serve, daemon=True).start()

    @property
    def address(self) -> str:
        return f"tcp://127.0.0.1:{self.sock.getsockname()[1]}"

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(conn)
            if self.reply:
                conn.sendall(self.reply)


@pytest.mark.parametrize("reply", [b"", b"HTTP/1.0 400 Bad Request\r\n\r\n" * 64], ids=["silent", "http"])
def test_a_scheduler_address_that_is_not_dask_fails_fast(tmp_path, capsys, monkeypatch, reply):
    """A listening non-dask server (e.g. the dashboard port) made ``--scheduler`` hang for ever,
    or read its bytes as a frame length (MemoryError traceback)."""
    monkeypatch.setattr(run_command, "SCHEDULER_TIMEOUT", "2s")
    server = _SilentServer(reply)
    address, started = server.address, time.monotonic()
    code = main(["-q", "run", "--data-root", str(tmp_path), "--scheduler", address, "--out", str(tmp_path / "o")])
    server.sock.close()
    assert code == 2
    assert time.monotonic() - started < 30
    err = " ".join(capsys.readouterr().err.split())
    assert "cannot reach the dask scheduler" in err and address in err


def _row(source, metric, status="ok", reason=""):
    return ScoreRow(source, "dgvm", metric, "global", "Pg C", 1.0 if status == "ok" else float("nan"), status, reason)


def test_a_partial_model_fails_its_2_box_uptake_totals_and_only_its_own():
    checks = [_row("A", "rh_coverage", "failed", "Rh covers 59%"), _row("B", "rh_coverage")]
    rows = [_row("A", "dcTotal_constrained"), _row("A", "emulation_r2"), _row("B", "dcTotal_constrained")]
    gated = {(r.source, r.metric): r for r in coverage.gate_sources(rows, checks)}
    assert gated["A", "dcTotal_constrained"].status == "failed"
    assert gated["A", "dcTotal_constrained"].reason == "Rh covers 59%"
    assert gated["A", "emulation_r2"].status == "ok"  # a fit statistic, not a global total
    assert gated["B", "dcTotal_constrained"].status == "ok"


@pytest.mark.slow
def test_a_model_covering_latitudes_40s_40n_gets_no_global_uptake(demo_root, tmp_path, monkeypatch):
    """CLM5.0 masked to |lat| <= 40 had failed rh totals but dcTotal_constrained 'ok' (exit 3 for other rows)."""
    monkeypatch.setenv("RHBENCH_CACHE", str(tmp_path / "cache"))
    root = demo_with_model_masked(demo_root, tmp_path)  # CLM5.0 at |lat| <= 40 only
    out = tmp_path / "out"
    assert main(["-q", "run", "--config", str(write_config(tmp_path, root, ("CLM5.0",))), "--out", str(out)]) == 3
    rows = json.loads((out / "scorecard.json").read_text())["rows"]
    row = next(
        r for r in rows if (r["source"], r["metric"], r["region"]) == ("CLM5.0", "dcTotal_constrained", "global")
    )
    assert row["status"] == "failed" and "of the reference's land area" in row["reason"]


@pytest.mark.parametrize(
    ("line", "key"), [('csoil_products = ["WISE30"]', "csoil_products"), ('products = ["Hashimoto2016"]', "products")]
)
def test_a_product_name_typo_is_a_config_error_listing_the_choices(tmp_path, capsys, line, key):
    """A typo in csoil_products/products ran without that product (turnover skipped) and exited 0."""
    config = tmp_path / "run.toml"
    config.write_text(f'data_root = "{tmp_path}"\n{line}\n')
    assert main(["-q", "run", "--config", str(config), "--out", str(tmp_path / "o")]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert f"unknown product names in {key}" in err and "WISE30sec" in err
    assert not (tmp_path / "o").exists()
