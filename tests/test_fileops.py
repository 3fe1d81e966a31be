"""Shared file operations: atomic writes leave no partial files; existing outputs are protected."""

from __future__ import annotations

import hashlib

import pytest

from rhbench.errors import OutputExistsError
from rhbench.fileops import refuse_to_overwrite, sha256_of, write_atomic, write_text_atomic


def test_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "scorecard.json"
    write_text_atomic(target, "old")

    def broken(temp):
        temp.write_text("half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        write_atomic(target, broken)
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["scorecard.json"]


def test_sha256_of_matches_hashlib(tmp_path):
    path = tmp_path / "data.bin"
    path.write_bytes(b"x" * 3_000_000)
    assert sha256_of(path) == hashlib.sha256(b"x" * 3_000_000).hexdigest()


def test_refuse_to_overwrite_non_empty_folder_unless_forced_and_never_a_file(tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "mine.txt").write_text("keep")
    with pytest.raises(OutputExistsError, match="pass --force"):
        refuse_to_overwrite(tmp_path / "out", force=False)
    refuse_to_overwrite(tmp_path / "out", force=True)
    refuse_to_overwrite(tmp_path / "new", force=False)
    (tmp_path / "afile").write_text("x")
    with pytest.raises(OutputExistsError, match="not a folder"):
        refuse_to_overwrite(tmp_path / "afile", force=True)
