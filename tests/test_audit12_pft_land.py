"""Review 9's open item (session 10): rh per PFT divided by max(sum of landCoverFrac, the model's own land
fraction) when the model declares one (sftlf in % or 1, landArea in m2 or km2), so that land its types
leave out (bare soil not listed) counts as land without rh instead of being averaged as vegetation.
Hand totals (Pg C yr-1, spherical cell areas): shares of the cell -> sum over cells of area x sum_p rh_p
f_p; shares of the land -> area x land fraction x sum_p rh_p f_p. A type with no value anywhere but a
substantial share is warned of.
"""

from __future__ import annotations

import logging

import numpy as np
import pytest
import xarray as xr

from rhbench import grid, harmonize, reduce
from rhbench.sources import Source, Var
from tests.test_audit11_trendy import LAT, LON, _hand
from tests.test_audit12_pft import VARIABLES, _cover_file, _fractions, _per_pft, _rh_file

LAND = 0.8  # the model's land fraction in every cell


def _vegetated_share() -> np.ndarray:
    """(lat, lon) share of each cell its listed (vegetated) types cover: 0.1 to 0.8 of the cell."""
    return np.random.default_rng(11).uniform(0.1, LAND, (LAT.size, LON.size))


def _land_files(tmp_path, kind: str) -> tuple[dict, dict]:
    """The model's land fraction LAND as ``kind`` ('sftlf %', 'sftlf 1', 'landArea m2', 'landArea km2')."""
    name, units = kind.split()
    area = grid.cell_area(LAT, LON).values
    values = {"%": LAND * 100.0, "1": LAND, "m2": LAND * area, "km2": LAND * area / 1e6}[units]
    values = np.broadcast_to(values, (LAT.size, LON.size)).astype("float64")
    path = tmp_path / f"{name}.nc"
    xr.Dataset({name: (("lat", "lon"), values, {"units": units})}, coords={"lat": LAT, "lon": LON}).to_netcdf(path)
    return {name: [path]}, {name: Var(name, units)}


def _products(files: dict, variables: dict) -> reduce.ModelProducts:
    source = Source("TRENDYLIKE", "dgvm", "x.TRENDYLIKE", variables, "-", period=(2000, 2003), files=files)
    annual, cells = harmonize.load_native(source, None)
    return reduce.reduce_native(annual, cells, grid.common_grid(10.0), (2000, 2003))


def _total_and_map(files: dict, variables: dict) -> tuple[float, np.ndarray]:
    """The global rh total (Pg C yr-1) and the period-mean map per m2 of land (g C m-2 yr-1)."""
    products = _products(files, variables)
    return float(products.regions["rh_total"].sel(region="global")), products.period["rh"].values


def _cell_sum(per_pft: np.ndarray, frac: np.ndarray) -> np.ndarray:
    """sum_p rh_p x f_p (48, lat, lon): types absent (f = 0) add nothing."""
    return np.where(frac > 0, per_pft * frac, 0.0).sum(axis=1)


@pytest.mark.parametrize("kind", ["sftlf %", "sftlf 1", "landArea m2", "landArea km2"])
def test_shares_of_the_cell_leaving_out_bare_soil_count_the_bare_land_without_rh(tmp_path, kind):
    """Types cover 10-80 % of cells 80 % land: the total is sum over cells of area x sum_p rh_p f_p.
    Before: divided by the types' share, the bare land was averaged as vegetation (up to 8 x high)."""
    per_pft, frac = _per_pft(), _fractions() / LAND * _vegetated_share()
    rh, cover = _rh_file(tmp_path / "rh.nc", per_pft), _cover_file(tmp_path / "lcf.nc", frac * 100.0, "%")
    land_files, land_vars = _land_files(tmp_path, kind)
    total, per_land = _total_and_map({"rh": [rh], "landCoverFrac": [cover], **land_files}, {**VARIABLES, **land_vars})
    assert total == pytest.approx(_hand(_cell_sum(per_pft, frac), "noleap"), rel=1e-5)
    averaged = _hand(_cell_sum(per_pft, frac) / frac.sum(axis=0) * LAND, "noleap")  # the old reading
    assert averaged / total > 1.5  # 1.79 here
    _, old_map = _total_and_map({"rh": [rh], "landCoverFrac": [cover]}, VARIABLES)  # per m2 of the types' land
    ratio = (per_land / old_map)[np.isfinite(per_land)]
    assert ratio.size > 100
    np.testing.assert_allclose(ratio, (frac.sum(axis=0) / LAND)[np.isfinite(per_land)], rtol=1e-5)


