"""``rhbench check --require-signed-baseline`` (Review 7's open item, R7-11).

With a gate key, a baseline run folder whose manifest.json records no signature is accepted as
"digest only, not signed": whoever can write a once-signed baseline can null its signature, edit
its rows and recompute the digests. The option makes the baseline's signature under the key a
requirement. Run folders are built as in tests/test_gate_signature.py (the real writers).
"""

from __future__ import annotations

import json

import pytest
from test_gate_signature import KEY, _edit_and_recompute_digest, _mkdir, _run_folder

from rhbench.cli import main
from rhbench.report import manifest

REQUIRE = "--require-signed-baseline"


@pytest.fixture(autouse=True)
def _no_key(monkeypatch):
    monkeypatch.delenv(manifest.KEY_ENV, raising=False)
    monkeypatch.delenv(manifest.KEY_FILE_ENV, raising=False)


def _check(capsys, current, baseline, *options: str) -> tuple[int, str]:
    capsys.readouterr()
    code = main(["check", str(current), "--baseline", str(baseline), *options])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


@pytest.fixture
def signed_runs(tmp_path, monkeypatch):
    """(current, baseline) scorecards of two run folders signed with KEY; KEY set for the check."""
    monkeypatch.setenv(manifest.KEY_ENV, KEY)
    return _run_folder(_mkdir(tmp_path / "current"), KEY), _run_folder(_mkdir(tmp_path / "base"), KEY)


def test_a_signed_baseline_passes(signed_runs, capsys):
    current, baseline = signed_runs
    code, out = _check(capsys, current, baseline, REQUIRE)
    assert code == 0, out
    assert f"baseline: signed: HMAC-SHA256 of 5 files verified (key id {manifest.key_id(KEY.encode())})" in out


def test_a_signature_nulled_with_rows_edited_and_digests_recomputed_fails_naming_the_file(signed_runs, capsys):
    """The downgrade: without the option it passes (digest only, a baseline under review); with it, exit 1."""
    current, baseline = signed_runs
    _edit_and_recompute_digest(current, 30.0)  # a broken current run (rh_global halved), signed by its run
    manifest.write_manifest(current.parent, KEY.encode())
    _edit_and_recompute_digest(baseline, 30.0)  # the baseline forged to match it
    forged = json.loads((baseline.parent / "manifest.json").read_text())
    forged["files"] = manifest.write_manifest(baseline.parent, None)["files"]  # digests recomputed
    forged["signature"] = None
    (baseline.parent / "manifest.json").write_text(json.dumps(forged))
    code, out = _check(capsys, current, baseline)
    assert code == 0 and "baseline: digest only, not signed" in out, out  # the hole the option closes
    code, out = _check(capsys, current, baseline, REQUIRE)
    assert code == 1, out
    assert f"the baseline {baseline} is not signed with the gate key" in out
    assert "manifest.json records no signature" in out and "to fix:" in out
    assert "baseline NOT SIGNED" in out.splitlines()[0]


def test_a_csv_baseline_fails(signed_runs, capsys, tmp_path):
    current, baseline = signed_runs
    csv = _mkdir(tmp_path / "copies") / "scores.csv"  # copied out of its (signed) run folder
    csv.write_bytes((baseline.parent / "scores.csv").read_bytes())
    code, out = _check(capsys, current, csv, REQUIRE)
    assert code == 1, out
    assert f"the baseline {csv} is not signed with the gate key" in out
    assert "no manifest.json beside" in out and "a CSV" in out and "to fix:" in out
    assert "--allow-unverified-baseline" not in out.split("to fix:")[-1].split("\n")[0]  # not offered: exclusive


def test_a_copied_scorecard_without_its_manifest_fails(signed_runs, capsys, tmp_path):
    current, baseline = signed_runs
    copy = tmp_path / "committed.json"
    copy.write_bytes(baseline.read_bytes())
    assert _check(capsys, current, copy)[0] == 0  # digest only, a baseline under review
    code, out = _check(capsys, current, copy, REQUIRE)
    assert code == 1, out
    assert f"the baseline {copy} is not signed" in out and "its own sha256 only" in out


def test_without_a_key_the_option_is_a_usage_error(tmp_path, capsys):
    current = _run_folder(_mkdir(tmp_path / "current"), None)
    baseline = _run_folder(_mkdir(tmp_path / "base"), None)
    code, out = _check(capsys, current, baseline, REQUIRE)
    assert code == 2, out
    assert "--require-signed-baseline needs a gate key" in out and manifest.KEY_ENV in out


def test_the_option_and_allow_unverified_baseline_exclude_each_other(signed_runs, capsys):
    current, baseline = signed_runs
    with pytest.raises(SystemExit) as exited:
        main(["check", str(current), "--baseline", str(baseline), REQUIRE, "--allow-unverified-baseline"])
    assert exited.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err
