"""Twelfth audit (session 10), part B: model files as users write them (docs/trust-cases.md, "Twelfth audit
(session 10)"). Totals and means against hand calculations on the spherical cell areas of
test_audit11_trendy's 10-degree grid.
"""

from __future__ import annotations

import logging

import numpy as np
import pytest
import xarray as xr

from rhbench import grid, harmonize, reduce
from rhbench.sources import Source, Var
from tests.test_audit11_trendy import LAT, LON, NOLEAP_TIME, _hand, _rates, _time_axis

VARIABLES = {"rh": Var("rh", "kg m-2 s-1"), "cSoil": Var("cSoil", "kg m-2")}


def _model(folder, rates: np.ndarray, soil: np.ndarray) -> Source:
    """A model of monthly rh (noleap) and yearly cSoil, no land fraction, files in ``folder``."""
    stamps, _ = _time_axis("noleap")
    xr.Dataset(
        {"rh": (("time", "lat", "lon"), rates.astype("float32"), {"units": "kg m-2 s-1"})},
        coords={"time": ("time", stamps, NOLEAP_TIME), "lat": LAT, "lon": LON},
    ).to_netcdf(folder / "rh.nc")
    xr.Dataset(
        {"cSoil": (("time", "lat", "lon"), soil.astype("float32"), {"units": "kg m-2"})},
        coords={"time": ("time", np.arange(4) * 365.0 + 182.5, NOLEAP_TIME), "lat": LAT, "lon": LON},
    ).to_netcdf(folder / "cSoil.nc")
    files = {"rh": [folder / "rh.nc"], "cSoil": [folder / "cSoil.nc"]}
    return Source("T", "dgvm", "x.T", VARIABLES, "-", period=(2000, 2003), files=files)


def _products(source: Source) -> reduce.ModelProducts:
    annual, cells = harmonize.load_native(source, None)
    return reduce.reduce_native(annual, cells, grid.common_grid(10.0), (2000, 2003))


def _global(source: Source) -> dict[str, float]:
    products = _products(source)
    return {k: float(products.regions[k].sel(region="global")) for k in products.regions.data_vars}


def test_an_ocean_written_as_zero_is_not_land_when_the_model_has_no_land_fraction(tmp_path, caplog):
    """Before: without a land fraction every cell with a value counted as land, so an ocean written as 0
    (not missing) was land holding rh 0: rh_mean 416.31 instead of 501.97 g C m-2 yr-1 (-17 %) and the
    land area the whole sphere, silently (the totals were right). Now those all-zero cells are not land,
    with a warning; the same numbers as the file with the ocean missing, and the hand mean."""
    rates = _rates()
    soil = np.random.default_rng(1).uniform(5.0, 20.0, (4, LAT.size, LON.size))
    soil[:, np.isnan(rates[0])] = np.nan
    (tmp_path / "nan").mkdir()
    (tmp_path / "zero").mkdir()
    missing = _global(_model(tmp_path / "nan", rates, soil))
    with caplog.at_level(logging.WARNING, logger="rhbench.landfrac"):
        zeros = _global(_model(tmp_path / "zero", np.nan_to_num(rates), np.nan_to_num(soil)))
    area = grid.cell_area(LAT, LON).values
    land = float(area[~np.isnan(rates[0])].sum())
    assert zeros["land_area"] == pytest.approx(land, rel=1e-9)
    hand_mean = _hand(rates, "noleap") * 1e15 / land  # g C m-2 yr-1 per land area
    assert zeros["rh_mean"] == pytest.approx(hand_mean, rel=1e-6)
    for key in ("rh_total", "csoil_total", "tau_soil", "rh_mean", "land_area"):
        assert zeros[key] == pytest.approx(missing[key], rel=1e-9)
    assert "168 of 648 cells hold 0 in every variable and year" in caplog.text
    maps = _products(_model(tmp_path / "zero", np.nan_to_num(rates), np.nan_to_num(soil))).period
    for name in ("rh", "cSoil"):  # the period-mean maps (Taylor statistics, zonal means): ocean missing, not 0
        assert int(maps[name].notnull().sum()) == int((~np.isnan(rates[0])).sum()) == 480


