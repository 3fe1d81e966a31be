"""Twelfth audit (session 10), A12-1: rh per PFT (dims time, PFT, lat, lon) weighted by the model's own
landCoverFrac: cell rh = sum over the types of rh_p x landCoverFrac_p (as a fraction), never averaged.
Each total is checked against the same sum done by hand with numpy and the hand total of
test_audit11_trendy (day-weighted annual means x spherical cell areas x 365.25 d, Pg C yr-1).
"""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from rhbench.errors import CoordinateError, PluginError, TimeAxisError, ValueRangeError
from rhbench.sources import Var, trendy_dgvm
from tests.test_audit11_trendy import LAT, LON, NOLEAP, NOLEAP_TIME, _hand, _rates, _total

VARIABLES = {"rh": Var("rh", "kg m-2 s-1"), "landCoverFrac": Var("landCoverFrac", "%")}
MONTH_MIDDLES = np.cumsum(np.tile(NOLEAP, 4)) - np.tile(NOLEAP, 4) / 2  # days since 2000-01-01, noleap


def _per_pft(n: int = 3) -> np.ndarray:
    """Monthly rh per PFT (48, n, lat, lon), kg m-2 s-1: 0.5, 1, 2 (...) x the cell's random rate;
    PFT 1 absent (NaN) in rows 5-7."""
    values = np.stack([_rates() * f for f in (0.5, 1.0, 2.0, 3.0)[:n]], axis=1)
    values[:, 1, 5:8, :] = np.nan
    return values


def _fractions(n: int = 3) -> np.ndarray:
    """Shares of the grid cell (n, lat, lon), adding up to 0.8 (the land part); PFT 1 is 0 in rows 5-7."""
    frac = np.random.default_rng(5).uniform(0.05, 1.0, (n, LAT.size, LON.size))
    frac[1, 5:8, :] = 0.0
    return frac / frac.sum(axis=0) * 0.8


def _rh_file(path, values, dim="pft"):
    ds = xr.Dataset(
        {"rh": (("time", dim, "lat", "lon"), values.astype("float32"), {"units": "kg m-2 s-1"})},
        coords={"time": ("time", MONTH_MIDDLES, NOLEAP_TIME), "lat": LAT, "lon": LON},
    )
    ds.to_netcdf(path, encoding={v: {"_FillValue": None} for v in ds.variables})
    return path


def _cover_file(path, frac, units, dim="pft", years=None):
    dims = (dim, "lat", "lon") if years is None else ("time", dim, "lat", "lon")
    coords = {"lat": LAT, "lon": LON}
    if years is not None:
        coords["time"] = ("time", (np.asarray(years) - 2000) * 365.0 + 182.5, NOLEAP_TIME)
    ds = xr.Dataset({"landCoverFrac": (dims, frac.astype("float32"), {"units": units})}, coords=coords)
    ds.to_netcdf(path, encoding={v: {"_FillValue": None} for v in ds.variables})
    return path


def _by_hand(per_pft: np.ndarray, frac: np.ndarray) -> np.ndarray:
    """Monthly cell rh per m2 of land (48, lat, lon): sum over PFTs of rh x fraction (absent types,
    fraction 0, nothing; types without a value anywhere nothing) / the sum of every type's fraction."""
    frac = frac if frac.ndim == 4 else frac[None]
    valued = ~np.isnan(per_pft).all(axis=(0, 2, 3))
    summed = np.where((frac > 0) & valued[None, :, None, None], per_pft * frac, 0.0).sum(axis=1)
    return summed / frac.sum(axis=1)


