"""Units: carbon spellings, CF exponents, dimensions, conversions, errors."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from rhbench import units
from rhbench.errors import UnitsError


def test_pg_c_per_year_has_mass_per_time_dimension():
    assert str(units.parse_units("Pg C yr-1").dimensionality) == "[mass] / [time]"


def test_g_c_is_not_read_as_degrees_celsius():
    assert units.same_dimension("g C m-2 yr-1", "kg m-2 s-1")


def test_trendy_flux_to_canonical_by_hand():
    # 1 kg m-2 s-1 = 1000 g m-2 s-1 * 365.25 * 86400 s/yr
    assert units.conversion_factor("kg m-2 s-1", "gC m-2 yr-1") == pytest.approx(1000 * 365.25 * 86400, rel=1e-12)


@pytest.mark.parametrize(
    ("text", "factor"), [("t C ha-1", 0.1), ("Mg C ha-1", 0.1), ("g C m-2", 1e-3), ("kg C m-2", 1.0)]
)
def test_stock_units_to_kg_c_per_m2(text, factor):
    assert units.conversion_factor(text, "kgC m-2") == pytest.approx(factor, rel=1e-12)


def test_convert_uses_declared_units_when_the_file_has_none():
    data = xr.DataArray(np.array([2.0]), name="cSoil")
    out = units.convert(data, "kgC m-2", declared="t C ha-1")
    assert float(out[0]) == pytest.approx(0.2) and out.attrs["units"] == "kgC m-2"


def test_convert_offset_units_kelvin_to_celsius():
    data = xr.DataArray(np.array([273.15, 300.0]), name="tas", attrs={"units": "K"})
    np.testing.assert_allclose(units.convert(data, "degC").values, [0.0, 26.85])


def test_wrong_dimension_names_source_file_variable_found_expected():
    data = xr.DataArray(np.array([1.0]), name="rh", attrs={"units": "kg m-2"})
    with pytest.raises(UnitsError) as info:
        units.convert(data, "gC m-2 yr-1", source="MODEL", file="m.nc")
    message = str(info.value)
    for part in ("MODEL", "m.nc", "rh", "kg m-2", "gC m-2 yr-1"):
        assert part in message


def test_file_units_contradicting_declared_units_is_an_error():
    data = xr.DataArray(np.array([1.0]), name="rh", attrs={"units": "kg m-2"})
    with pytest.raises(UnitsError, match="declared"):
        units.convert(data, "gC m-2 yr-1", declared="kg m-2 s-1")


def test_unparseable_units_raise_units_error():
    with pytest.raises(UnitsError):
        units.parse_units("kg m-2 blorps")
