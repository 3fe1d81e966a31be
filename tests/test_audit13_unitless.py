"""Thirteenth audit (session 11), B13-24: a series whose files ALL state no units is read in the units its
plugin declares, which nothing confirms; a factor 1000 (grams written where kilograms are declared, or the
reverse) is caught by the values' magnitude alone (docs/trust-cases.md, "Thirteenth audit (session 11)")."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import xarray as xr

from rhbench import valuecheck
from rhbench.errors import ValueRangeError
from tests.test_audit11_trendy import _hand, _rates, _total
from tests.test_audit13_models import _packed_pair


def _unitless_series(folder, factor: float):
    """rh of 2000-2003 as two files without a units attribute, holding ``factor`` x the kg m-2 s-1 rates."""
    rates = _rates()
    paths = _packed_pair(folder, rates, [{"dtype": "float32", "_FillValue": 1e20}] * 2)
    for k, path in enumerate(paths):
        with xr.open_dataset(path, decode_times=False) as opened:
            ds = opened.load()
        ds["rh"].values = (rates[24 * k : 24 * k + 24] * factor).astype("float32")
        ds["rh"].attrs = {}
        plain = {name: {"_FillValue": None} for name in ("time", "lat", "lon")}
        ds.to_netcdf(path, encoding={"rh": {"_FillValue": 1e20}, **plain})
    return paths, rates


@pytest.mark.parametrize("factor", [1000.0, 0.001], ids=["g written, kg declared", "Mg written, kg declared"])
def test_a_unitless_series_a_factor_1000_off_is_refused_naming_its_files_and_the_expected_magnitude(tmp_path, factor):
    """Before: read in the declared kg m-2 s-1 with only a logged warning (the loader's sampled median);
    a run then rested on the plausibility ranges of its global rows, which a factor 1000 in npp (the
    2-box's dcTotal 160483 Pg C) or a cSoil divided by 1000 (csoil_global 108.8 Pg C with the litter,
    tau_soil 2.27 yr) passed: **exit 0, every row ok** (demo root, CLM5.0). Now a ValueRangeError naming
    the series' files, that they state no units, the median found and the median expected."""
    paths, _ = _unitless_series(tmp_path, factor)
    with pytest.raises(ValueRangeError) as info:
        _total({"rh": paths})
    error, text = info.value, str(info.value)
    assert str(paths[0]) in error.file and str(paths[-1]) in error.file and error.variable == "rh"
    assert "the files state no units" in text and "declares" in text
    low, high = valuecheck.PLAUSIBLE_MEDIAN["rh"]
    assert error.expected == f"median in {low:g}..{high:g} gC m-2 yr-1"
    median = float(error.found.split()[1])
    assert (median > high) if factor > 1 else (median < low)
    assert "ncatted -a units,rh" in text


def test_a_unitless_series_of_the_declared_magnitude_gives_the_hand_total(tmp_path):
    """Pins: files without units whose values are in the declared units: the hand total, no error."""
    paths, rates = _unitless_series(tmp_path, 1.0)
    assert _total({"rh": paths}) == pytest.approx(_hand(rates, "noleap"), rel=1e-6)


def test_a_series_stating_its_units_a_factor_1000_off_is_still_only_warned(tmp_path, caplog):
    """Pins the stated case as before: files stating the declared units with values 1000 times too large
    are warned of (the units are the file's own statement) and left to the plausibility ranges."""
    paths, rates = _unitless_series(tmp_path, 1000.0)
    for path in paths:
        with xr.open_dataset(path, decode_times=False) as opened:
            ds = opened.load()
        ds["rh"].attrs = {"units": "kg m-2 s-1"}
        ds.to_netcdf(path, encoding={"rh": {"_FillValue": 1e20}, **{n: {"_FillValue": None} for n in ds.coords}})
    with caplog.at_level(logging.WARNING, logger="rhbench"):
        total = _total({"rh": paths})
    assert total == pytest.approx(1000.0 * _hand(rates, "noleap"), rel=1e-6)
    assert "implausible values, likely a units error" in caplog.text
    assert not np.isnan(total)
