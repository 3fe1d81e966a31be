"""The gate's keyed signature: ``manifest.json`` and its HMAC-SHA256 (``RHBENCH_GATE_KEY``).

A run folder is built here as ``rhbench run`` leaves it (scorecard.json and scores.csv from the
real writer, stand-ins for results.nc, cmec.json and run.json, then the manifest), and the gate
is run through the CLI on it, with and without keys. One end-to-end run on the 4-degree
SYNTHETIC demo shows that the key is in no output file and no log line.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import shutil

import pytest
from test_reliability_isolation import write_config

from rhbench.cli import main
from rhbench.report import manifest
from rhbench.report.tables import DIGEST_KEY, scorecard_digest, write_scorecard
from rhbench.results import Results, ScoreRow

KEY = "k" * 8 + "0123456789abcdef0123456789abcdef"
OTHER_KEY = "o" * 40
ROWS = [
    ScoreRow("A", "dgvm", "rh_global", "global", "Pg C yr-1", 60.0),
    ScoreRow("A", "dgvm", "rh_taylor_score", "global", "1", 0.8),
]


@pytest.fixture(autouse=True)
def _no_key(monkeypatch):
    monkeypatch.delenv(manifest.KEY_ENV, raising=False)
    monkeypatch.delenv(manifest.KEY_FILE_ENV, raising=False)


def _run_folder(folder, key: str | None, rows=ROWS):
    """A run folder as `rhbench run` writes it, signed with ``key`` (None: digests only)."""
    write_scorecard(Results(rows=list(rows)), folder, synthetic=True, meta={"config": {"resolution": 4.0}})
    for name, text in ((manifest.RESULTS_NC, "CDF\x01 bytes"), (manifest.CMEC_JSON, "{}"), (manifest.RUN_JSON, "{}")):
        (folder / name).write_text(text)
    manifest.write_manifest(folder, key.encode() if key else None)
    return folder / "scorecard.json"


def _check(capsys, monkeypatch, current, baseline, key: str | None = None):
    if key is not None:
        monkeypatch.setenv(manifest.KEY_ENV, key)
    capsys.readouterr()
    code = main(["check", str(current), "--baseline", str(baseline)])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def _edit_and_recompute_digest(scorecard, value: float = 99.0):
    """The known attack on the digest: edit rh_global and recompute the scorecard's sha256."""
    document = json.loads(scorecard.read_text())
    next(row for row in document["rows"] if row["metric"] == "rh_global")["value"] = value
    document[DIGEST_KEY] = scorecard_digest(document)
    scorecard.write_text(json.dumps(document, indent=2))


@pytest.fixture
def runs(tmp_path):
    """(baseline, signed current, unsigned current) scorecards."""
    base = _run_folder(_mkdir(tmp_path / "base"), None)
    signed = _run_folder(_mkdir(tmp_path / "signed"), KEY)
    unsigned = _run_folder(_mkdir(tmp_path / "unsigned"), None)
    return base, signed, unsigned


def _mkdir(path):
    path.mkdir()
    return path


def test_without_a_key_the_gate_passes_and_says_digest_only_not_signed(runs, capsys, monkeypatch):
    base, _, unsigned = runs
    code, out = _check(capsys, monkeypatch, unsigned, base)
    assert code == 0, out
    assert "digest only, not signed" in out.splitlines()[0]
    assert "integrity: current scorecard: digest only, not signed" in out


def test_with_the_same_key_at_run_and_check_the_gate_passes_signed(runs, capsys, monkeypatch):
    base, signed, _ = runs
    code, out = _check(capsys, monkeypatch, signed, base, KEY)
    assert code == 0, out
    assert out.splitlines()[0].endswith("; signed")
    assert f"HMAC-SHA256 of 5 files verified (key id {manifest.key_id(KEY.encode())})" in out
    assert "baseline: digest only, not signed (its run had no gate key: a baseline under review)" in out


def test_a_scorecard_edited_with_its_digest_recomputed_fails_with_a_key(runs, capsys, monkeypatch):
    base, signed, _ = runs
    _edit_and_recompute_digest(signed)
    code, out = _check(capsys, monkeypatch, signed, base, KEY)
    assert code == 1, out
    assert "scorecard.json was changed after the run signed it" in out
    assert str(signed) in out


