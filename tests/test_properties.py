"""Property-based tests: unit conversion round trips; area-weighted totals under regridding."""

from __future__ import annotations

import numpy as np
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st

from rhbench import grid, units
from rhbench.metrics.totals import global_total

#: Families of mutually convertible spellings (CF exponents, carbon-mass and per-area forms).
FLUXES = [
    "kg m-2 s-1",
    "gC m-2 yr-1",
    "g C m-2 yr-1",
    "g C m-2 d-1",
    "kgC m-2 yr-1",
    "mg m-2 h-1",
    "t C ha-1 yr-1",
    "Pg C m-2 yr-1",
    "kg m-2.s-1",
]
STOCKS = ["kg m-2", "kgC m-2", "g C m-2", "t C ha-1", "Mg ha-1", "Pg C km-2", "mg cm-2"]
FEW = settings(max_examples=40, deadline=None)


@FEW
@given(family=st.sampled_from([FLUXES, STOCKS]), data=st.data())
def test_conversion_around_a_chain_of_units_returns_the_start_value(family, data):
    chain = data.draw(st.lists(st.sampled_from(family), min_size=2, max_size=6))
    value = data.draw(st.floats(1e-12, 1e12))
    converted = value
    for a, b in zip(chain, chain[1:] + chain[:1], strict=True):
        converted *= units.conversion_factor(a, b)
    assert np.isclose(converted, value, rtol=1e-12, atol=0)


@FEW
@given(a=st.sampled_from(FLUXES), b=st.sampled_from(FLUXES), c=st.sampled_from(FLUXES))
def test_conversion_factors_compose(a, b, c):
    direct = units.conversion_factor(a, c)
    via = units.conversion_factor(a, b) * units.conversion_factor(b, c)
    assert np.isclose(via, direct, rtol=1e-12, atol=0)


@FEW
@given(
    start=st.sampled_from(STOCKS),
    values=st.lists(st.one_of(st.just(0.0), st.floats(1e-6, 1e6)), min_size=1, max_size=20),
)
def test_convert_to_canonical_and_back_round_trips_an_array(start, values):
    data = xr.DataArray(np.array(values), dims="x", name="cSoil", attrs={"units": start})
    canonical = units.convert(data, "kgC m-2", declared="kg m-2")
    back = units.convert(canonical, start)
    np.testing.assert_allclose(back.values, values, rtol=1e-12, atol=0)
    assert canonical.attrs["units"] == "kgC m-2" and back.attrs["units"] == start


def _field(seed: int, missing: float, resolution: float) -> xr.DataArray:
    target = grid.common_grid(resolution)
    rng = np.random.default_rng(seed)
    values = rng.gamma(2.0, 200.0, (target.sizes["lat"], target.sizes["lon"]))
    values[rng.random(values.shape) < missing] = np.nan
    return xr.DataArray(values, dims=("lat", "lon"), coords=target.coords, name="rh")


@FEW
@given(seed=st.integers(0, 2**31), missing=st.floats(0.0, 0.9))
def test_global_total_is_invariant_under_nearest_neighbour_refinement(seed, missing):
    coarse = _field(seed, missing, 2.0)
    area = {res: grid.cell_area(grid.common_grid(res).lat, grid.common_grid(res).lon) for res in (2.0, 1.0, 0.5)}
    total = float(global_total(coarse, area[2.0]))
    one = grid.regrid_nearest(coarse, grid.common_grid(1.0))
    half = grid.regrid_nearest(one, grid.common_grid(0.5))
    assert one.shape == (180, 360) and half.shape == (360, 720)
    assert np.isclose(float(global_total(one, area[1.0])), total, rtol=1e-10)
    assert np.isclose(float(global_total(half, area[0.5])), total, rtol=1e-10)
    assert int(half.isnull().sum()) == 16 * int(coarse.isnull().sum())


@FEW
@given(seed=st.integers(0, 2**31), missing=st.floats(0.0, 0.9), resolution=st.sampled_from([1.0, 2.0, 4.0]))
def test_regrid_to_the_same_grid_is_the_identity(seed, missing, resolution):
    field = _field(seed, missing, resolution)
    same = grid.regrid_nearest(field, grid.common_grid(resolution))
    xr.testing.assert_identical(same.drop_attrs(), field.drop_attrs())
    area = grid.cell_area(field.lat, field.lon)
    assert float(global_total(same, area)) == float(global_total(field, area))


@FEW
@given(seed=st.integers(0, 2**31))
def test_total_survives_0_360_longitudes_with_a_duplicated_seam(seed):
    lat = grid.common_grid(4.0).lat
    lon = np.arange(0.0, 361.0, 4.0)  # 91 nodes: 0 and 360 are the same meridian
    values = np.random.default_rng(seed).gamma(2.0, 200.0, (lat.size, lon.size))
    values[:, -1] = values[:, 0]
    raw = xr.DataArray(values, dims=("lat", "lon"), coords={"lat": lat, "lon": lon}, name="rh")
    normal = grid.normalize_coordinates(raw.to_dataset())["rh"]
    np.testing.assert_array_equal(normal.lon, np.arange(-180.0, 180.0, 4.0))
    unique = raw.isel(lon=slice(0, 90))
    expected = float(global_total(unique, grid.cell_area(unique.lat, unique.lon)))
    total = float(global_total(normal, grid.cell_area(normal.lat, normal.lon)))
    assert np.isclose(total, expected, rtol=1e-12)
