"""``rhbench check`` collapses unavailable rows sharing a note into one line (Review 6 follow-up):
two identical demo runs printed 59 rows of one 200-character note, burying the verdict. Every row
stays in the JUnit report; what passes or fails is unchanged."""

from __future__ import annotations

import argparse
import json
import xml.etree.ElementTree as ET

import pytest
from test_report_check import _write

from rhbench.commands import check as command

NOTE = "ilamb3's RMSE score needs time series of at least 24 steps; rhbench scores period-mean maps"
ROWS = [
    ("A", "rh_taylor_score", 0.80, "ok"),
    ("A", "rh_rmse_score", None, "skipped"),
    ("B", "rh_rmse_score", None, "skipped"),
    ("C", "rh_rmse_score", None, "skipped"),
    ("D", "rh_rmse_score", None, "skipped"),
]


def _noted(path):
    """The scorecard at ``path`` with every skipped row giving NOTE, but D's its own note."""
    document = json.loads(path.read_text())
    for row in document["rows"]:
        if row["status"] == "skipped":
            row["reason"] = "no cSoil product" if row["source"] == "D" else NOTE
    path.write_text(json.dumps(document))
    return path


def _check(tmp_path, current, *options) -> int:
    parser = argparse.ArgumentParser(prog="rhbench")
    command.add_parser(parser.add_subparsers(dest="command"))
    cur = _noted(_write(tmp_path / "cur.json", current))
    base = _noted(_write(tmp_path / "base.json", ROWS))
    args = parser.parse_args(["check", str(cur), "--baseline", str(base), *options])
    return args.func(args)


@pytest.mark.parametrize("drop", [False, True])
def test_unavailable_rows_sharing_a_note_are_one_line_and_every_row_stays_in_junit(tmp_path, capsys, drop):
    current = [("A", "rh_taylor_score", 0.70 if drop else 0.80, "ok"), *ROWS[1:]]
    junit, markdown = tmp_path / "out" / "junit.xml", tmp_path / "out" / "mr.md"
    code = _check(tmp_path, current, "--junit", str(junit), "--markdown", str(markdown))
    assert code == (1 if drop else 0)  # the verdict is the collapsing's neither way
    text = capsys.readouterr().out
    verdict = "FAILED" if drop else "PASSED"
    assert text.splitlines()[0].startswith(f"rhbench check {verdict}") and "4 unavailable" in text
    assert text.count(NOTE) == 1
    assert f"3 rows unavailable, each: skipped in both: {NOTE} (every row: the JUnit report" in text
    assert "skipped in both: no cSoil product" in text  # a note of one row alone stays that row's
    assert ("REGRESSED" in text) == drop
    md = markdown.read_text()
    assert md.startswith(f"### {'❌' if drop else '✅'} rhbench check {verdict}") and md.count(NOTE) == 1
    assert f"- 3 rows unavailable, each: skipped in both: {NOTE}" in md and "| D | rh_rmse_score |" in md
    assert ("| A | rh_taylor_score |" in md) == drop
    suite = ET.parse(junit).getroot().find("testsuite")
    skipped = {c.get("classname"): c.find("skipped").get("message") for c in suite if c.find("skipped") is not None}
    assert skipped == {
        "A": f"skipped in both: {NOTE}",
        "B": f"skipped in both: {NOTE}",
        "C": f"skipped in both: {NOTE}",
        "D": "skipped in both: no cSoil product",
    }
    assert suite.get("skipped") == "4" and suite.get("failures") == ("1" if drop else "0")