def test_a_land_cell_with_some_non_zero_value_stays_land(tmp_path):
    """A cell whose rh is 0 in every month but whose cSoil is not (a desert) is land: rh_mean counts it."""
    rates = _rates()
    rates[:, 10, 20] = 0.0  # a land cell with no respiration
    soil = np.random.default_rng(1).uniform(5.0, 20.0, (4, LAT.size, LON.size))
    soil[:, np.isnan(rates[0])] = np.nan
    values = _global(_model(tmp_path, rates, soil))
    area = grid.cell_area(LAT, LON).values
    assert values["land_area"] == pytest.approx(float(area[~np.isnan(rates[0])].sum()), rel=1e-9)


# --- B12-7: cSoil per layer as a density with the layers' depth bounds --------------------------------


def _layered_soil(path, layers: np.ndarray, units: str, bounds: np.ndarray | None, bounds_units: str = "m", **attrs):
    """cSoil (time, depth, lat, lon) yearly, with ``depth_bnds`` (the CF bounds of depth) when given."""
    depth_attrs = {"units": bounds_units, "positive": "down"}
    data_vars = {"cSoil": (("time", "depth", "lat", "lon"), layers.astype("float32"), {"units": units, **attrs})}
    if bounds is not None:
        depth_attrs["bounds"] = "depth_bnds"
        data_vars["depth_bnds"] = (("depth", "bnds"), bounds)
    centres = bounds.mean(axis=1) if bounds is not None else np.array([5.0, 25.0, 70.0])
    xr.Dataset(
        data_vars,
        coords={"time": ("time", np.arange(4) * 365.0 + 182.5, NOLEAP_TIME), "depth": ("depth", centres, depth_attrs),
                "lat": LAT, "lon": LON},
    ).to_netcdf(path, encoding={"cSoil": {"_FillValue": None}})  # fmt: skip
    return path


def _soil_model(tmp_path, soil_path) -> Source:
    stamps, _ = _time_axis("noleap")
    xr.Dataset(
        {"rh": (("time", "lat", "lon"), _rates().astype("float32"), {"units": "kg m-2 s-1"})},
        coords={"time": ("time", stamps, NOLEAP_TIME), "lat": LAT, "lon": LON},
    ).to_netcdf(tmp_path / "rh.nc")
    files = {"rh": [tmp_path / "rh.nc"], "cSoil": [soil_path]}
    return Source("T", "dgvm", "x.T", VARIABLES, "-", period=(2000, 2003), files=files)


def _densities() -> np.ndarray:
    layers = np.random.default_rng(3).uniform(2.0, 9.0, (4, 3, LAT.size, LON.size))  # kg m-3
    layers[:, :, np.isnan(_rates()[0])] = np.nan
    return layers


@pytest.mark.parametrize("bounds_units, scale", [("m", 1.0), ("cm", 100.0)])
def test_csoil_per_layer_in_kg_per_m3_is_density_times_thickness(tmp_path, bounds_units, scale):
    """Before: refused 'units of the wrong dimension' (kg m-3). Now each layer x its thickness from depth_bnds
    (0-0.1, 0.1-0.4, 0.4-1.0 m), summed: the hand column total x area (2327.3 Pg C here)."""
    layers = _densities()
    bounds = np.array([[0.0, 0.1], [0.1, 0.4], [0.4, 1.0]]) * scale
    soil = _layered_soil(tmp_path / "cSoil.nc", layers, "kg m-3", bounds, bounds_units)
    values = _global(_soil_model(tmp_path, soil))
    thickness = np.array([0.1, 0.3, 0.6])
    area = grid.cell_area(LAT, LON).values
    hand = np.mean([np.nansum((layers[i] * thickness[:, None, None]).sum(axis=0) * area) for i in range(4)]) / 1e12
    assert values["csoil_total"] == pytest.approx(hand, rel=1e-6)


