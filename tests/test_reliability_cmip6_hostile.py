"""Third audit: hostile variants of the REAL CMIP6 sample (ACCESS-ESM1-5, CMOR, 10 degrees).

Rh is the sample's gpp x 0.5 (kg m-2 s-1) renamed ``rh``; the fx files are the sample's own
(sftlf in %, native areacella). Every total is checked against an independent numpy
calculation: Pg C yr-1 = mean over years of sum(day-weighted annual mean flux x areacella x
sftlf / 100) x 365.25 x 86400 / 1e12 (kg -> Pg). Each test failed before its fix
(docs/trust-cases.md, "Third audit").
"""

from __future__ import annotations

import calendar
import shutil
import warnings
from pathlib import Path

import cftime
import numpy as np
import pytest
import xarray as xr
from conftest import shared_data_path

from rhbench import cmip6, grid, harmonize, kernels, loader, readers, reduce
from rhbench.errors import CoordinateError, TimeAxisError, ValueRangeError

pytestmark = pytest.mark.shared_data

MODEL = "HOSTILE-ESM"
SECONDS_PER_YEAR = 365.25 * 86400.0
TIME_UNITS = "days since 1850-01-01"


def _sample(name: str) -> Path:
    return shared_data_path(
        "cmip6-sample", f"{name}_ACCESS-ESM1-5_historical_r1i1p1f1_gn{'' if 'fx' in name else '_200001-201412'}.nc"
    )


def _file(folder: Path, var: str, table: str = "Lmon", period: str | None = "200001-201412") -> Path:
    tail = f"_{period}" if period else ""
    return folder / f"{var}_{table}_{MODEL}_historical_r1i1p1f1_gn{tail}.nc"


def _rh() -> xr.Dataset:
    """The sample's gpp x 0.5 as ``rh`` (kg m-2 s-1), times undecoded, no fill encoding."""
    with xr.open_dataset(_sample("gpp_Lmon"), decode_times=False) as ds:
        ds = ds.load().rename(gpp="rh")
    ds["rh"] = (ds["rh"] * 0.5).astype("float32").assign_attrs(ds["rh"].attrs)
    ds["rh"].encoding = {}
    return ds


def _measures() -> tuple[np.ndarray, np.ndarray]:
    """(land fraction 0-1, areacella m2) of the sample."""
    with xr.open_dataset(_sample("sftlf_fx")) as s, xr.open_dataset(_sample("areacella_fx")) as a:
        return s["sftlf"].values / 100.0, a["areacella"].values.astype(float)


def _hand_total(monthly: np.ndarray, years: range = range(2000, 2015)) -> float:
    """Pg C yr-1 by hand: day-weighted annual means (standard calendar) x area x land fraction."""
    land, area = _measures()
    totals = []
    for i, year in enumerate(years):
        days = np.array([calendar.monthrange(year, m)[1] for m in range(1, 13)], float)
        annual = np.tensordot(days / days.sum(), np.asarray(monthly[12 * i : 12 * i + 12], float), axes=1)
        totals.append(np.nansum(annual * area * land) * SECONDS_PER_YEAR / 1e12)
    return float(np.mean(totals))


def _folder(tmp_path: Path, rh: xr.Dataset, encoding: dict | None = None, *, sftlf: xr.Dataset | None = None) -> Path:
    folder = tmp_path / "cmip6"
    folder.mkdir(parents=True, exist_ok=True)
    rh.to_netcdf(_file(folder, "rh"), encoding={"rh": encoding or {"_FillValue": None}})
    if sftlf is None:
        shutil.copyfile(_sample("sftlf_fx"), _file(folder, "sftlf", "fx", None))
    else:
        sftlf.to_netcdf(_file(folder, "sftlf", "fx", None))
    shutil.copyfile(_sample("areacella_fx"), _file(folder, "areacella", "fx", None))
    return folder


def _rh_global(folder: Path, period: tuple[int, int] = (2000, 2014)) -> tuple[float, str]:
    """The model's native rh_global (Pg C yr-1) as a run computes it, and the years used."""
    (source,) = cmip6.discover(folder)
    annual, cells = harmonize.load_native(source, None)
    products = reduce.reduce_native(annual, cells, grid.common_grid(4.0), period)
    regions = products.regions
    return float(regions["rh_total"].sel(region="global")), str(regions.attrs["period_years"])


