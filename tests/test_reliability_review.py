"""Review of the third-audit trust changes: each test failed before its fix (see docs/trust-cases.md)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from rhbench import cmip6, harmonize, pipeline
from rhbench.errors import DataError
from rhbench.results import Failures
from rhbench.sources import Source, Var


def _source(name: str = "BROKEN", **extra) -> Source:
    return Source(
        name=name, kind="dgvm", catalog_entry="x.y", variables={"rh": Var("rh", "kg m-2 s-1")}, citation="-", **extra
    )


def test_a_source_whose_files_cannot_be_listed_while_failing_is_recorded_not_fatal(monkeypatch):
    """Review item 11: naming the files of a failed source raised a non-rhbench error (here a
    KeyError from a broken entry) inside the except block and aborted the whole run."""

    def fail_load(*args, **kwargs):
        raise DataError("unreadable", variable="rh")

    def fail_listing(*args, **kwargs):
        raise KeyError("files")

    monkeypatch.setattr(harmonize, "load_native", fail_load)
    monkeypatch.setattr(harmonize, "source_files", fail_listing)
    failures = Failures()
    native = SimpleNamespace(land_mask=None, vegclass=None, domain=None)
    assert pipeline._reduced(_source(), Path("."), None, native, None, (2000, 2014), failures) is None
    assert "BROKEN" in failures and "unreadable" in failures.get("BROKEN")


def test_force_protects_the_folder_a_linked_cmip6_file_points_into(tmp_path):
    """Review item 11: a model file given as a symbolic link protected only the link's folder,
    so ``--out`` on the folder of its target passed ``--force``."""
    store = tmp_path / "store"
    store.mkdir()
    (store / "rh.nc").write_bytes(b"")
    links = tmp_path / "links"
    links.mkdir()
    (links / "rh.nc").symlink_to(store / "rh.nc")
    found = [_source("M", files={"rh": [links / "rh.nc"]})]
    protected = set(cmip6.protected_inputs([links], found).values())
    assert links in protected and store.resolve() in protected
