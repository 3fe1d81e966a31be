"""``rhbench check --junit/--markdown`` never overwrite a user's file or the gate's own inputs."""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET

import pytest

from tests.test_report_check import CURRENT, _run, _write


@pytest.mark.parametrize("option", ["--junit", "--markdown"])
def test_a_report_over_the_scorecard_or_baseline_is_refused_and_both_stay_intact(tmp_path, capsys, option):
    scorecard = _write(tmp_path / "cur.json", CURRENT)
    before = scorecard.read_bytes()
    assert _run(tmp_path, scorecard, "--allow-missing", option, str(scorecard)) == 2
    assert scorecard.read_bytes() == before
    assert "names the scorecard the gate reads" in capsys.readouterr().err
    baseline = tmp_path / "base.json"
    assert _run(tmp_path, CURRENT, "--allow-missing", option, str(baseline)) == 2
    assert "names the baseline the gate reads" in capsys.readouterr().err


@pytest.mark.parametrize("option", ["--junit", "--markdown"])
def test_a_users_existing_file_is_refused_and_kept(tmp_path, capsys, option):
    mine = tmp_path / "notes.txt"
    mine.write_text("my notes\n")
    assert _run(tmp_path, CURRENT, "--allow-missing", option, str(mine)) == 2
    assert mine.read_text() == "my notes\n"
    err = capsys.readouterr().err
    assert "did not write" in err and str(mine) in err


def test_a_users_file_behind_a_link_is_refused_and_a_dangling_link_too(tmp_path, capsys):
    mine = tmp_path / "mine.xml"
    mine.write_text("<mine/>\n")
    link = tmp_path / "report.xml"
    os.symlink(mine, link)
    assert _run(tmp_path, CURRENT, "--allow-missing", "--junit", str(link)) == 2
    assert mine.read_text() == "<mine/>\n"
    dangling = tmp_path / "gone.xml"
    os.symlink(tmp_path / "missing" / "x.xml", dangling)
    assert _run(tmp_path, CURRENT, "--allow-missing", "--junit", str(dangling)) == 2
    assert dangling.is_symlink() and "broken symbolic link" in capsys.readouterr().err


def test_the_same_path_for_both_reports_and_a_folder_are_refused(tmp_path, capsys):
    same = tmp_path / "report"
    assert _run(tmp_path, CURRENT, "--allow-missing", "--junit", str(same), "--markdown", str(same)) == 2
    assert not same.exists()
    assert "name the same file" in capsys.readouterr().err
    assert _run(tmp_path, CURRENT, "--allow-missing", "--junit", str(tmp_path)) == 2
    assert "names a folder" in capsys.readouterr().err


def test_a_rerun_replaces_the_reports_an_earlier_check_wrote(tmp_path):
    junit, markdown = tmp_path / "ci" / "rhbench.xml", tmp_path / "rhbench.md"
    options = ("--allow-missing", "--junit", str(junit), "--markdown", str(markdown))
    assert _run(tmp_path, CURRENT, *options) == 0
    first = markdown.read_text()
    assert _run(tmp_path, [CURRENT[0], ("B", "rh_taylor_score", 0.72, "ok"), *CURRENT[2:]], *options) == 0
    assert ET.parse(junit).getroot().find("testsuite").get("name") == "rhbench check"
    assert markdown.read_text() != first  # replaced: the second run has other rows
    linked = tmp_path / "latest.md"
    os.symlink(markdown, linked)
    assert _run(tmp_path, CURRENT, "--allow-missing", "--markdown", str(linked)) == 0
    assert linked.is_symlink() and markdown.read_text().startswith("### ")