def test_without_a_key_an_edit_is_caught_unless_the_manifest_is_recomputed_too(runs, capsys, monkeypatch):
    """Digests tell an edit; whoever also rewrites manifest.json passes: "digest only, not signed"."""
    base, _, _ = runs
    broken = [dataclasses.replace(ROWS[0], value=30.0), ROWS[1]]  # Rh halved: fails the gate
    current = _run_folder(_mkdir(base.parents[1] / "broken"), None, broken)
    assert _check(capsys, monkeypatch, current, base)[0] == 1
    _edit_and_recompute_digest(current, 60.0)  # forged back to the baseline's value, digest recomputed
    code, out = _check(capsys, monkeypatch, current, base)
    assert code == 1, out
    assert "scorecard.json is not the file the run wrote (its sha256 differs from manifest.json" in out
    manifest.write_manifest(current.parent, None)  # the forger recomputes the manifest as well
    code, out = _check(capsys, monkeypatch, current, base)
    assert code == 0 and "digest only, not signed" in out.splitlines()[0], out


def test_a_signed_run_whose_manifest_is_rewritten_without_the_key_fails(runs, capsys, monkeypatch):
    base, signed, _ = runs
    _edit_and_recompute_digest(signed)
    forged = json.loads((signed.parent / "manifest.json").read_text())
    fresh = manifest.write_manifest(signed.parent, None)["files"]
    forged["files"] = fresh  # sha256s recomputed, HMACs cannot be
    (signed.parent / "manifest.json").write_text(json.dumps(forged))
    code, out = _check(capsys, monkeypatch, signed, base, KEY)
    assert code == 1, out
    assert "manifest.json file list or run context was edited after signing" in out


@pytest.mark.parametrize("name", ["results.nc", "cmec.json", "scores.csv", "run.json"])
def test_any_gated_output_changed_after_a_signed_run_fails_naming_it(runs, capsys, monkeypatch, name):
    base, signed, _ = runs
    target = signed.parent / name
    target.write_bytes(target.read_bytes() + b" ")
    code, out = _check(capsys, monkeypatch, signed, base, KEY)
    assert code == 1, out
    assert f"{name} was changed after the run signed it" in out and str(target) in out


def test_a_signed_output_deleted_or_a_gated_file_added_fails(runs, capsys, monkeypatch):
    base, signed, _ = runs
    (signed.parent / "cmec.json").unlink()
    code, out = _check(capsys, monkeypatch, signed, base, KEY)
    assert code == 1 and "cmec.json is signed but missing" in out, out
    signed.parent.joinpath("cmec.json").write_text("{}")
    entry = json.loads((signed.parent / "manifest.json").read_text())
    del entry["files"]["cmec.json"], entry["signature"]["files"]["cmec.json"]
    (signed.parent / "manifest.json").write_text(json.dumps(entry))
    code, out = _check(capsys, monkeypatch, signed, base, KEY)
    assert code == 1 and "holds cmec.json, which its manifest.json does not list" in out, out


def test_unsigned_outputs_fail_when_a_key_is_set(runs, capsys, monkeypatch):
    base, _, unsigned = runs
    (unsigned.parent / "manifest.json").unlink()
    code, out = _check(capsys, monkeypatch, unsigned, base, KEY)
    assert code == 1, out
    assert "the current scorecard is unsigned (no manifest.json beside" in out
    assert out.splitlines()[0].endswith("; unsigned")


def test_a_key_at_check_but_not_at_run_fails_saying_so(runs, capsys, monkeypatch):
    base, _, unsigned = runs
    code, out = _check(capsys, monkeypatch, unsigned, base, KEY)
    assert code == 1, out
    assert "records no signature: the run had no gate key" in out


def test_outputs_signed_with_another_key_fail_naming_both_key_ids(runs, capsys, monkeypatch):
    base, signed, _ = runs
    code, out = _check(capsys, monkeypatch, signed, base, OTHER_KEY)
    assert code == 1, out
    assert "signed with another key" in out
    assert out.splitlines()[0].endswith("; signature NOT verified")  # never "digest only" when a key was given
    assert manifest.key_id(KEY.encode()) in out and manifest.key_id(OTHER_KEY.encode()) in out


