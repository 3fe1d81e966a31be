"""Thirteenth audit (session 11), part B: units as centres and products write them
(docs/trust-cases.md, "Thirteenth audit (session 11)"). Totals against hand calculations on
test_audit11_trendy's 10-degree grid."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from rhbench import grid, harmonize, reduce, units
from rhbench.errors import UnitsError
from rhbench.sources import Source, Var
from tests.test_audit11_trendy import LAT, LON, _hand, _rates, _total, _write

KG_PER_SHORT_TON = 907.18474


def _csoil(path, values: np.ndarray, unit: str, first: int = 2000):
    """A yearly cSoil file (from ``first``, noleap, one step per row of ``values``) in ``unit``."""
    time = (first - 2000 + np.arange(values.shape[0])) * 365.0 + 182.5
    ds = xr.Dataset(
        {"cSoil": (("time", "lat", "lon"), values.astype("float64"), {"units": unit})},
        coords={
            "time": ("time", time, {"units": "days since 2000-01-01", "calendar": "noleap"}),
            "lat": LAT,
            "lon": LON,
        },
    )
    ds.to_netcdf(path, encoding={name: {"_FillValue": None} for name in ds.variables})
    return path


def _csoil_total(path) -> float:
    """rhbench's global cSoil total (Pg C) of a model with cSoil ``path`` (or a series of files) alone."""
    paths = path if isinstance(path, list) else [path]
    source = Source(
        "T", "dgvm", "x.T", {"cSoil": Var("cSoil", "kg m-2")}, "-", period=(2000, 2003), files={"cSoil": paths}
    )
    annual, cells = harmonize.load_native(source, None)
    products = reduce.reduce_native(annual, cells, grid.common_grid(10.0), (2000, 2003))
    return float(products.regions["csoil_total"].sel(region="global"))


def _kg_m2() -> np.ndarray:
    soil = np.random.default_rng(3).uniform(5.0, 20.0, (4, LAT.size, LON.size))
    soil[:, :3, :] = np.nan
    return soil


def _hand_csoil(kg_m2: np.ndarray) -> float:
    area = grid.cell_area(LAT, LON).values
    return float(np.mean([np.nansum(year * area) for year in kg_m2])) / 1e12


@pytest.mark.parametrize("unit", ["ton/ha", "tons C ha-1", "Tons/ha", "ton C/ha"])
def test_a_stock_in_tons_is_refused_naming_file_variable_and_the_two_tonnes(tmp_path, unit):
    """Before: 'ton/ha' and 'tons ha-1' were read as US short tons (pint's and UDUNITS' ton, 907.18 kg),
    **0.907 of the total a product writing metric tonnes meant, silently**; 'tons C ha-1' was refused as
    "units of the wrong dimension ... [temperature]". Now a UnitsError naming the file, the variable,
    the units found and the metric and short tons it could mean."""
    values = _kg_m2() * 10.0  # metric tonnes per hectare
    path = _csoil(tmp_path / "cSoil.nc", values, unit)
    with pytest.raises(UnitsError, match="ambiguous units") as info:
        _csoil_total(path)
    text = str(info.value)
    assert "cSoil.nc" in text and "cSoil" in text and repr(unit) in text and "'t' or 'Mg'" in text


def test_the_short_ton_named_as_such_is_read_as_the_short_ton(tmp_path):
    kg_m2 = _kg_m2()
    path = _csoil(tmp_path / "cSoil.nc", kg_m2 / KG_PER_SHORT_TON * 1e4, "short_ton/ha")
    assert _csoil_total(path) == pytest.approx(_hand_csoil(kg_m2), rel=1e-9)


@pytest.mark.parametrize(
    ("unit", "per_kg_m2"),
    [
        ("t C ha-1", 10.0),
        ("Mg C ha-1", 10.0),
        ("Mg ha-1", 10.0),
        ("tonnes C ha-1", 10.0),
        ("tonne C/ha", 10.0),
        ("metric_ton C/ha", 10.0),
        ("mg C cm-2", 100.0),
        ("kgC/m2", 1.0),
        ("kg C m-2", 1.0),
    ],
)
def test_stocks_in_tonnes_per_hectare_and_other_carbon_spellings_give_the_hand_total(tmp_path, unit, per_kg_m2):
    """'tonnes C ha-1', 'tonne C/ha', 'metric_ton C/ha', 'mg C cm-2' were refused ("[temperature]": the
    bare C read as degrees Celsius after a mass the fold did not know); now read to the hand total."""
    kg_m2 = _kg_m2()
    path = _csoil(tmp_path / "cSoil.nc", kg_m2 * per_kg_m2, unit)
    assert _csoil_total(path) == pytest.approx(_hand_csoil(kg_m2), rel=1e-9)


@pytest.mark.parametrize(
    ("unit", "per_kg_m2_s"),
    [("mg C m-2 h-1", 1e6 * 3600), ("ug C m-2 s-1", 1e9), ("kgC/m2/s", 1.0), ("kg C m-2 s-1", 1.0)],
)
def test_fluxes_in_milligrams_of_carbon_per_hour_give_the_hand_total(tmp_path, unit, per_kg_m2_s):
    """'mg C m-2 h-1' (a chamber-flux spelling) was refused as a temperature; now the hand total."""
    rates = _rates()
    path = _write(tmp_path / "rh.nc", rates * per_kg_m2_s, unit)
    total = _total({"rh": [path]}, {"rh": Var("rh", unit)})
    assert total == pytest.approx(_hand(rates, "noleap"), rel=1e-5)


@pytest.mark.parametrize(("text", "kg"), [("Gt C", 1e12), ("Mt C", 1e9), ("kt C", 1e6), ("Pg C", 1e12), ("t C", 1e3)])
def test_carbon_masses_with_prefixed_tonnes_convert_to_kilograms(text, kg):
    assert units.conversion_factor(text, "kg") == pytest.approx(kg, rel=1e-12)


def test_files_of_a_series_stating_different_units_are_refused_naming_both(tmp_path):
    """cSoil of 2000-2001 in kg m-2, then 2002-2003 in Mg ha-1 (a product re-gridded by another tool).
    Before: the join kept the first file's units, so the second file's Mg ha-1 were read as kg m-2:
    **10x for those years, the total 5.5x the hand one, silently** at the loader (only a run's plausibility
    check could catch it). Now a UnitsError naming both files and both units; one unit spelt two ways
    (`kg m-2`, `kg C/m2`) still joins to the hand total."""
    kg_m2 = _kg_m2()
    first = _csoil(tmp_path / "cSoil_2000.nc", kg_m2[:2], "kg m-2")
    second = _csoil(tmp_path / "cSoil_2002.nc", kg_m2[2:] * 10.0, "Mg ha-1", first=2002)
    with pytest.raises(UnitsError, match="files of a series state different units") as info:
        _csoil_total([first, second])
    text = str(info.value)
    assert "cSoil_2000.nc" in text and "cSoil_2002.nc" in text and "'kg m-2' then 'Mg ha-1'" in text
    third = _csoil(tmp_path / "cSoil_2002b.nc", kg_m2[2:], "kg C/m2", first=2002)
    assert _csoil_total([first, third]) == pytest.approx(_hand_csoil(kg_m2), rel=1e-9)