def _annual_means() -> list[np.ndarray]:
    """The sample's rh (gpp x 0.5) as day-weighted annual means of 2000-2014 (kg m-2 s-1), by hand."""
    monthly = _rh()["rh"].values.astype(float)
    annual = []
    for i in range(15):
        days = np.array([calendar.monthrange(2000 + i, m)[1] for m in range(1, 13)], float)
        annual.append(np.tensordot(days / days.sum(), monthly[12 * i : 12 * i + 12], axes=1))
    return annual


def _time_axis(stamp: str) -> tuple[np.ndarray, np.ndarray]:
    """Monthly 2000-2014 time values (``stamp``: "end" of each month, or "mid") and bounds."""
    starts = [cftime.datetime(2000 + i // 12, i % 12 + 1, 1, calendar="standard") for i in range(181)]
    edges = cftime.date2num(starts, TIME_UNITS, "standard")
    bounds = np.stack([edges[:-1], edges[1:]], axis=1)
    return (bounds[:, 1] if stamp == "end" else bounds.mean(axis=1)), bounds


@pytest.mark.filterwarnings("ignore:areacella")
def test_packed_int16_rh_whose_zeros_decode_slightly_negative_is_read_to_the_hand_total(tmp_path):
    """int16 with scale_factor/add_offset: the sample's zero-flux land cells decode to about
    -1e-13 kg m-2 s-1 (half a packing step). Before: '51.6% of values negative', source failed."""
    rh = _rh()
    values = rh["rh"].values
    low, high = np.nanmin(values), np.nanmax(values)
    scale, offset = (high - low) / 65000.0, (high + low) / 2.0
    encoding = {"dtype": "int16", "scale_factor": scale, "add_offset": offset, "_FillValue": np.int16(-32768)}
    folder = _folder(tmp_path, rh, encoding)
    with xr.open_dataset(_file(folder, "rh")) as decoded:  # what the file holds, decoded by netCDF rules
        packed = decoded["rh"].values
    assert np.nanmin(packed) < 0  # the rounding the check must tolerate
    total, years = _rh_global(folder)
    assert total == pytest.approx(_hand_total(packed), rel=1e-6) and years == "2000-2014"


@pytest.mark.filterwarnings("ignore:areacella")
@pytest.mark.parametrize("split", [False, True])
def test_time_stamps_at_the_end_of_each_month_are_labelled_by_their_bounds(tmp_path, split):
    """Stamps at the end of the averaging interval (2000-02-01 00:00 for January, as CESM/CLM
    history files write) with CF time bounds. Before: labelled one month late, so the file
    failed with 'incomplete years' (and a split series failed the same way)."""
    rh = _rh()
    stamps, bounds = _time_axis("end")
    rh = rh.assign_coords(time=("time", stamps, {"units": TIME_UNITS, "calendar": "standard", "bounds": "time_bnds"}))
    rh["time_bnds"] = (("time", "bnds"), bounds)
    folder = _folder(tmp_path, rh)
    if split:
        _file(folder, "rh").unlink()
        rh.isel(time=slice(0, 96)).to_netcdf(_file(folder, "rh", period="200001-200712"))
        rh.isel(time=slice(96, None)).to_netcdf(_file(folder, "rh", period="200801-201412"))
    total, years = _rh_global(folder)
    assert total == pytest.approx(_hand_total(_rh()["rh"].values), rel=1e-6) and years == "2000-2014"


@pytest.mark.filterwarnings("ignore:areacella")
def test_yearly_stamps_at_the_end_of_each_year_are_not_shifted_a_year_when_bounds_say_so(tmp_path):
    """Annual means stamped 2001-01-01 for the year 2000, with bounds. Before: silently read as
    2001-2015, so the 2000-2014 mean used 14 shifted years (exit 0, a different total)."""
    annual = _annual_means()
    starts = cftime.date2num([cftime.datetime(2000 + i, 1, 1) for i in range(16)], TIME_UNITS, "standard")
    time = ("time", starts[1:], {"units": TIME_UNITS, "calendar": "standard", "bounds": "time_bnds"})
    rh = _rh().isel(time=slice(0, 15)).drop_vars(["time_bnds", "rh"]).assign_coords(time=time)
    rh["rh"] = (("time", "lat", "lon"), np.array(annual, dtype="float32"), {"units": "kg m-2 s-1"})
    rh["time_bnds"] = (("time", "bnds"), np.stack([starts[:-1], starts[1:]], axis=1))
    folder = _folder(tmp_path, rh)
    _file(folder, "rh").rename(_file(folder, "rh", "Eyr", "2000-2014"))
    land, area = _measures()
    hand = np.mean([np.nansum(a * area * land) for a in annual]) * SECONDS_PER_YEAR / 1e12
    total, years = _rh_global(folder)
    assert years == "2000-2014" and total == pytest.approx(hand, rel=1e-5)


@pytest.mark.parametrize("named", [True, False])
def test_yearly_stamps_at_the_end_of_each_year_without_bounds_are_read_by_the_years_the_file_names(tmp_path, named):
    """T10: annual means stamped 2001-01-01 for 2000, NO bounds, file named _2000-2014 (CMOR's DRS). Before:
    silently read as 2001-2015 (exit 0). Now the file name decides, and the decision is recorded; a file
    whose name gives no years (and a CMIP6 source declares no period) fails naming the file."""
    annual = _annual_means()
    ends = cftime.date2num([cftime.datetime(2001 + i, 1, 1) for i in range(15)], TIME_UNITS, "standard")
    time = ("time", ends, {"units": TIME_UNITS, "calendar": "standard"})
    rh = _rh().isel(time=slice(0, 15)).drop_vars(["time_bnds", "rh"]).assign_coords(time=time)
    rh["rh"] = (("time", "lat", "lon"), np.array(annual, dtype="float32"), {"units": "kg m-2 s-1"})
    folder = _folder(tmp_path, rh)
    _file(folder, "rh").rename(_file(folder, "rh", "Eyr", "2000-2014" if named else None))
    if not named:
        with pytest.raises(TimeAxisError, match="cannot tell whether each stamp starts its year") as info:
            _rh_global(folder)
        assert "rh_Eyr_HOSTILE-ESM" in str(info.value)
        return
    land, area = _measures()
    hand = np.mean([np.nansum(a * area * land) for a in annual]) * SECONDS_PER_YEAR / 1e12
    (source,) = cmip6.discover(folder)
    loaded, cells = harmonize.load_native(source, None)
    regions = reduce.reduce_native(loaded, cells, grid.common_grid(4.0), (2000, 2014)).regions
    assert float(regions["rh_total"].sel(region="global")) == pytest.approx(hand, rel=1e-5)
    assert regions.attrs["period_years"] == "2000-2014"
    assert (
        "END of each year" in regions.attrs["time_stamps"]
        and "file name says 2000-2014" in regions.attrs["time_stamps"]
    )


@pytest.mark.parametrize(("units", "scale", "found"), [("1", 1.0, "max 100"), ("%", 0.01, "max 0.01")])
def test_a_land_fraction_off_by_100_is_refused_naming_the_sftlf_file(tmp_path, units, scale, found):
    """sftlf in % labelled '1' was clipped to 1 silently (rh_global +5.7 %, exit 0); a 0-1
    fraction labelled '%' was taken as 1 % land and failed only later as an implausible
    rh_global that did not name sftlf."""
    with xr.open_dataset(_sample("sftlf_fx")) as original:
        sftlf = original.load()
    sftlf["sftlf"] = (sftlf["sftlf"] * scale).assign_attrs(sftlf["sftlf"].attrs, units=units)
    folder = _folder(tmp_path, _rh(), sftlf=sftlf)
    with pytest.raises(ValueRangeError) as info:
        _rh_global(folder)
    text = str(info.value)
    assert "sftlf_fx_" in text and "variable: sftlf" in text and found in text and "expected:" in text


def test_a_fraction_stored_as_a_fraction_or_in_percent_reads_the_same(tmp_path):
    with xr.open_dataset(_sample("sftlf_fx")) as original:
        sftlf = original.load()
    sftlf["sftlf"] = (sftlf["sftlf"] / 100).assign_attrs(sftlf["sftlf"].attrs, units="1")
    (source,) = cmip6.discover(_folder(tmp_path, _rh(), sftlf=sftlf))
    fraction = loader.open_variable(source, "sftlf", source.files["sftlf"]).compute()
    np.testing.assert_allclose(np.sort(fraction.values.ravel()), np.sort(_measures()[0].ravel()), rtol=1e-6)


def test_a_variable_whose_name_differs_only_in_case_is_read(tmp_path):
    """A TRENDY-style file holding 'RH' for rh. Before: 'variable not in file', source failed."""
    rh = _rh().rename(rh="RH")
    rh.to_netcdf(tmp_path / "model_rh.nc")
    (source,) = cmip6.discover(_folder(tmp_path, _rh()))
    data = loader.open_variable(source, "rh", tmp_path / "model_rh.nc").compute()
    reference = loader.open_variable(source, "rh", source.files["rh"]).compute()
    np.testing.assert_array_equal(data.values, reference.values)


def test_opening_the_real_contiguous_cmip6_file_prints_no_chunk_warning():
    """xarray's 'specified chunks separate the stored chunks' UserWarning reached stderr on
    every run of real (contiguous) CMIP6 files, even under -q."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        readers.open_file(_sample("gpp_Lmon"), variable="gpp").close()
    assert not [w for w in caught if "stored chunks" in str(w.message)]


@pytest.mark.filterwarnings("ignore:areacella")
def test_a_one_row_grid_gets_its_cell_measures_and_fails_only_where_it_cannot_be_regridded(tmp_path):
    """A model cut to one latitude row: its areacella/sftlf of the same row were refused ('cell
    measure not on the data's grid (lat)': length-1 lat squeezed away). Now the native total
    is the hand total; only putting a one-row grid on the common grid fails, naming the file."""
    from rhbench.pipeline import Native, _reduced
    from rhbench.results import Failures

    row = {"lat": [9], "lon": [2, 3]}
    folder = tmp_path / "cmip6"
    folder.mkdir()
    _rh().isel(row).to_netcdf(_file(folder, "rh"), encoding={"rh": {"_FillValue": None}})
    for name in ("sftlf_fx", "areacella_fx"):
        with xr.open_dataset(_sample(name)) as ds:
            ds.isel(row).to_netcdf(_file(folder, name.split("_")[0], "fx", None))
    (source,) = cmip6.discover(folder)
    annual, cells = harmonize.load_native(source, None)
    cells = cells.resolved(annual.compute())
    land, area = _measures()
    assert cells.land.shape == (1, 2)
    np.testing.assert_allclose(cells.land.values, land[np.ix_([9], [2, 3])], rtol=1e-6)
    np.testing.assert_allclose(cells.area.values, area[np.ix_([9], [2, 3])], rtol=1e-6)
    failures = Failures()
    native = Native(vegclass=None, land_mask=None)
    assert _reduced(source, None, grid.common_grid(4.0), native, None, (2000, 2014), failures) is None
    reason = failures.get(source.name) or ""
    assert "single lat" in reason and str(_file(folder, "rh")) in reason, reason


def test_an_incomplete_first_year_is_named_in_the_error():
    data = xr.DataArray(
        np.ones(18),
        dims="time",
        name="rh",
        coords={"year": ("time", [2000] * 6 + [2001] * 12), "month": ("time", [*range(7, 13), *range(1, 13)])},
    )
    with pytest.raises(TimeAxisError) as info:
        kernels.month_shares(data)
    assert "2000 has 6" in str(info.value) and "first step 2000-07" in str(info.value)


@pytest.mark.filterwarnings("ignore:areacella")
def test_csoil_given_only_as_cmip6_soil_pools_is_their_sum(tmp_path):
    """CMIP6 cSoilPools (Emon, kg m-2 per pool; cSoil is their sum) without a cSoil file: the
    model's turnover rows were skipped ('no cSoil variable'). Pools 2, 3, 5 kg m-2 on the
    cells where rh has values: cSoil 10 kg m-2 there, total by hand = sum(10 x area x land)."""
    rh = _rh()
    folder = _folder(tmp_path, rh)
    valid = np.isfinite(rh["rh"].values)
    pools = np.stack([np.where(valid, p, np.nan) for p in (2.0, 3.0, 5.0)], axis=1).astype("float32")
    ds = rh.drop_vars("rh")
    ds["cSoilPools"] = (("time", "soilpools", "lat", "lon"), pools, {"units": "kg m-2"})
    ds.to_netcdf(_file(folder, "cSoilPools", "Emon"))
    (source,) = cmip6.discover(folder)
    assert source.variables["cSoil"].file_name == "cSoilPools"
    annual, cells = harmonize.load_native(source, None)
    regions = reduce.reduce_native(annual, cells, grid.common_grid(4.0), (2000, 2014)).regions
    land, area = _measures()
    hand = np.mean([np.nansum(np.where(v, 10.0, np.nan) * area * land) for v in valid[::12]]) / 1e12  # kg -> Pg
    assert float(regions["csoil_total"].sel(region="global")) == pytest.approx(hand, rel=1e-6)


@pytest.mark.parametrize("where", ["inside", "same"])
def test_force_never_deletes_cmip6_model_files_kept_in_the_output_folder(tmp_path, demo_root, where):
    """A user kept model files in a previous run's folder (OUT/mymodel) and ran
    ``rhbench run --cmip6 OUT/mymodel --out OUT --force``: the run replaced OUT, deleting
    the model files (exit 0). CMIP6 inputs are now protected like the data root."""
    from rhbench.config import RunConfig
    from rhbench.errors import OutputExistsError
    from rhbench.outdir import MARKER
    from rhbench.pipeline import run

    folder = _folder(tmp_path / "previous-run" / "mymodel", _rh())  # OUT/mymodel/cmip6
    out = folder.parents[1] if where == "inside" else folder
    (out / MARKER).write_text('{"written_by": "rhbench"}\n')
    before = sorted(p.name for p in folder.iterdir())
    config = RunConfig(data_root=demo_root, out=out, resolution=4.0, cmip6=(folder,), force=True, demo=False)
    with pytest.raises(OutputExistsError) as info:
        run(config)
    assert "CMIP6" in str(info.value) and str(folder) in str(info.value)
    assert sorted(p.name for p in folder.iterdir()) == before


def test_a_cmip6_model_without_any_benchmarked_variable_is_named_with_what_it_has(caplog):
    """The real sample (gpp, tas, pr, fx only): ``--models ACCESS-ESM1-5.r1i1p1f1`` said only
    'unknown model names', never that the folder's model has no rh/cSoil/... file."""
    with caplog.at_level("WARNING", logger="rhbench.cmip6"):
        assert cmip6.discover(shared_data_path("cmip6-sample")) == []
    (message,) = [r.getMessage() for r in caplog.records if "ACCESS-ESM1-5" in r.getMessage()]
    assert "no variable rhbench benchmarks" in message and "gpp" in message and "rh" in message


@pytest.mark.filterwarnings("ignore:areacella")
def test_cell_measures_match_data_whose_latitudes_differ_by_rounding_only(tmp_path):
    """Data latitudes stored float32 with 1e-5 degree noise (fx files exact float64): the
    same 10-degree grid. Before: 'cell measure not on the data's grid (lat)' (np.allclose
    with an absolute 1e-8 at the equator), the model failed."""
    rh = _rh()
    noisy = (rh["lat"] + np.where(rh["lat"] > 0, 1e-5, -1e-5)).astype("float32")
    total, _ = _rh_global(_folder(tmp_path, rh.assign_coords(lat=noisy)))
    assert total == pytest.approx(_hand_total(_rh()["rh"].values), rel=1e-6)


def test_cell_measures_on_another_grid_are_refused_naming_their_file_and_the_offset(tmp_path):
    folder = _folder(tmp_path, _rh())
    area = _file(folder, "areacella", "fx", None)
    with xr.open_dataset(area) as ds:
        # squeezed towards the equator, the poles 4.5 degrees off (shifted by +5, the grid would pass 90 N:
        # refused earlier as "latitudes outside -90..90", naming the file too: audit 11)
        shifted = ds.load().assign_coords(lat=ds["lat"] * 0.95)
    shifted.to_netcdf(area)
    (source,) = cmip6.discover(folder)
    with pytest.raises(CoordinateError) as info:
        harmonize.load_native(source, None)
    text = str(info.value)
    assert "areacella not on the data's grid: lat differs by up to 4.5 degrees" in text and str(area) in text


def test_a_real_data_root_without_a_land_fraction_is_warned_about(tmp_path, caplog):
    """A CMIP6 model without sftlf on a data root without the land-fraction file counted every
    coastal cell as all land: rh_global 1.3173 instead of 1.2462 (+5.7 %), silently under -q
    (the fallback was logged at INFO). Real data now gets a WARNING; a demo root does not."""
    from rhbench.pipeline import _land_mask
    from rhbench.registry import build_registry

    registry = build_registry()
    with caplog.at_level("WARNING", logger="rhbench.pipeline"):
        assert _land_mask(registry, tmp_path, synthetic=True) is None
        assert not caplog.records
        assert _land_mask(registry, tmp_path, synthetic=False) is None
    assert "no land fraction in the data root" in caplog.text and "run high at coasts" in caplog.text
    caplog.clear()
    with caplog.at_level("WARNING", logger="rhbench.pipeline"):
        root = shared_data_path("srdb", "fractional_land.0.5-deg.nc").parents[1]
        assert _land_mask(registry, root, synthetic=False) is not None
    assert not caplog.records


@pytest.mark.filterwarnings("ignore:areacella")
def test_a_time_axis_read_one_year_late_shows_in_the_first_and_last_year_rows(tmp_path):
    """The sample with 'days since 1851-01-01' (one year late): rh_global within 0.03 % of the
    true one, so only the years can show it. Rows first_year / last_year: 2001 / 2015."""
    from rhbench.metrics.coverage import coverage_rows

    rh = _rh()
    rh["time"].attrs["units"] = "days since 1851-01-01"
    (source,) = cmip6.discover(_folder(tmp_path, rh))
    annual, cells = harmonize.load_native(source, None)
    attrs = reduce.reduce_native(annual, cells, grid.common_grid(4.0), (2000, 2014)).regions.attrs
    rows = {r.metric: r for r in coverage_rows(source.name, "dgvm", xr.Dataset(attrs=attrs), None, None, None)}
    assert (rows["first_year"].value, rows["last_year"].value) == (2001.0, 2015.0)
    assert rows["period_coverage"].value == pytest.approx(14 / 15)


@pytest.mark.shared_data
def test_a_cmip6_folder_without_a_benchmarked_model_is_refused_not_replaced_by_the_trendy_plugins(tmp_path, demo_root):
    """``--cmip6`` on the real sample (gpp, tas, pr, fx only): the run fell back to the 17
    TRENDY plugins and failed each (exit 3, 18 errors). It is a configuration error naming
    the folder and what is expected (exit 2)."""
    from rhbench.cli import main

    sample = shared_data_path("cmip6-sample")
    code = main(["-q", "run", "--data-root", str(demo_root), "--cmip6", str(sample), "--out", str(tmp_path / "o")])
    assert code == 2 and not (tmp_path / "o").exists()


def test_without_a_models_selection_a_cmip6_run_benchmarks_the_cmip6_models_found(tmp_path):
    """Pointing at CMIP6 files benchmarks those models, not also every TRENDY plugin; an
    explicit ``models`` selection is kept as given."""
    from rhbench.config import RunConfig
    from rhbench.selection import cmip6_models as _cmip6_models

    folder = _folder(tmp_path, _rh())
    found = cmip6.discover(folder)
    config = _cmip6_models(RunConfig(cmip6=(folder,)), found)
    assert config.models == tuple(s.name for s in found) and len(found) == 1
    chosen = RunConfig(cmip6=(folder,), models=("CLM5.0",))
    assert _cmip6_models(chosen, found).models == ("CLM5.0",)
    assert _cmip6_models(RunConfig(), []).models is None  # no CMIP6: unchanged
