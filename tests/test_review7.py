"""Review 7 (session 8): an adversarial read of the change since be415ad (docs/trust-cases.md,
"Review 7 (session 8)"). Each test fails on the code before its fix unless it says "pins"."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rhbench.report import manifest

KEY = b"0123456789abcdef0123456789abcdef"


# --- R7-1: a run folder of an rhbench before index.html was a gated output ---------------


def _older_run_folder(folder: Path, monkeypatch, key: bytes | None) -> Path:
    """A run folder whose manifest.json an rhbench before a7048c6 wrote: every gated output but the
    page listed (and signed with ``key``), the page beside them."""
    folder.mkdir()
    for name in manifest.GATED_OUTPUTS:
        (folder / name).write_text(f"{name} of an older run\n", encoding="utf-8")
    older = tuple(n for n in manifest.GATED_OUTPUTS if n != manifest.INDEX_HTML)
    with monkeypatch.context() as patched:
        patched.setattr(manifest, "GATED_OUTPUTS", older)
        written = manifest.write_manifest(folder, key)
    assert manifest.INDEX_HTML not in written["files"]
    return folder / "scorecard.json"


@pytest.mark.parametrize("key", [None, KEY], ids=["digest", "signed"])
def test_an_older_run_folder_as_baseline_is_not_failed_for_its_unlisted_page(tmp_path, monkeypatch, key):
    """A baseline is read for its scorecard only: its page, which the older rhbench did not list, is
    said and not compared (was: 'holds index.html, which its manifest.json does not list (added after
    the run?)', a failure of every check against a baseline run folder of before this session)."""
    baseline = _older_run_folder(tmp_path / "older", monkeypatch, key)
    verdict = manifest.verify(baseline, key, role="baseline")
    assert verdict.problems == []
    assert "index.html not listed in its manifest.json" in verdict.note and "not compared" in verdict.note
    if key is not None:
        assert verdict.signed and verdict.note.startswith("signed: HMAC-SHA256 of 5 files verified")


@pytest.mark.parametrize("key", [None, KEY], ids=["digest", "signed"])
def test_an_older_run_folder_as_the_current_scorecard_still_fails_saying_why(tmp_path, monkeypatch, key):
    """The current run's page must be verified ('signed' only when every gated output was): still a
    problem, now naming the likely cause and the fix."""
    current = _older_run_folder(tmp_path / "older", monkeypatch, key)
    verdict = manifest.verify(current, key, role="current scorecard")
    assert len(verdict.problems) == 1 and not verdict.signed
    problem = verdict.problems[0]
    assert "holds index.html, which its manifest.json does not list" in problem
    assert "an rhbench before the page was a gated output" in problem and "run it again" in problem


def test_a_page_dropped_from_a_signed_manifest_still_fails(tmp_path, monkeypatch):
    """Pins: the leniency above cannot be used to slip an edited page past a signed current-rhbench
    baseline: its manifest lists the page, and dropping the entry breaks the signed file list."""
    folder = tmp_path / "run"
    folder.mkdir()
    for name in manifest.GATED_OUTPUTS:
        (folder / name).write_text(f"{name}\n", encoding="utf-8")
    manifest.write_manifest(folder, KEY)
    entry = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    del entry["files"]["index.html"], entry["signature"]["files"]["index.html"]
    (folder / "manifest.json").write_text(json.dumps(entry), encoding="utf-8")
    (folder / "index.html").write_text("edited\n", encoding="utf-8")
    verdict = manifest.verify(folder / "scorecard.json", KEY, role="baseline")
    assert any("file list or run context was edited after signing" in p for p in verdict.problems)
