"""The CI gate ``rhbench check``: exit codes, table, JUnit XML and Markdown."""

from __future__ import annotations

import argparse
import json
import xml.etree.ElementTree as ET

import pytest

from rhbench.commands import check as command
from rhbench.report.check import compare_scorecards
from rhbench.report.tables import read_scorecard

BASELINE = [
    ("A", "rh_taylor_score", 0.80, "ok"),
    ("B", "rh_taylor_score", 0.70, "ok"),
    ("A", "tau_soil_taylor_score", 0.50, "ok"),
    ("A", "rh_global", 60.0, "ok"),
    ("C", "rh_taylor_score", 0.90, "ok"),
]
CURRENT = [
    ("A", "rh_taylor_score", 0.79, "ok"),
    ("B", "rh_taylor_score", 0.70, "ok"),
    ("A", "tau_soil_taylor_score", 0.50, "ok"),
    ("A", "rh_global", 70.0, "ok"),
    ("D", "rh_taylor_score", 0.60, "ok"),
]


def _write(path, rows, synthetic=False):
    document = {
        "synthetic": synthetic,
        "rhbench_version": "0.1.0",
        "rows": [
            {
                "source": s,
                "kind": "dgvm",
                "metric": m,
                "region": "global",
                "units": "1" if m.endswith("_score") else "Pg C yr-1",
                "value": v if status == "ok" else None,
                "status": status,
                "reason": "" if status == "ok" else "load error",
            }
            for s, m, v, status in rows
        ],
    }
    path.write_text(json.dumps(document))
    return path


def _replace(rows, source, metric, value, status="ok"):
    return [(s, m, value, status) if (s, m) == (source, metric) else (s, m, v, st) for s, m, v, st in rows]


def _run(tmp_path, current, *options, baseline=BASELINE):
    parser = argparse.ArgumentParser(prog="rhbench")
    command.add_parser(parser.add_subparsers(dest="command"))
    cur = current if not isinstance(current, list) else _write(tmp_path / "cur.json", current)
    base = _write(tmp_path / "base.json", baseline)
    args = parser.parse_args(["check", str(cur), "--baseline", str(base), *options])
    return args.func(args)


def test_small_drop_within_tolerance_passes_and_reports_new_and_missing(tmp_path, capsys):
    assert _run(tmp_path, CURRENT) == 0
    out = capsys.readouterr().out
    assert "PASSED" in out
    assert "new sources: D" in out and "missing sources: C" in out
    assert "-0.01" in out  # A's score fell by 0.80 - 0.79, within the default 0.02


def test_drop_beyond_tolerance_fails_with_exit_1(tmp_path, capsys):
    assert _run(tmp_path, _replace(CURRENT, "B", "rh_taylor_score", 0.65)) == 1
    out = capsys.readouterr().out
    assert "FAILED" in out and "REGRESSED" in out and "fell by 0.05" in out


def test_larger_tolerance_accepts_the_same_drop(tmp_path):
    current = _replace(CURRENT, "B", "rh_taylor_score", 0.65)
    assert _run(tmp_path, current, "--tolerance", "0.06") == 0


def test_score_below_the_floor_fails(tmp_path, capsys):
    assert _run(tmp_path, CURRENT, "--fail-under", "0.55") == 1
    out = capsys.readouterr().out
    assert "0.5 is below the floor 0.55" in out  # A tau_soil score 0.50, unchanged
    assert _run(tmp_path, CURRENT, "--fail-under", "0.5") == 0  # D is 0.60, A is 0.50


def test_new_source_below_the_floor_fails(tmp_path):
    assert _run(tmp_path, CURRENT, "--fail-under", "0.65") == 1  # D = 0.60 is new


def test_listed_metric_gates_on_relative_change(tmp_path):
    # rh_global 60 -> 70 is a relative change of 1/6 = 16.7 %
    assert _run(tmp_path, CURRENT, "--metric", "rh_global") == 1
    assert _run(tmp_path, CURRENT, "--metric", "rh_global", "--metric-tolerance", "0.17") == 0


def test_row_that_was_ok_and_now_failed_is_a_regression(tmp_path, capsys):
    current = _replace(CURRENT, "A", "rh_taylor_score", None, "failed")
    assert _run(tmp_path, current) == 1
    assert "was ok, now failed: load error" in capsys.readouterr().out


@pytest.mark.parametrize("content", [None, "{broken", '{"rows": "nope"}'])
def test_missing_or_corrupt_scorecard_exits_2(tmp_path, capsys, content):
    path = tmp_path / "cur.json"
    if content is not None:
        path.write_text(content)
    assert _run(tmp_path, path) == 2
    assert str(path) in capsys.readouterr().err


def test_negative_tolerance_is_refused_by_the_parser(tmp_path):
    with pytest.raises(SystemExit) as info:
        _run(tmp_path, CURRENT, "--tolerance", "-1")
    assert info.value.code == 2


def test_junit_has_one_case_per_gated_source_metric_and_the_failures(tmp_path):
    junit = tmp_path / "reports" / "junit.xml"
    current = _replace(CURRENT, "B", "rh_taylor_score", 0.65)
    assert _run(tmp_path, current, "--junit", str(junit), "--fail-under", "0.55") == 1
    suite = ET.parse(junit).getroot().find("testsuite")
    cases = suite.findall("testcase")
    # gated keys: A rh, A tau_soil, B rh, C rh (missing), D rh (new); rh_global is not gated
    assert len(cases) == 5 and suite.get("tests") == "5"
    failed = {(c.get("classname"), c.get("name")) for c in cases if c.find("failure") is not None}
    assert failed == {("B", "rh_taylor_score"), ("A", "tau_soil_taylor_score")}
    assert suite.get("failures") == "2"
    skipped = [c.get("classname") for c in cases if c.find("skipped") is not None]
    assert skipped == ["C"]


def test_markdown_names_the_regressed_row(tmp_path):
    markdown = tmp_path / "summary.md"
    current = _replace(CURRENT, "B", "rh_taylor_score", 0.65)
    assert _run(tmp_path, current, "--markdown", str(markdown)) == 1
    text = markdown.read_text()
    assert text.startswith("### ❌ rhbench check FAILED")
    assert "| B | rh_taylor_score | global | 0.7 | 0.65 | -0.05 | **REGRESSED** |" in text
    assert "- new sources: D" in text and "- missing sources: C" in text


def test_synthetic_scorecards_are_labelled_in_the_summary(tmp_path):
    base = read_scorecard(_write(tmp_path / "b.json", BASELINE, synthetic=True))
    cur = read_scorecard(_write(tmp_path / "c.json", CURRENT))
    report = compare_scorecards(cur, base)
    assert report.synthetic and report.passed
    assert [row.outcome for row in report.rows] == [
        "unchanged",
        "unchanged",
        "unchanged",
        "missing",
        "new",
    ]
    assert abs(report.rows[0].delta - (-0.01)) < 1e-12


def test_baseline_failed_and_now_ok_is_fixed_not_a_failure(tmp_path):
    base = read_scorecard(_write(tmp_path / "b.json", _replace(BASELINE, "B", "rh_taylor_score", None, "failed")))
    cur = read_scorecard(_write(tmp_path / "c.json", CURRENT))
    report = compare_scorecards(cur, base)
    fixed = [row for row in report.rows if row.source == "B"]
    assert fixed[0].outcome == "fixed" and report.passed
