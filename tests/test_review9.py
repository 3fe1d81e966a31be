"""Review 9 (session 10): adversarial review of the session's changes (docs/trust-cases.md, "Review 9
(session 10)"). Each test failed before its fix (or pins a behaviour the review checked)."""

from __future__ import annotations

import numpy as np
import pytest

from rhbench.errors import TimeAxisError
from tests.test_audit11_trendy import _hand, _rates, _time_axis, _yearly_means
from tests.test_audit12_models import _rh_part, _rh_total

# --- R9-1: a series of one-step files with a uniform gap --------------------------------------------


def test_yearly_files_of_every_other_year_are_refused_as_a_gap(tmp_path):
    """Before: files of 2000 and 2002 (one yearly step each) were read as a series of 2-year steps: the
    gap unseen, 212.31 Pg C yr-1 from half the years of 2000-2003 (the old loader refused it as a gap)."""
    yearly = _yearly_means(_rates())
    stamps = np.arange(4) * 365.0 + 182.5
    files = [_rh_part(tmp_path / f"rh_{2000 + i}.nc", yearly[i : i + 1], stamps[i : i + 1]) for i in (0, 2)]
    with pytest.raises(TimeAxisError, match="gap between consecutive files") as info:
        _rh_total(files)
    assert "rh_2000.nc" in str(info.value) and "rh_2002.nc" in str(info.value)


def test_monthly_files_of_every_other_month_are_refused_as_a_gap(tmp_path):
    rates = _rates()
    stamps, bounds = _time_axis("noleap")
    files = [
        _rh_part(tmp_path / f"rh_{i:02d}.nc", rates[i : i + 1], stamps[i : i + 1], bounds[i : i + 1])
        for i in range(0, 48, 2)
    ]
    with pytest.raises(TimeAxisError, match="gap between consecutive files"):
        _rh_total(files)


def test_one_file_per_year_with_none_missing_still_gives_the_hand_total(tmp_path):
    rates = _rates()
    yearly = _yearly_means(rates)
    stamps = np.arange(4) * 365.0 + 182.5
    files = [_rh_part(tmp_path / f"rh_{2000 + i}.nc", yearly[i : i + 1], stamps[i : i + 1]) for i in range(4)]
    assert _rh_total(files[::-1]) == pytest.approx(_hand(rates, "noleap"), rel=1e-6)