@pytest.mark.parametrize("units, scale", [("%", 100.0), ("1", 1.0)])
def test_rh_per_pft_is_the_sum_of_each_types_rh_times_its_land_cover(tmp_path, units, scale):
    """Before: refused (B11-8). Now: hand sum over types of rh_p x landCoverFrac_p / the covered share;
    a type absent (fraction 0, rh NaN) adds nothing; '%' and '1' weigh the same."""
    per_pft, frac = _per_pft(), _fractions()
    frac[0] *= 8.0  # the type of least rh covers most of the land: a weighted mean is far from a plain one
    frac *= 0.8 / frac.sum(axis=0)
    rh = _rh_file(tmp_path / "rh.nc", per_pft)
    cover = _cover_file(tmp_path / "landCoverFrac.nc", frac * scale, units)
    variables = {**VARIABLES, "landCoverFrac": Var("landCoverFrac", units)}
    total = _total({"rh": [rh], "landCoverFrac": [cover]}, variables)
    hand = _hand(_by_hand(per_pft, frac), "noleap")
    assert total == pytest.approx(hand, rel=1e-6)
    present = (~np.isnan(per_pft)).sum(axis=1)
    averaged = _hand(np.nansum(per_pft, axis=1) / np.maximum(present, 1), "noleap")  # an average over the types
    assert abs(total - averaged) / averaged > 0.05


def test_a_yearly_land_cover_weighs_each_year_with_its_own_fractions(tmp_path):
    """landCoverFrac per year (TRENDY's yearly land use): each year's rh weighted by that year's shares."""
    per_pft = _per_pft()
    yearly = np.stack([_fractions() * (1.0 - 0.2 * i) for i in range(4)])  # (4, 3, lat, lon), shrinking cover
    rh = _rh_file(tmp_path / "rh.nc", per_pft)
    cover = _cover_file(tmp_path / "landCoverFrac.nc", yearly * 100.0, "%", years=range(2000, 2004))
    total = _total({"rh": [rh], "landCoverFrac": [cover]}, VARIABLES)
    monthly_frac = np.repeat(yearly, 12, axis=0)  # each month its year's shares
    assert total == pytest.approx(_hand(_by_hand(per_pft, monthly_frac), "noleap"), rel=1e-6)


def test_a_present_type_without_a_value_leaves_the_cell_missing_not_low(tmp_path):
    """rh NaN for a type whose fraction is > 0: the cell is missing (not the other types' sum alone)."""
    per_pft, frac = _per_pft(), _fractions()
    per_pft[:, 2, 10, 20] = np.nan  # PFT 2 covers cell (10, 20) but has no value there
    rh = _rh_file(tmp_path / "rh.nc", per_pft)
    cover = _cover_file(tmp_path / "landCoverFrac.nc", frac * 100.0, "%")
    total = _total({"rh": [rh], "landCoverFrac": [cover]}, VARIABLES)
    cell = _by_hand(per_pft, frac)
    assert np.isnan(cell[:, 10, 20]).all()
    assert total == pytest.approx(_hand(cell, "noleap"), rel=1e-6)  # _hand counts NaN cells as nothing


def test_without_land_cover_a_per_pft_rh_stays_refused_saying_how_to_declare_it(tmp_path):
    rh = _rh_file(tmp_path / "rh.nc", _per_pft())
    with pytest.raises(CoordinateError, match="vegetation types or tiles: pft") as info:
        _total({"rh": [rh]})
    assert f"file: {rh}" in str(info.value) and "declare the model's landCoverFrac" in str(info.value)


def test_a_pft_axis_of_another_length_is_refused_naming_both_files(tmp_path):
    rh = _rh_file(tmp_path / "rh.nc", _per_pft(3))
    cover = _cover_file(tmp_path / "landCoverFrac.nc", _fractions(4) * 100.0, "%", dim="vegtype")
    with pytest.raises(CoordinateError, match="differ in length") as info:
        _total({"rh": [rh], "landCoverFrac": [cover]}, VARIABLES)
    assert f"{rh} and {cover}" in str(info.value) and "pft: 3 types" in str(info.value)


@pytest.mark.parametrize("units, scale, message", [("1", 100.0, "more than 1"), ("%", 1.0, "almost nothing")])
def test_fractions_in_the_wrong_units_are_refused_naming_the_land_cover_file(tmp_path, units, scale, message):
    """Percentages labelled '1' (x100) or fractions labelled '%' (x0.01) would scale every cell's rh."""
    rh = _rh_file(tmp_path / "rh.nc", _per_pft())
    cover = _cover_file(tmp_path / "landCoverFrac.nc", _fractions() * scale, units)
    variables = {**VARIABLES, "landCoverFrac": Var("landCoverFrac", units)}
    with pytest.raises(ValueRangeError, match=message) as info:
        _total({"rh": [rh], "landCoverFrac": [cover]}, variables)
    assert f"file: {cover}" in str(info.value)