@pytest.mark.parametrize("kind", ["sftlf %", "landArea km2"])
def test_the_per_land_map_agrees_with_the_total(tmp_path, kind):
    """Sum over cells of the period-mean map (g C m-2 yr-1, per m2 of land) x area x land fraction is
    the total (Pg C yr-1): the maps the scores read and the totals weigh the same land."""
    per_pft, frac = _per_pft(), _fractions() / LAND * _vegetated_share()
    rh, cover = _rh_file(tmp_path / "rh.nc", per_pft), _cover_file(tmp_path / "lcf.nc", frac * 100.0, "%")
    land_files, land_vars = _land_files(tmp_path, kind)
    total, per_land = _total_and_map({"rh": [rh], "landCoverFrac": [cover], **land_files}, {**VARIABLES, **land_vars})
    weighed = np.nansum(per_land * grid.cell_area(LAT, LON).values * LAND) / 1e15
    assert weighed == pytest.approx(total, rel=1e-5)


@pytest.mark.parametrize("kind", ["sftlf 1", "landArea m2"])
def test_shares_of_the_cell_listing_every_type_are_divided_by_the_land_fraction(tmp_path, kind):
    """Every type listed (sum = land fraction 0.8): the total is sum over cells of area x sum_p rh_p f_p."""
    per_pft, frac = _per_pft(), _fractions()
    rh, cover = _rh_file(tmp_path / "rh.nc", per_pft), _cover_file(tmp_path / "lcf.nc", frac * 100.0, "%")
    land_files, land_vars = _land_files(tmp_path, kind)
    total, _ = _total_and_map({"rh": [rh], "landCoverFrac": [cover], **land_files}, {**VARIABLES, **land_vars})
    assert total == pytest.approx(_hand(_cell_sum(per_pft, frac), "noleap"), rel=1e-5)


@pytest.mark.parametrize("kind", ["sftlf %", "landArea km2"])
def test_shares_of_the_land_are_weighted_by_the_land_fraction_once(tmp_path, kind):
    """Shares of the land (sum = 1 >= land fraction 0.8): the total is area x 0.8 x sum_p rh_p f_p."""
    per_pft, frac = _per_pft(), _fractions() / LAND
    rh, cover = _rh_file(tmp_path / "rh.nc", per_pft), _cover_file(tmp_path / "lcf.nc", frac * 100.0, "%")
    land_files, land_vars = _land_files(tmp_path, kind)
    total, _ = _total_and_map({"rh": [rh], "landCoverFrac": [cover], **land_files}, {**VARIABLES, **land_vars})
    assert total == pytest.approx(_hand(LAND * _cell_sum(per_pft, frac), "noleap"), rel=1e-5)


def test_without_a_land_fraction_the_types_share_stays_the_divisor(tmp_path):
    """No sftlf/landArea: every cell with data is land (weight 1); cell = sum_p rh_p f_p / sum_p f_p."""
    per_pft, frac = _per_pft(), _fractions() / LAND * _vegetated_share()
    rh, cover = _rh_file(tmp_path / "rh.nc", per_pft), _cover_file(tmp_path / "lcf.nc", frac * 100.0, "%")
    total, _ = _total_and_map({"rh": [rh], "landCoverFrac": [cover]}, VARIABLES)
    assert total == pytest.approx(_hand(_cell_sum(per_pft, frac) / frac.sum(axis=0), "noleap"), rel=1e-5)


@pytest.mark.parametrize("largest, level", [(0.30, logging.WARNING), (0.03, logging.INFO)])
def test_a_type_with_a_share_but_no_value_anywhere_is_warned_of_when_substantial(tmp_path, caplog, largest, level):
    """Type 0 has no rh anywhere (crops not simulated, or bare soil): counted as zero flux. A share up to
    30 % of a cell: WARNING naming the type and its largest share; up to 3 %: INFO only."""
    per_pft, frac = _per_pft(), _fractions()
    per_pft[:, 0] = np.nan
    frac[0] = np.random.default_rng(3).uniform(0.0, largest, (LAT.size, LON.size))
    frac[0, 0, 0] = largest
    frac[1:] *= (LAND - frac[0]) / frac[1:].sum(axis=0)  # the other types: the rest of the land
    rh, cover = _rh_file(tmp_path / "rh.nc", per_pft), _cover_file(tmp_path / "lcf.nc", frac * 100.0, "%")
    with caplog.at_level(logging.INFO, logger="rhbench.pftcover"):
        _total_and_map({"rh": [rh], "landCoverFrac": [cover]}, VARIABLES)
    said = [r for r in caplog.records if "no value" in r.getMessage()]
    assert said and all(r.levelno == level for r in said)
    assert f"pft 0: {100.0 * largest:.3g} %" in said[0].getMessage()
