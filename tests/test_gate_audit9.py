"""Ninth audit: the gate in a model team's CI (docs/trust-cases.md, "Ninth audit (the gate in CI)").

Each test is a way to fool ``rhbench check`` or make it lie that passed (or crashed) before its fix.
"""

from __future__ import annotations

import json
import os
import shutil

import pytest
from test_report_check import BASELINE, SETUP, _replace, _write

from rhbench.cli import main
from rhbench.errors import ConfigError
from rhbench.outdir import MARKER, _run_marker
from rhbench.report import manifest, tables
from rhbench.report.check import compare_scorecards
from rhbench.report.gate_rules import Tolerance
from rhbench.report.tables import read_scorecard, write_scorecard
from rhbench.results import Results, ScoreRow


@pytest.fixture(autouse=True)
def _no_key(monkeypatch):
    for name in (manifest.KEY_ENV, manifest.KEY_FILE_ENV, manifest.CONTEXT_ENV):
        monkeypatch.delenv(name, raising=False)


def _check(capsys, current, baseline, *options):
    capsys.readouterr()
    code = main(["check", str(current), "--baseline", str(baseline), *options])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def _run_folder(folder, rows=None):
    """A run folder as `rhbench run` leaves it: marker, scorecard, scores.csv, stand-ins, manifest."""
    folder.mkdir(parents=True)
    (folder / MARKER).write_text(_run_marker())
    units = {m: "1" if m.endswith("_score") else "Pg C yr-1" for _, m, _, _ in BASELINE}
    rows = rows or [ScoreRow(s, "dgvm", m, "global", units[m], v) for s, m, v, _ in BASELINE]
    write_scorecard(Results(rows=rows), folder, synthetic=False, meta={"config": SETUP})
    for name in (manifest.RESULTS_NC, manifest.CMEC_JSON, manifest.RUN_JSON):
        (folder / name).write_text("{}")
    manifest.write_manifest(folder, None)
    return folder / "scorecard.json"


def test_g9_1_a_key_twice_in_one_json_object_is_refused(tmp_path, capsys):
    """json keeps the last of two equal keys; a reviewer (or jq --stream, or another reader) may see the first."""
    base = _write(tmp_path / "base.json", BASELINE)
    text = base.read_text().replace('"value": 0.8', '"value": 0.1, "value": 0.8', 1)
    (tmp_path / "dup.json").write_text(text)
    code, out = _check(capsys, tmp_path / "dup.json", base)
    assert code == 2 and "the key 'value' appears twice in one object" in out and "dup.json" in out, out


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"rows": [], "meta": ' + "[" * 100_000 + "]" * 100_000 + "}", "nested too deeply"),
        (None, "int too large to convert to float"),
    ],
    ids=["deeply-nested", "huge-integer"],
)
def test_g9_2_deeply_nested_json_or_a_huge_number_is_a_usage_error_not_a_traceback(tmp_path, capsys, text, expected):
    base = _write(tmp_path / "base.json", BASELINE)
    if text is None:
        document = json.loads(base.read_text())
        document["rows"][0]["value"] = 10**400
        text = json.dumps(document)
    (tmp_path / "bad.json").write_text(text)
    code, out = _check(capsys, tmp_path / "bad.json", base)
    assert code == 2 and expected in out and "Traceback" not in out, out


def test_g9_2b_an_oversized_scorecard_is_refused_before_it_is_parsed(tmp_path, capsys, monkeypatch):
    base = _write(tmp_path / "base.json", BASELINE)
    monkeypatch.setattr(tables, "MAX_SCORECARD_BYTES", 100)
    code, out = _check(capsys, base, _write(tmp_path / "other.json", BASELINE))
    assert code == 2 and "more than the 100 a scorecard may have" in out, out


def test_g9_3_a_real_baseline_and_an_unverified_run_are_another_setup(tmp_path, capsys):
    rows = [ScoreRow("A", "dgvm", "rh_global", "global", "Pg C yr-1", 60.0)]
    for name, label in (("base", "REAL"), ("cur", "UNVERIFIED")):
        write_scorecard(Results(rows=rows), tmp_path / name, synthetic=False, meta={"data": {"data_label": label}})
    code, out = _check(capsys, tmp_path / "cur", tmp_path / "base")
    assert code == 2 and "data_label: baseline 'REAL', current 'UNVERIFIED'" in out, out
    code, out = _check(capsys, tmp_path / "cur", tmp_path / "base", "--allow-setup-change")
    assert code == 0 and "WARNING: the runs' settings differ" in out, out


