"""Review of the third-audit trust changes: each test failed before its fix (see docs/trust-cases.md)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from rhbench import cmip6, harmonize, pipeline, valuecheck
from rhbench.errors import DataError, ValueRangeError
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


def test_a_land_only_grid_whose_ocean_fraction_is_zero_everywhere_is_accepted():
    """Review item 5: an all-zero ``oceanCoverFrac`` (a land-only grid) was refused as 'never above 1 %'."""
    valuecheck.check_values(np.zeros(50), "oceanCoverFrac", source="M", file="ocean.nc")


def test_a_land_fraction_overshooting_1_by_regridding_is_warned_about_and_accepted(caplog):
    """Review item 5: max 1.01 (a regridded fraction; the cell measures clip it) was refused."""
    with caplog.at_level("WARNING", logger="rhbench.valuecheck"):
        valuecheck.check_values(np.linspace(0.0, 1.01, 50), "sftlf", source="M", file="sftlf.nc")
    (message,) = [r.getMessage() for r in caplog.records]
    assert "sftlf.nc" in message and "clipped to 1" in message and "1.01" in message


@pytest.mark.parametrize(("top", "why"), [(100.0, "far above 1"), (0.01, "never above 1 %")])
def test_a_land_fraction_off_by_100_either_way_is_refused(top, why):
    """Review item 5: a % field labelled '1' (max 100) and a 0-1 field labelled '%' (max 0.01 after
    conversion) stay refused, naming the file and the maximum found."""
    with pytest.raises(ValueRangeError) as info:
        valuecheck.check_values(np.linspace(0.0, top, 50), "sftlf", source="M", file="sftlf.nc")
    assert why in str(info.value) and "sftlf.nc" in str(info.value) and f"max {top:.4g}" in str(info.value)
