"""The one "written by rhbench" rule (rhbench.ownership), session 7 item 6.

Each writer (a run's output folder, ``rhbench upscale``, ``rhbench demo --force``, the cache's
demo pruning, the dev benchmarks' work folder) checks its marker through these functions; their
own tests (test_reliability_outdir, test_reliability_outputs, test_upscaling_reproducible,
test_democache, test_writer_guards) pin each caller's behaviour.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from rhbench.ownership import foreign_folder, holds_marker, write_marker

MARKER = ".rhbench-output"


def test_a_marker_is_a_regular_file_and_a_link_to_one_counts_only_when_allowed(tmp_path: Path) -> None:
    folder = tmp_path / "run"
    folder.mkdir()
    assert not holds_marker(folder, MARKER)
    (folder / MARKER).mkdir()  # a folder of the marker's name is not a marker
    assert not holds_marker(folder, MARKER)
    (folder / MARKER).rmdir()
    (folder / MARKER).write_text("{}")
    assert holds_marker(folder, MARKER) and holds_marker(folder, MARKER, links=False)
    other = tmp_path / "elsewhere"
    other.write_text("{}")
    (folder / MARKER).unlink()
    (folder / MARKER).symlink_to(other)
    assert holds_marker(folder, MARKER) and not holds_marker(folder, MARKER, links=False)
    assert not holds_marker(tmp_path / "absent", MARKER)


def test_a_foreign_folder_is_a_non_empty_one_without_the_marker(tmp_path: Path) -> None:
    folder = tmp_path / "out"
    assert not foreign_folder(folder, MARKER)  # absent
    folder.mkdir()
    assert not foreign_folder(folder, MARKER)  # empty
    (folder / "thesis.tex").write_text("mine")
    assert foreign_folder(folder, MARKER)
    (folder / MARKER).write_text("{}")
    assert not foreign_folder(folder, MARKER)
    (tmp_path / "file").write_text("x")
    assert not foreign_folder(tmp_path / "file", MARKER)  # not a folder: its callers refuse it themselves


@pytest.mark.parametrize("umask", [0o022, 0o077])
def test_a_marker_is_written_with_the_mode_the_umask_gives(tmp_path: Path, umask: int) -> None:
    previous = os.umask(umask)
    try:
        path = write_marker(tmp_path, MARKER, "written by rhbench\n")
    finally:
        os.umask(previous)
    assert path == tmp_path / MARKER and path.read_text() == "written by rhbench\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask
