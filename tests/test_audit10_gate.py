"""Tenth audit, items 2 and 3: an unverified baseline and the page in the gate manifest
(docs/trust-cases.md, "Tenth audit (session 8)").

Runs: the reliability demo (SYNTHETIC) against one Rh product (no Random Forest), made by the
``rhbench`` command in a fresh process so that its page workers draw the page as for a user.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from rhbench.cli import main
from rhbench.report import manifest
from rhbench.report.workers import WORKERS_ENV

KEY = "0123456789abcdef0123456789abcdef"
FAST = 'reference = "Hashimoto2015"\nproducts = ["Hashimoto2015"]\nresolution = 4\nn_draws = 10\n'
RUN = "from rhbench.cli import console; console()"  # the `rhbench` console script


def _run(tmp_path: Path, demo_root: Path, name: str, *, key: str | None = None, page_workers: int = 0) -> Path:
    """A run of CLM5.0 on the demo by the ``rhbench`` command in its own process; its folder."""
    config = tmp_path / "fast.toml"
    config.write_text(FAST, encoding="utf-8")
    out = tmp_path / name
    env = {k: v for k, v in os.environ.items() if k not in (manifest.KEY_ENV, manifest.KEY_FILE_ENV)}
    env[WORKERS_ENV] = str(page_workers)
    if key:
        env[manifest.KEY_ENV] = key
    argv = ["-q", "run", "--config", str(config), "--data-root", str(demo_root), "--models", "CLM5.0"]
    done = subprocess.run(
        [sys.executable, "-c", RUN, *argv, "--out", str(out)], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode in (0, 3), done.stderr
    return out


def _check(capsys, monkeypatch, scorecard: Path, baseline: Path, *extra: str, key: str | None = None):
    monkeypatch.delenv(manifest.KEY_FILE_ENV, raising=False)
    if key:
        monkeypatch.setenv(manifest.KEY_ENV, key)
    else:
        monkeypatch.delenv(manifest.KEY_ENV, raising=False)
    code = main(["check", str(scorecard), "--baseline", str(baseline), *extra])
    return code, capsys.readouterr().out


@pytest.fixture(scope="module")
def runs(tmp_path_factory, demo_root) -> dict[str, Path]:
    """Two runs, unsigned and signed, and a baseline folder holding copies of the unsigned run's
    scores.csv and scorecard.json, no manifest.json (a baseline copied out of its run folder)."""
    tmp = tmp_path_factory.mktemp("audit10-gate")
    found = {"plain": _run(tmp, demo_root, "plain"), "signed": _run(tmp, demo_root, "signed", key=KEY)}
    copies = tmp / "committed"
    copies.mkdir()
    for name in ("scores.csv", "scorecard.json"):
        shutil.copyfile(found["plain"] / name, copies / name)
    return {**found, "copies": copies}


# --- item 2: a baseline nothing verifies ------------------------------------------------


@pytest.mark.slow
def test_a_csv_baseline_outside_a_run_folder_is_said_unverified_on_the_first_line(runs, capsys, monkeypatch):
    code, out = _check(capsys, monkeypatch, runs["plain"] / "scorecard.json", runs["copies"] / "scores.csv")
    first = out.splitlines()[0]
    assert code == 0
    assert first.startswith("rhbench check PASSED") and first.endswith(
        "digest only, not signed; baseline UNVERIFIED (no manifest.json, no digest)"
    )
    where = f"no manifest.json beside {runs['copies'] / 'scores.csv'} and no sha256 in it"
    assert f"integrity: baseline: UNVERIFIED ({where}: edits cannot be detected)" in out
    assert "integrity: baseline: digest only" not in out  # before: "digest only", though none was compared


@pytest.mark.slow
def test_a_csv_scorecard_outside_a_run_folder_is_not_called_digest_checked(runs, capsys, monkeypatch):
    code, out = _check(capsys, monkeypatch, runs["copies"] / "scores.csv", runs["plain"] / "scorecard.json")
    where = f"no manifest.json beside {runs['copies'] / 'scores.csv'} and no sha256 in it"
    assert code == 0 and out.splitlines()[0].endswith("; UNVERIFIED"), out
    assert f"integrity: current scorecard: UNVERIFIED ({where}: edits cannot be detected)" in out


@pytest.mark.slow
def test_with_a_gate_key_an_unverified_baseline_fails_unless_allowed(runs, capsys, monkeypatch):
    scorecard, baseline = runs["signed"] / "scorecard.json", runs["copies"] / "scores.csv"
    code, out = _check(capsys, monkeypatch, scorecard, baseline, key=KEY)
    assert code == 1
    assert out.splitlines()[0].endswith("1 problem(s); signed; baseline UNVERIFIED (no manifest.json, no digest)")
    expected = (
        f"FAILED: the baseline is unverified (no manifest.json beside {baseline} and no sha256 in it: a CSV or an "
        "older rhbench's scorecard) but a gate key is set (RHBENCH_GATE_KEY or RHBENCH_GATE_KEY_FILE): nothing "
        "tells whether its rows were edited; to fix: give the scorecard.json of a run folder (with its "
        "manifest.json) or a scorecard.json rhbench wrote as --baseline, or pass --allow-unverified-baseline"
    )
    assert expected in out.splitlines()
    code, out = _check(capsys, monkeypatch, scorecard, baseline, "--allow-unverified-baseline", key=KEY)
    assert code == 0 and "(accepted: --allow-unverified-baseline)" in out
    assert out.splitlines()[0].endswith("; signed; baseline UNVERIFIED (no manifest.json, no digest)")


@pytest.mark.slow
def test_a_committed_scorecard_json_or_a_run_folder_baseline_is_not_called_unverified(runs, capsys, monkeypatch):
    """The README's CI recipe commits a copied scorecard.json (its own sha256 tells an edit): unchanged."""
    scorecard = runs["signed"] / "scorecard.json"
    for baseline in (runs["copies"] / "scorecard.json", runs["plain"] / "scores.csv"):
        code, out = _check(capsys, monkeypatch, scorecard, baseline, key=KEY)
        assert code == 0 and "UNVERIFIED" not in out, out