def test_a_density_per_layer_masks_its_fill_value_before_the_thickness(tmp_path):
    """A missing_value (-99999) scaled by a thickness would no longer be recognised (-9999.9, negative
    cSoil): it is masked first; the same total as with the ocean missing."""
    layers = _densities()
    filled = np.where(np.isnan(layers), -99999.0, layers)
    bounds = np.array([[0.0, 0.1], [0.1, 0.4], [0.4, 1.0]])
    soil = _layered_soil(tmp_path / "cSoil.nc", filled, "kg m-3", bounds, missing_value=np.float32(-99999.0))
    thickness = np.array([0.1, 0.3, 0.6])
    area = grid.cell_area(LAT, LON).values
    hand = np.mean([np.nansum((layers[i] * thickness[:, None, None]).sum(axis=0) * area) for i in range(4)]) / 1e12
    assert _global(_soil_model(tmp_path, soil))["csoil_total"] == pytest.approx(hand, rel=1e-6)


def test_a_density_per_layer_without_depth_bounds_stays_refused_naming_the_file(tmp_path):
    """Without bounds the thickness is not guessed from the layer centres: refused (before: 'file units do
    not match the plugin's declared units', the cause unsaid), now saying the depth bounds are missing."""
    from rhbench.errors import UnitsError

    soil = _layered_soil(tmp_path / "cSoil.nc", _densities(), "kg m-3", None)
    with pytest.raises(UnitsError, match="cSoil per volume without the thickness of its layers") as info:
        _global(_soil_model(tmp_path, soil))
    assert f"file: {soil}" in str(info.value) and "depth_bnds" in str(info.value)


# --- B12-1: series of files ---------------------------------------------------------------------------


def _rh_part(path, values: np.ndarray, stamps: np.ndarray, bounds: np.ndarray | None = None):
    data_vars = {"rh": (("time", "lat", "lon"), values.astype("float32"), {"units": "kg m-2 s-1"})}
    time_attrs = dict(NOLEAP_TIME)
    if bounds is not None:
        data_vars["time_bnds"] = (("time", "nv"), bounds)
        time_attrs["bounds"] = "time_bnds"
    xr.Dataset(data_vars, coords={"time": ("time", stamps, time_attrs), "lat": LAT, "lon": LON}).to_netcdf(path)
    return path


def _rh_total(files) -> float:
    source = Source("T", "dgvm", "x.T", {"rh": VARIABLES["rh"]}, "-", period=(2000, 2003), files={"rh": files})
    return _global(source)["rh_total"]


def test_one_file_per_month_is_read_as_the_monthly_series_it_is(tmp_path):
    """Before: each one-step file was taken as yearly, so rh_200001.nc then rh_200002.nc was refused as
    an 'overlap' (the model lost). Now the hand total (day-weighted annual means x areas)."""
    rates = _rates()
    stamps, bounds = _time_axis("noleap")
    one = slice(0, 1)
    files = [
        _rh_part(tmp_path / f"rh_{2000 + i // 12}{i % 12 + 1:02d}.nc", rates[i:][one], stamps[i:][one], bounds[i:][one])
        for i in range(48)
    ]
    assert _rh_total(files[::-1]) == pytest.approx(_hand(rates, "noleap"), rel=1e-6)  # given in any order


def test_one_file_per_year_of_yearly_means_is_still_read_as_yearly(tmp_path):
    from tests.test_audit11_trendy import _yearly_means

    rates = _rates()
    yearly = _yearly_means(rates)
    stamps = np.arange(4) * 365.0 + 182.5
    files = [_rh_part(tmp_path / f"rh_{2000 + i}.nc", yearly[i : i + 1], stamps[i : i + 1]) for i in range(4)]
    assert _rh_total(files) == pytest.approx(_hand(rates, "noleap"), rel=1e-6)


def test_a_yearly_file_then_monthly_files_is_refused_saying_the_steps_differ(tmp_path):
    """Before: 'overlap between consecutive files ... 2001-07 then 2002-01' (the cause wrong)."""
    from rhbench.errors import TimeAxisError
    from tests.test_audit11_trendy import _yearly_means

    rates = _rates()
    stamps, _ = _time_axis("noleap")
    yearly = _rh_part(tmp_path / "rh_2000-2001.nc", _yearly_means(rates)[:2], np.arange(2) * 365.0 + 182.5)
    monthly = _rh_part(tmp_path / "rh_2002-2003.nc", rates[24:], stamps[24:])
    with pytest.raises(TimeAxisError, match="files of a series have different time steps") as info:
        _rh_total([yearly, monthly])
    assert "rh_2000-2001.nc: yearly, rh_2002-2003.nc: monthly" in str(info.value)