def test_a_signed_baseline_is_verified_too(runs, capsys, monkeypatch, tmp_path):
    _, signed, _ = runs
    other = _run_folder(_mkdir(tmp_path / "other"), KEY)
    _edit_and_recompute_digest(signed)
    code, out = _check(capsys, monkeypatch, other, signed, KEY)
    assert code == 1 and "the baseline's scorecard.json was changed after the run signed it" in out, out


def test_a_computed_hmac_is_never_printed(runs, capsys, monkeypatch):
    """Printing the HMAC of an edited file would let whoever reads the CI log sign it."""
    base, signed, _ = runs
    _edit_and_recompute_digest(signed)
    code, out = _check(capsys, monkeypatch, signed, base, KEY)
    assert code == 1
    forged = manifest._hashes(signed, KEY.encode())[2]
    assert forged not in out and forged[:12] not in out


@pytest.mark.parametrize(
    ("value", "expected"),
    [("", "is set but empty"), ("short", "too short to sign with; found: 5 bytes")],
)
def test_an_empty_or_short_key_is_a_usage_error_that_does_not_quote_it(runs, capsys, monkeypatch, value, expected):
    base, signed, _ = runs
    code, out = _check(capsys, monkeypatch, signed, base, value)
    assert code == 2 and expected in out, out
    assert "short" not in out.replace("too short", "")


def test_a_key_file_others_can_read_is_refused_and_a_private_one_works(runs, capsys, monkeypatch, tmp_path):
    base, signed, _ = runs
    key_file = tmp_path / "gate.key"
    key_file.write_text(KEY + "\n")
    key_file.chmod(0o644)
    monkeypatch.setenv(manifest.KEY_FILE_ENV, str(key_file))
    code, out = _check(capsys, monkeypatch, signed, base)
    assert code == 2, out
    assert "readable or writable by its group or others" in out and "mode 0644" in out and str(key_file) in out
    key_file.chmod(0o600)
    code, out = _check(capsys, monkeypatch, signed, base)
    assert code == 0 and "; signed" in out, out
    monkeypatch.setenv(manifest.KEY_ENV, KEY)
    code, out = _check(capsys, monkeypatch, signed, base)
    assert code == 2 and "both RHBENCH_GATE_KEY and RHBENCH_GATE_KEY_FILE are set" in out


def test_a_missing_key_file_is_a_usage_error(runs, capsys, monkeypatch, tmp_path):
    base, signed, _ = runs
    monkeypatch.setenv(manifest.KEY_FILE_ENV, str(tmp_path / "absent.key"))
    code, out = _check(capsys, monkeypatch, signed, base)
    assert code == 2 and "cannot read the gate key file" in out and "absent.key" in out, out


def test_a_run_with_an_unusable_key_stops_before_writing(tmp_path, monkeypatch, demo_root):
    monkeypatch.setenv(manifest.KEY_ENV, "")
    config = write_config(tmp_path, demo_root, ("CLM5.0",))
    assert main(["-q", "run", "--config", str(config), "--out", str(tmp_path / "out")]) == 2
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_a_signed_demo_run_passes_and_the_key_is_in_no_output_or_log(tmp_path, monkeypatch, demo_root, caplog, capsys):
    monkeypatch.setenv("RHBENCH_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv(manifest.KEY_ENV, KEY)
    caplog.set_level(logging.DEBUG)
    config = write_config(tmp_path, demo_root, ("CLM5.0",))
    out = tmp_path / "out"
    assert main(["run", "--config", str(config), "--out", str(out)]) == 0
    baseline = tmp_path / "baseline.json"
    shutil.copyfile(out / "scorecard.json", baseline)
    reports = ["--junit", str(tmp_path / "gate.xml"), "--markdown", str(tmp_path / "gate.md")]
    assert main(["check", str(out / "scorecard.json"), "--baseline", str(baseline), *reports]) == 0
    printed = capsys.readouterr()
    assert "; signed" in printed.out
    signature = json.loads((out / "manifest.json").read_text())["signature"]
    assert sorted(signature["files"]) == sorted(manifest.GATED_OUTPUTS)
    texts = [printed.out, printed.err, caplog.text]
    files = [p for p in [*out.rglob("*"), tmp_path / "gate.xml", tmp_path / "gate.md"] if p.is_file()]
    leaks = [str(p) for p in files if KEY.encode() in p.read_bytes()]
    assert not leaks and not any(KEY in text for text in texts)