def test_a_land_cover_missing_years_of_rh_is_refused(tmp_path):
    rh = _rh_file(tmp_path / "rh.nc", _per_pft())
    yearly = np.stack([_fractions()] * 2) * 100.0
    cover = _cover_file(tmp_path / "landCoverFrac.nc", yearly, "%", years=[2000, 2001])
    with pytest.raises(TimeAxisError, match="lacks years") as info:
        _total({"rh": [rh], "landCoverFrac": [cover]}, VARIABLES)
    assert "[2002, 2003]" in str(info.value)


def test_a_trendy_plugin_declares_land_cover_as_one_more_variable():
    """The plugin API: one more variable name (TRENDY's units '%'); a misspelling is still refused."""
    source = trendy_dgvm("M", "cite", variables=("rh", "cSoil", "landCoverFrac"))
    assert source.variables["landCoverFrac"] == Var("landCoverFrac", "%")
    with pytest.raises(PluginError, match="landcoverfrac"):
        trendy_dgvm("M", "cite", variables=("rh", "landcoverfrac"))


def test_a_bare_soil_type_without_values_anywhere_adds_nothing_and_passes_the_value_check(tmp_path):
    """TRENDY models often list bare soil as type 0 of landCoverFrac with no rh written for it. Before
    this row (the first A12-1): the value check sampled type 0 only ('all values are missing', the model
    lost), and with the check passed every cell would have been missing (a present type without a value).
    Now a type with no value anywhere adds nothing: the hand sum over types 1-3, divided by the share of
    all four (type 0's land is land without rh)."""
    per_pft, frac = _per_pft(4), _fractions(4)
    per_pft[:, 0] = np.nan
    rh = _rh_file(tmp_path / "rh.nc", per_pft)
    cover = _cover_file(tmp_path / "landCoverFrac.nc", frac * 100.0, "%")
    total = _total({"rh": [rh], "landCoverFrac": [cover]}, VARIABLES)
    assert total == pytest.approx(_hand(_by_hand(per_pft, frac), "noleap"), rel=1e-6)
    share_kept = np.sum(np.where(frac[1:] > 0, per_pft[:, 1:] * frac[1:], 0.0), axis=1) / frac.sum(axis=0)
    assert total == pytest.approx(_hand(share_kept, "noleap"), rel=1e-6)  # type 0's land counts, adds nothing


def test_a_coastal_cell_is_weighted_by_its_land_fraction_once(tmp_path):
    """Review 9: the fractions of every type add up to the land part of the cell (CMIP6's definition);
    with the model's own sftlf equal to that sum, the total is sum over cells of area x sum_p rh_p x f_p
    (each type's area x its rh). Before: the weighted sum (a value per m2 of the WHOLE cell) was multiplied
    by the land fraction again in the totals: every coastal cell counted land fraction squared."""
    per_pft, frac = _per_pft(), _fractions()  # shares add up to 0.8 of each cell: its land
    rh = _rh_file(tmp_path / "rh.nc", per_pft)
    cover = _cover_file(tmp_path / "landCoverFrac.nc", frac * 100.0, "%")
    sftlf = tmp_path / "sftlf.nc"
    land = xr.DataArray(frac.sum(axis=0) * 100.0, dims=("lat", "lon"), coords={"lat": LAT, "lon": LON})
    land.astype("float32").to_dataset(name="sftlf").assign(sftlf=lambda d: d.sftlf.assign_attrs(units="%")).to_netcdf(
        sftlf
    )
    variables = {**VARIABLES, "sftlf": Var("sftlf", "%")}
    total = _total({"rh": [rh], "landCoverFrac": [cover], "sftlf": [sftlf]}, variables)
    each_types_area = np.where(frac > 0, per_pft * frac, 0.0).sum(axis=1)  # per m2 of the whole cell
    assert total == pytest.approx(_hand(each_types_area, "noleap"), rel=1e-5)
    assert total == pytest.approx(_total({"rh": [rh], "landCoverFrac": [cover]}, VARIABLES) * 0.8, rel=1e-5)