def test_g9_4_an_ok_row_without_a_value_in_both_scorecards_fails(tmp_path, capsys):
    """A row claiming ok with a null (JSON) or nan (CSV) value in both was "unavailable" and passed."""
    rows = _replace(BASELINE, "A", "rh_taylor_score", None)
    document = json.loads(_write(tmp_path / "x.json", rows).read_text())
    next(r for r in document["rows"] if r["metric"] == "rh_taylor_score" and r["source"] == "A")["status"] = "ok"
    for name in ("cur.json", "base.json"):
        (tmp_path / name).write_text(json.dumps(document))
    code, out = _check(capsys, tmp_path / "cur.json", tmp_path / "base.json")
    assert code == 1 and "status ok without a value in the baseline and current scorecard" in out, out
    frame = read_scorecard(tmp_path / "cur.json")
    frame.to_csv(tmp_path / "cur.csv", index=False, na_rep="nan")
    shutil.copyfile(tmp_path / "cur.csv", tmp_path / "base.csv")
    code, out = _check(capsys, tmp_path / "cur.csv", tmp_path / "base.csv")
    assert code == 1 and "REGRESSED" in out, out


@pytest.mark.parametrize("value", [7.0, -0.5, 1.01])
def test_g9_5_a_score_outside_0_to_1_is_refused(tmp_path, capsys, value):
    """A current rh_taylor_score of 7.0 passed as "improved" (a single-model run had no ensemble row to trip)."""
    base = _write(tmp_path / "base.json", BASELINE)
    current = _write(tmp_path / "cur.json", _replace(BASELINE, "A", "rh_taylor_score", value))
    code, out = _check(capsys, current, base)
    assert code == 2 and "a score outside 0..1" in out and "rh_taylor_score" in out, out


def test_g9_6_a_score_tolerance_above_1_is_refused_on_the_command_line(tmp_path, capsys):
    base = _write(tmp_path / "base.json", BASELINE)
    with pytest.raises(SystemExit) as exc:
        main(["check", str(base), "--baseline", str(_write(tmp_path / "b2.json", BASELINE)), "--tolerance", "5"])
    assert exc.value.code == 2
    assert "a tolerance of '5' lets every score drop" in capsys.readouterr().err


@pytest.mark.parametrize(
    "options",
    [
        {"tolerance": float("nan")},
        {"tolerance": -1.0},
        {"fail_under": float("nan")},
        {"metrics": {"rh_global": Tolerance(relative=float("nan"))}},
        {"metrics": {"rh_global": Tolerance(absolute=float("inf"))}},
    ],
    ids=["nan-tolerance", "negative-tolerance", "nan-floor", "nan-relative", "inf-absolute"],
)
def test_g9_6b_tolerances_that_cannot_gate_are_refused_by_the_api(tmp_path, options):
    """compare_scorecards(tolerance=nan) passed a score that fell by 0.5 (every comparison with NaN is false)."""
    base = read_scorecard(_write(tmp_path / "base.json", BASELINE))
    current = read_scorecard(_write(tmp_path / "cur.json", _replace(BASELINE, "A", "rh_taylor_score", 0.3)))
    with pytest.raises(ConfigError, match="must be"):
        compare_scorecards(current, base, **options)


@pytest.mark.parametrize("how", ["same-path", "its-folder", "hard-link", "symbolic-link"])
def test_g9_7_the_scorecard_as_its_own_baseline_is_refused(tmp_path, capsys, how):
    current = _run_folder(tmp_path / "out")
    baseline = {"same-path": current, "its-folder": current.parent}.get(how, tmp_path / "baseline.json")
    if how == "hard-link":
        os.link(current, baseline)
    elif how == "symbolic-link":
        baseline.symlink_to(current)
    code, out = _check(capsys, current, baseline)
    assert code == 2 and "the baseline is the scorecard being checked" in out, out


def test_g9_8_every_model_renamed_with_allow_missing_compares_nothing_and_fails(tmp_path, capsys):
    base = _write(tmp_path / "base.json", BASELINE)
    current = _write(tmp_path / "cur.json", [(s + "-v2", m, v, st) for s, m, v, st in BASELINE])
    code, out = _check(capsys, current, base, "--allow-missing")
    assert code == 1 and "no gated row has a value in both scorecards: nothing was compared" in out, out
    assert "a renamed model?" in out