def test_allow_unverified_baseline_is_in_the_help(capsys):
    with pytest.raises(SystemExit):
        main(["check", "--help"])
    assert "--allow-unverified-baseline" in capsys.readouterr().out


# --- item 3: the page is a gated output ---------------------------------------------------


def _edit_one_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    at = data.index(b"<title>") + len(b"<title>")
    data[at] = ord("R") if data[at] != ord("R") else ord("r")
    path.write_bytes(bytes(data))


@pytest.mark.slow
@pytest.mark.parametrize("key", [None, KEY], ids=["digest", "signed"])
def test_an_edited_byte_of_index_html_fails_the_check_naming_the_page(tmp_path, demo_root, capsys, monkeypatch, key):
    run = _run(tmp_path, demo_root, "run", key=key)
    listed = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
    assert "index.html" in listed["files"]
    baseline = tmp_path / "baseline"
    shutil.copytree(run, baseline)
    code, _ = _check(capsys, monkeypatch, run / "scorecard.json", baseline / "scorecard.json", key=key)
    assert code == 0
    _edit_one_byte(run / "index.html")
    code, out = _check(capsys, monkeypatch, run / "scorecard.json", baseline / "scorecard.json", key=key)
    assert code == 1
    if key is None:
        assert "FAILED: the current scorecard's index.html is not the file the run wrote (its sha256 differs" in out
    else:
        assert "FAILED: the current scorecard's index.html was changed after the run signed it" in out
    assert str(run / "index.html") in out


@pytest.mark.slow
def test_the_manifest_digest_of_the_page_is_of_the_page_the_workers_drew(tmp_path, demo_root):
    """Two page workers draw the sections; the run writes the page, then the manifest: the digest
    and HMAC recorded are those of the file on disk."""
    run = _run(tmp_path, demo_root, "workers", key=KEY, page_workers=2)
    assert manifest.verify(run / "scorecard.json", KEY.encode()).signed
    entry = json.loads((run / "manifest.json").read_text(encoding="utf-8"))["files"]["index.html"]
    page = run / "index.html"
    assert entry["bytes"] == page.stat().st_size
    assert entry["sha256"] == manifest._hashes(page, None)[1]
    assert (run / "manifest.json").stat().st_mtime_ns >= page.stat().st_mtime_ns
