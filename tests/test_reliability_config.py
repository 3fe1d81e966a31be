"""Issue 13, configuration and exit codes: bad settings are exit 2 naming the key; any failed row is exit 3.

Each case failed before: a negative seed or a NaN resolution crashed or ran, ``models =
["CLM5"]`` benchmarked nothing and exited 0, a failed row that was not a failed source
exited 0, an unreachable ``--scheduler`` hung, the demo cache ignored the seed, and a run
on a data root written by ``rhbench demo`` was not labelled SYNTHETIC.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import pytest
import xarray as xr

from rhbench.cli import main
from rhbench.commands import run as run_command
from rhbench.config import RunConfig, load_config, validate
from rhbench.errors import ConfigError
from rhbench.pipeline import Outcome
from rhbench.results import Results, ScoreRow


def _config(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "run.toml"
    path.write_text("\n".join((f'data_root = "{tmp_path}"', *lines)) + "\n")
    return path


@pytest.mark.parametrize(
    ("line", "key"),
    [
        ("seed = -1", "seed"),
        ("resolution = nan", "resolution"),
        ("resolution = inf", "resolution"),
        ("resolution = 0.001", "resolution"),
        ("n_draws = 0", "n_draws"),
        ("models = []", "models"),
        ("csoil_products = []", "csoil_products"),
    ],
)
def test_unusable_settings_are_config_errors_naming_the_key(tmp_path, line, key):
    with pytest.raises(ConfigError) as info:
        load_config(_config(tmp_path, line))
    assert info.value.variable == key
    assert main(["-q", "run", "--config", str(_config(tmp_path, line)), "--out", str(tmp_path / "out")]) == 2
    assert not (tmp_path / "out").exists()


def test_a_negative_seed_on_the_command_line_is_refused(tmp_path):
    assert main(["-q", "run", "--data-root", str(tmp_path), "--seed", "-1", "--out", str(tmp_path / "o")]) == 2
    with pytest.raises(ConfigError):
        validate(RunConfig(seed=-1))


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('models = ["CLM5"]', "unknown model names"),
        ('reference = "HWSD"', "the reference must be an Rh product"),
    ],
)
def test_unknown_models_and_a_non_rh_reference_exit_2_listing_the_choices(demo_root, tmp_path, capsys, line, message):
    config = tmp_path / "run.toml"
    config.write_text(f'data_root = "{demo_root}"\nresolution = 4\nquick_upscaling = true\n{line}\n')
    assert main(["-q", "run", "--config", str(config), "--out", str(tmp_path / "out")]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert message in err
    assert ("'CLM5.0'" in err) if "models" in line else ("'Konings2019'" in err)  # the known names are listed
    assert not (tmp_path / "out").exists()


def test_a_failed_row_makes_exit_code_3_with_a_summary_on_stderr(caplog):
    bad = ScoreRow("JSBACH", "dgvm", "rh_global", "global", "Pg C yr-1", float("nan"), "failed", "implausible")
    ok = ScoreRow("CLM5.0", "dgvm", "rh_global", "global", "Pg C yr-1", 50.0)
    outcome = Outcome(Results(rows=[ok, bad]), None, False, failures={})
    assert outcome.exit_code == 3
    assert Outcome(Results(rows=[ok]), None, False, failures={}).exit_code == 0
    with caplog.at_level(logging.WARNING):
        run_command._failure_summary(outcome)
    assert "failed row JSBACH / rh_global / global: implausible" in caplog.text
    assert "exit 3: 1 failed rows from JSBACH" in caplog.text


@pytest.mark.slow
def test_an_unreachable_scheduler_fails_fast_naming_the_address(tmp_path, capsys):
    address = "tcp://127.0.0.1:9"  # the discard port: nothing listens
    started = time.monotonic()
    code = main(["-q", "run", "--data-root", str(tmp_path), "--scheduler", address, "--out", str(tmp_path / "o")])
    assert code == 2
    assert time.monotonic() - started < 60
    err = " ".join(capsys.readouterr().err.split())
    assert "cannot reach the dask scheduler" in err and address in err


def test_the_demo_cache_is_keyed_on_the_seed(tmp_path, monkeypatch):
    made = []
    monkeypatch.setattr("rhbench.demo.demo_is_current", lambda root, **kw: False)
    monkeypatch.setattr("rhbench.demo.generate_demo", lambda root, **kw: made.append((root, kw["seed"])))
    monkeypatch.setenv("RHBENCH_CACHE", str(tmp_path))
    for seed in (5, 0):
        run_command.prepare_demo(RunConfig(demo=True, resolution=4.0, seed=seed), registry=None)
    (root5, seed5), (root0, seed0) = made
    assert (seed5, seed0) == (5, 0) and root5 != root0


def test_a_run_on_a_demo_data_root_is_labelled_synthetic_everywhere(small_demo_run):
    outcome, _ = small_demo_run  # data_root is a demo root, demo=False: labelled by the demo's marker file
    assert outcome.synthetic
    out = outcome.out_dir
    assert json.loads((out / "scorecard.json").read_text())["synthetic"] is True
    assert json.loads((out / "run.json").read_text())["synthetic"] is True
    with xr.open_dataset(out / "results.nc") as ds:
        assert ds.attrs["synthetic"] == "true"
    assert "SYNTHETIC" in (out / "index.html").read_text(encoding="utf-8")
    assert json.loads((out / "cmec.json").read_text())["PROVENANCE"]["synthetic"] is True


def test_the_end_summary_does_not_repeat_each_failed_sources_full_reason(caplog):
    """Each failure is logged in full once, when it happens (``Failures.record``); the summary
    at the end repeated all of them (34 lines for a data root without TRENDY files): it groups
    the sources by the kind of failure instead, one line per kind."""
    missing = "data file not found; source: {0}; file: /data/trendy_v9/{0}/{0}_S2_rh.nc; variable: rh"
    failures = {name: missing.format(name) for name in ("CLASSIC", "DLEM", "VISIT")}
    failures["JSBACH"] = "broken plugin: boom"
    rows = [ScoreRow(n, "dgvm", "load", "global", "", float("nan"), "failed", r) for n, r in failures.items()]
    outcome = Outcome(Results(rows=rows), None, False, failures=failures)
    with caplog.at_level(logging.WARNING):
        run_command._failure_summary(outcome)
    lines = caplog.text.splitlines()
    assert not any("/data/trendy_v9" in line for line in lines), lines
    assert sum("data file not found" in line for line in lines) == 1
    assert any("data file not found" in line and "CLASSIC, DLEM, VISIT" in line for line in lines), lines
    assert any("broken plugin: boom" in line and "JSBACH" in line for line in lines), lines
    assert any("exit 3: 4 failed rows from CLASSIC, DLEM, JSBACH, VISIT" in line for line in lines), lines