def test_g9_8b_a_baseline_whose_rows_all_failed_passes_nothing(tmp_path, capsys):
    """Every row "fixed": nothing compared, yet the gate passed whatever the numbers."""
    base = _write(tmp_path / "base.json", [(s, m, None, "failed") for s, m, _, _ in BASELINE])
    current = _write(tmp_path / "cur.json", _replace(BASELINE, "A", "rh_global", 1e6))
    code, out = _check(capsys, current, base)
    assert code == 1 and "nothing was compared" in out, out


def test_g9_9_a_model_renamed_among_others_is_named_as_a_possible_rename(tmp_path, capsys):
    base = _write(tmp_path / "base.json", BASELINE)
    renamed = [("C-v2" if s == "C" else s, m, v, st) for s, m, v, st in BASELINE]
    code, out = _check(capsys, _write(tmp_path / "cur.json", renamed), base, "--allow-missing")
    assert code == 0, out  # --allow-missing accepts an absent source, as documented
    assert "WARNING: sources absent now (C) and new sources (C-v2): a renamed model?" in out


def test_g9_10_a_partly_copied_run_folder_fails(tmp_path, capsys):
    """Outputs copied between CI jobs without manifest.json (or a half-copied folder) passed."""
    base = _write(tmp_path / "base.json", BASELINE)
    current = _run_folder(tmp_path / "out")
    for name in (manifest.RESULTS_NC, "manifest.json"):
        (current.parent / name).unlink()
    code, out = _check(capsys, current, base)
    assert code == 1 and "run folder lacks its manifest.json" in out and str(current.parent) in out, out


def test_g9_11_a_gated_output_replaced_by_a_link_fails_naming_it(tmp_path, capsys):
    base = _write(tmp_path / "base.json", BASELINE)
    current = _run_folder(tmp_path / "out")
    outside = tmp_path / "elsewhere.csv"
    shutil.copyfile(current.parent / "scores.csv", outside)  # same bytes: only the link gives it away
    (current.parent / "scores.csv").unlink()
    (current.parent / "scores.csv").symlink_to(outside)
    code, out = _check(capsys, current, base)
    assert code == 1 and f"scores.csv is a symbolic link (to {outside})" in out, out


def test_g9_12_rows_removed_from_scores_csv_but_kept_in_scorecard_json_fail(tmp_path, capsys):
    base = _write(tmp_path / "base.json", BASELINE)
    current = _run_folder(tmp_path / "out")
    csv = current.parent / "scores.csv"
    csv.write_text("".join(line for line in csv.read_text().splitlines(True) if not line.startswith("B,")))
    code, out = _check(capsys, current, base)
    assert code == 1 and "scores.csv is not the file the run wrote" in out, out


def test_g9_17_a_manifest_naming_files_outside_the_gated_outputs_is_refused_unread(tmp_path, capsys):
    """A manifest entry "../../etc/passwd" made the gate hash a file outside the folder and print its size."""
    base = _write(tmp_path / "base.json", BASELINE)
    current = _run_folder(tmp_path / "out")
    secret = tmp_path / "secret.txt"
    secret.write_text("x" * 12345)
    entry = json.loads((current.parent / "manifest.json").read_text())
    entry["files"]["../secret.txt"] = {"bytes": 1, "sha256": "0" * 64}
    (current.parent / "manifest.json").write_text(json.dumps(entry))
    code, out = _check(capsys, current, base)
    assert code == 1 and "lists files that are not gated outputs (../secret.txt)" in out, out
    assert "12345" not in out


def test_g9_18_control_characters_from_a_scorecard_cannot_forge_the_log_or_break_junit(tmp_path, capsys):
    """A reason with an ANSI escape, a carriage return or a line break rewrote the CI log (a fake
    "rhbench check PASSED" line) and made the JUnit XML unreadable (its failures shown nowhere)."""
    import xml.etree.ElementTree as ET

    forged = "load error\x1b[2K\r\nrhbench check PASSED\x00\u202e"
    base = _write(tmp_path / "base.json", BASELINE)
    document = json.loads(
        _write(tmp_path / "cur.json", _replace(BASELINE, "A", "rh_global", None, "failed")).read_text()
    )
    next(r for r in document["rows"] if r["metric"] == "rh_global")["reason"] = forged
    (tmp_path / "cur.json").write_text(json.dumps(document))
    reports = ["--junit", str(tmp_path / "gate.xml"), "--markdown", str(tmp_path / "gate.md")]
    code, out = _check(capsys, tmp_path / "cur.json", base, *reports)
    assert code == 1
    assert not any(line.startswith("rhbench check PASSED") for line in out.splitlines()), out
    assert "\x1b" not in out and "\r" not in out and "\\x1b[2K\\r\\nrhbench check PASSED\\x00\\u202e" in out
    failures = ET.parse(tmp_path / "gate.xml").getroot().iter("failure")  # well-formed XML
    assert any("rhbench check PASSED" in f.get("message") for f in failures)
    markdown = (tmp_path / "gate.md").read_text()
    assert "\x1b" not in markdown and not any(line.startswith("rhbench check PASSED") for line in markdown.splitlines())


