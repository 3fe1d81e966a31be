"""``python -m benchmarks.alternate``: old against new code, alternated (issue 18's measurement honesty)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from benchmarks import alternate, ilamb3_bench
from benchmarks.ilamb3_data import write_files

REPO = Path(__file__).resolve().parent.parent


def _git_checkout() -> bool:
    if shutil.which("git") is None:
        return False
    done = subprocess.run(["git", "-C", str(REPO), "rev-parse", "HEAD"], capture_output=True, check=False)
    return done.returncode == 0


def test_summary_lines_give_medians_and_ranges():
    samples = {"run": {"old": [{"wall": 2.0, "cpu": 1.5}, {"wall": 4.0, "cpu": 1.7}, {"wall": 3.0, "cpu": 1.6}]}}
    (line,) = alternate.summary(samples, "/x/annual-1.toml")
    assert line.startswith("annual-1 run      old: wall median 3.000 s (2.000-4.000), CPU median 1.600 s")
    assert line.endswith("n=3")


@pytest.mark.skipif(not _git_checkout(), reason="exporting the old code needs a git checkout of rhbench")
def test_an_exported_revision_is_importable_as_rhbench(tmp_path):
    path = alternate.export_tree("HEAD", tmp_path)
    for module in ("rhbench/__init__.py", "rhbench/plugins/__init__.py", "rhbench/catalogs/obs_datasets.yaml"):
        assert (path / module).is_file(), module
    assert list((path / "rhbench").glob("__pycache__/*.pyc"))  # byte-compiled, as the installed side


@pytest.mark.slow
def test_one_round_measures_both_sides_in_fresh_processes(tmp_path):
    files = write_files(tmp_path / "data", 1, monthly=False, resolution=6.0)
    config = ilamb3_bench.write_config(tmp_path / "annual-1.toml", tmp_path / "data", list(files["models"]))
    samples = alternate.alternate(str(config), 1, ["confront", "run"], tmp_path / "out", None)
    for name in ("confront", "run"):
        for side in ("old", "new"):
            (run,) = samples[name][side]
            assert run["wall"] > 0 and run["cpu"] > 0, (name, side, run)
    assert (tmp_path / "out" / "run-new" / "scorecard.json").is_file()
