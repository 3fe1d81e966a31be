"""Thirteenth audit (session 11), part B: run settings (docs/trust-cases.md, "Thirteenth audit (session 11)")."""

from __future__ import annotations

import pytest

from rhbench.cli import main


@pytest.mark.parametrize("kind", ["a file", "no such folder"])
def test_a_data_root_that_is_a_file_or_missing_is_said_to_be_so(tmp_path, capsys, kind):
    """Before: exit 2 "no reference Rh in the data root; file: ROOT/srdb/srdb-data.csv; found: no such
    file", which sent the user looking for the SRDB table. Now the data root itself is named (exit 2)."""
    root = tmp_path / "root"
    if kind == "a file":
        root.write_text("not a folder")
    code = main(["-q", "run", "--data-root", str(root), "--out", str(tmp_path / "out"), "--models", "CLM5.0"])
    err = "".join(capsys.readouterr().err.split())  # rich wraps lines (and paths)
    assert code == 2
    assert "thedatarootisnotafolder" in err and f"found:{kind.replace(' ', '')}" in err
    assert str(root) in err and "srdb-data.csv" not in err
    assert not (tmp_path / "out").exists()