def test_g9_19_allow_edited_does_not_waive_a_broken_signature(tmp_path, capsys, monkeypatch):
    base = _write(tmp_path / "base.json", BASELINE)
    key = "s" * 32
    current = _run_folder(tmp_path / "out")
    manifest.write_manifest(current.parent, key.encode())
    document = json.loads(current.read_text())
    document["rows"][0]["value"] = 0.81  # edited, digest left stale
    current.write_text(json.dumps(document))
    monkeypatch.setenv(manifest.KEY_ENV, key)
    code, out = _check(capsys, current, base, "--allow-edited")
    assert code == 1 and "scorecard.json was changed after the run signed it" in out, out
    assert "accepted: --allow-edited" in out


def test_g9_20_signed_outputs_of_an_earlier_run_replayed_fail_with_a_run_context(tmp_path, capsys, monkeypatch):
    """Every file of an earlier green run, signed with the same key, copied over this run's outputs passed."""
    base = _write(tmp_path / "base.json", BASELINE)
    key = "r" * 32
    monkeypatch.setenv(manifest.KEY_ENV, key)
    earlier = _run_folder(tmp_path / "earlier")
    manifest.write_manifest(earlier.parent, key.encode(), "run-41")
    shutil.copytree(earlier.parent, tmp_path / "out")  # the replay: this run's folder replaced whole
    monkeypatch.setenv(manifest.CONTEXT_ENV, "run-42")
    code, out = _check(capsys, tmp_path / "out" / "scorecard.json", base)
    assert code == 1 and "written by another run (RHBENCH_GATE_CONTEXT 'run-41' in manifest.json, 'run-42' here)" in out
    entry = json.loads((tmp_path / "out" / "manifest.json").read_text())
    entry["context"] = "run-42"  # the forger relabels the manifest: the signed index no longer matches
    (tmp_path / "out" / "manifest.json").write_text(json.dumps(entry))
    code, out = _check(capsys, tmp_path / "out" / "scorecard.json", base)
    assert code == 1 and "file list or run context was edited after signing" in out, out
    manifest.write_manifest(tmp_path / "out", key.encode(), "run-42")  # what `rhbench run` in run-42 writes
    # the hand-made baseline has no sha256 and no manifest: with a key, accepted only when said (A10-2)
    code, out = _check(capsys, tmp_path / "out" / "scorecard.json", base, "--allow-unverified-baseline")
    assert code == 0 and "; signed" in out, out


@pytest.mark.parametrize("value", ["", " ", "x" * 201, "run\x1b[2K"])
def test_g9_20b_an_unusable_run_context_is_a_usage_error(tmp_path, capsys, monkeypatch, value):
    base = _write(tmp_path / "base.json", BASELINE)
    monkeypatch.setenv(manifest.CONTEXT_ENV, value)
    code, out = _check(capsys, base, _write(tmp_path / "cur.json", BASELINE))
    assert code == 2 and "RHBENCH_GATE_CONTEXT must name the CI run" in out, out


def test_g9_21_html_in_a_reason_cannot_hide_the_failing_rows_of_the_markdown_summary(tmp_path, capsys):
    """A reason "<!--" opened an HTML comment in the merge-request comment: every row after it was hidden."""
    base = _write(tmp_path / "base.json", BASELINE)
    document = json.loads(
        _write(tmp_path / "cur.json", _replace(BASELINE, "A", "rh_global", None, "failed")).read_text()
    )
    next(r for r in document["rows"] if r["metric"] == "rh_global")["reason"] = "<!-- <b>ok</b>"
    (tmp_path / "cur.json").write_text(json.dumps(document))
    code, _ = _check(capsys, tmp_path / "cur.json", base, "--markdown", str(tmp_path / "gate.md"))
    markdown = (tmp_path / "gate.md").read_text()
    assert code == 1 and "<!--" not in markdown and "<b>" not in markdown
    assert "&lt;!-- &lt;b&gt;ok&lt;/b&gt;" in markdown
