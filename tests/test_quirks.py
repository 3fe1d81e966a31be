"""TRENDY file quirks: each on a small file that has it, loaded through harmonize.load_source.

Every test writes its own tiny file(s) and an intake-2 catalog into ``tmp_path`` and
checks the loaded values against numbers computed by hand. The last tests check that the
SYNTHETIC demo generator writes every quirk of :data:`rhbench.sources.QUIRKS` and that
its files load back to the generator's truth.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import cftime
import netCDF4
import numpy as np
import pytest
import xarray as xr
import yaml

from rhbench import catalog, grid, harmonize, loader
from rhbench.demo import generate_demo
from rhbench.demo import world as demo_world
from rhbench.metrics.suite import Reference, evaluate
from rhbench.metrics.totals import global_total
from rhbench.registry import Registry, build_registry
from rhbench.sources import QUIRKS, Source, Var

RES = 45.0  # common grid 4 x 8 cells: lat -67.5..67.5, lon -157.5..157.5
TARGET = grid.common_grid(RES)
DAYS_STANDARD_1901 = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])
# Sum over months of (month number x days in month) for a 365-day year: 2382 (hand sum).
MONTH_DAY_PRODUCT = 31 + 56 + 93 + 120 + 155 + 180 + 217 + 248 + 270 + 310 + 330 + 372


@pytest.fixture(autouse=True)
def _private_cache(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv(loader.CACHE_ENV, str(tmp_path / "cache"))


def _catalog(tmp_path: Path, name: str, files: dict[str, str], kind: str = "dgvm") -> None:
    """Write ``tmp_path/quirky.yaml``: an intake-2 catalog with one entry, as catalogs/*.yaml."""
    document = {
        "version": 2,
        "aliases": {},
        "metadata": {"description": "test catalog"},
        "user_parameters": {},
        "data": {},
        "entries": {
            name: {
                "reader": "intake.readers.readers:XArrayDatasetReader",
                "output_instance": "xarray:Dataset",
                "kwargs": {
                    "args": [f"{{data_root}}/{next(iter(files.values()))}"],
                    "open_local": True,
                    "engine": "netcdf4",
                },
                "metadata": {"kind": kind, "citation": "test", "files": files},
                "user_parameters": {},
            }
        },
    }
    (tmp_path / "quirky.yaml").write_text(yaml.safe_dump(document))


def _source(
    tmp_path: Path, variables: dict[str, Var], *, quirks: tuple[str, ...] = (), name: str = "TOY", kind: str = "dgvm"
) -> Source:
    files = {v: f"{name}/{name}_{v}.nc{'.gz' if 'gzip' in quirks else ''}" for v in variables}
    _catalog(tmp_path, name, files, kind)
    source = Source(
        name=name,
        kind=kind,
        catalog_entry=f"quirky.{name}",
        variables=variables,
        citation="test",
        quirks=frozenset(quirks),
        catalog_dir=tmp_path,
    )
    source.validate()
    return source


def _file(tmp_path: Path, source: Source, variable: str) -> Path:
    suffix = ".nc.gz" if "gzip" in source.quirks else ".nc"
    return tmp_path / "data" / source.name / f"{source.name}_{variable}{suffix}"


def _write(
    path: Path,
    name: str,
    values: np.ndarray,
    units: str,
    *,
    lat=None,
    lon=None,
    time=None,
    time_attrs=None,
    lat_name="lat",
    lon_name="lon",
    fill=None,
) -> None:
    """Write a raw netCDF file by hand (no rhbench code), exactly as given."""
    lat = TARGET.lat.values if lat is None else np.asarray(lat)
    lon = TARGET.lon.values if lon is None else np.asarray(lon)
    dims = (("time",) if time is not None else ()) + (lat_name, lon_name)
    coords = {
        lat_name: (lat_name, lat, {"units": "degrees_north"}),
        lon_name: (lon_name, lon, {"units": "degrees_east"}),
    }
    if time is not None:
        coords["time"] = ("time", np.asarray(time, dtype=float), time_attrs)
    ds = xr.Dataset({name: (dims, values, {"units": units})}, coords=coords)
    path.parent.mkdir(parents=True, exist_ok=True)
    encoding = {
        name: {"_FillValue": fill, "dtype": "float32"},
        "time": {"_FillValue": None},
        lat_name: {"_FillValue": None},
        lon_name: {"_FillValue": None},
    }
    ds.to_netcdf(path, encoding={k: v for k, v in encoding.items() if k in ds.variables})


def _flux_source(tmp_path: Path, *, units: str = "g C m-2 yr-1", **kwargs) -> Source:
    return _source(tmp_path, {"rh": Var("rh", units)}, **kwargs)


def _load(source: Source, tmp_path: Path) -> xr.Dataset:
    return harmonize.load_source(source, tmp_path / "data", TARGET).compute()


def _ones(n_time: int | None = None) -> np.ndarray:
    shape = (TARGET.lat.size, TARGET.lon.size)
    return np.ones(shape if n_time is None else (n_time, *shape))


# --- time units and reference dates ---------------------------------------------------------


@pytest.mark.parametrize(
    ("units", "calendar", "values"),
    [
        # 1 July of 1901, 1902, 1903 counted from 1 Jan 1850 (standard): 18627 + 181 (hand count)
        ("days since 1850-01-01", "standard", [18808.0, 19173.0, 19538.0]),
        # the same instants in hours since 1860-01-01 00:00:00: (14975 + 181) days x 24
        ("hours since 1860-01-01 00:00:00", "standard", [363744.0, 372504.0, 381264.0]),
        # mid-year in months since 1901-1-1 (cftime cannot decode months)
        ("months since 1901-1-1", "standard", [6.0, 18.0, 30.0]),
        # VISIT: cftime cannot parse this reference date at all
        ("years since AD 1700-Jan-1st", "standard", [201.5, 202.5, 203.5]),
        # noleap, days since year 1: 1900 x 365 + 181
        ("days since 0001-01-01", "noleap", [693681.0, 694046.0, 694411.0]),
    ],
)
def test_yearly_time_axis_in_any_unit_decodes_to_1901_1903(tmp_path, units, calendar, values) -> None:
    source = _flux_source(tmp_path)
    data = np.stack([_ones() * k for k in (100.0, 200.0, 300.0)])
    _write(
        _file(tmp_path, source, "rh"),
        "rh",
        data,
        "g C m-2 yr-1",
        time=values,
        time_attrs={"units": units, "calendar": calendar},
    )
    rh = _load(source, tmp_path)["rh"]
    assert rh["year"].values.tolist() == [1901, 1902, 1903]
    assert rh.sel(year=1902).values == pytest.approx(np.full((4, 8), 200.0))


def test_visit_monthly_years_since_ad_labels_every_month(tmp_path) -> None:
    source = _flux_source(tmp_path)
    values = 201.0 + (np.arange(24) + 0.5) / 12.0  # mid-months of 1901-1902
    _write(
        _file(tmp_path, source, "rh"),
        "rh",
        _ones(24),
        "g C m-2 yr-1",
        time=values,
        time_attrs={"units": "years since AD 1700-Jan-1st", "calendar": "standard"},
    )
    opened = loader.open_variable(source, "rh", _file(tmp_path, source, "rh"))
    assert opened["year"].values.tolist() == [1901] * 12 + [1902] * 12
    assert opened["month"].values.tolist() == list(range(1, 13)) * 2


# --- calendars: annual means weighted by days in month ---------------------------------------


@pytest.mark.parametrize(
    ("calendar", "expected"),
    [
        ("standard", (MONTH_DAY_PRODUCT + 2) / 366.0),  # 1904 is a leap year: February has 29 days
        ("noleap", MONTH_DAY_PRODUCT / 365.0),  # 2382 / 365 = 6.52603
        ("360_day", 6.5),  # all months 30 days: plain mean of 1..12
    ],
)
def test_annual_mean_weights_months_by_their_days_in_the_calendar(tmp_path, calendar, expected) -> None:
    source = _flux_source(tmp_path)
    dates = [cftime.datetime(1904, m, 15, calendar=calendar) for m in range(1, 13)]
    time = cftime.date2num(dates, "days since 1900-01-01", calendar=calendar)
    monthly = np.stack([_ones() * m for m in range(1, 13)])  # month m holds the value m
    _write(
        _file(tmp_path, source, "rh"),
        "rh",
        monthly,
        "g C m-2 yr-1",
        time=time,
        time_attrs={"units": "days since 1900-01-01", "calendar": calendar},
    )
    rh = _load(source, tmp_path)["rh"]
    assert rh["year"].values.tolist() == [1904]
    assert float(rh.isel(year=0, lat=0, lon=0)) == pytest.approx(expected, rel=1e-6)


def test_monthly_kg_per_second_converts_to_annual_grams_per_year(tmp_path) -> None:
    source = _flux_source(tmp_path, units="kg m-2 s-1")
    time = np.cumsum(DAYS_STANDARD_1901) - DAYS_STANDARD_1901 / 2  # mid-months of 1901
    _write(
        _file(tmp_path, source, "rh"),
        "rh",
        _ones(12) * 1e-8,
        "kg m-2 s-1",
        time=time,
        time_attrs={"units": "days since 1901-01-01", "calendar": "standard"},
    )
    rh = _load(source, tmp_path)["rh"]
    # 1e-8 kg/s = 1e-5 g/s; a Julian year of 365.25 d = 31,557,600 s -> 315.576 g C m-2 yr-1
    assert float(rh.isel(year=0, lat=1, lon=1)) == pytest.approx(315.576, rel=1e-6)


# --- coordinates -----------------------------------------------------------------------------


def _pattern(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """A positive value that identifies each cell: 1000 (lat + 90) + (lon + 180), lon in -180..180."""
    wrapped = (lon + 180.0) % 360.0 - 180.0
    return 1000.0 * (lat[:, None] + 90.0) + (wrapped[None, :] + 180.0)


@pytest.mark.parametrize(
    ("lat", "lon", "names"),
    [
        (TARGET.lat.values, TARGET.lon.values, ("latitude", "longitude")),  # renamed coordinates
        (TARGET.lat.values, np.sort(TARGET.lon.values % 360.0), ("lat", "lon")),  # 22.5 .. 337.5
        (TARGET.lat.values[::-1], TARGET.lon.values, ("lat", "lon")),  # north to south
        (TARGET.lat.values[::-1], np.sort(TARGET.lon.values % 360.0), ("latitude", "longitude")),
    ],
    ids=["latitude_longitude", "lon_0_360", "lat_descending", "all_three"],
)
def test_coordinate_conventions_are_normalised_cell_by_cell(tmp_path, lat, lon, names) -> None:
    source = _source(tmp_path, {"cSoil": Var("cSoil", "kg m-2")})
    _write(
        _file(tmp_path, source, "cSoil"),
        "cSoil",
        _pattern(lat, lon),
        "kg m-2",
        lat=lat,
        lon=lon,
        lat_name=names[0],
        lon_name=names[1],
    )
    soil = _load(source, tmp_path)["cSoil"]
    assert soil.dims == ("lat", "lon")
    np.testing.assert_allclose(soil.values, _pattern(TARGET.lat.values, TARGET.lon.values), rtol=1e-6)
    # the cell at 67.5 N, 157.5 W holds 1000 * 157.5 + 22.5
    assert float(soil.sel(lat=67.5, lon=-157.5)) == pytest.approx(157522.5)


# --- fill values -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fill_in_data", "fill_attr"),
    [
        (1e20, None),  # TRENDY: 1e20 without a _FillValue attribute
        (-99999.0, None),  # -99999 without _FillValue
        (1e20, 1e20),  # a proper _FillValue
        (np.nan, None),  # NaN and no _FillValue at all
    ],
    ids=["1e20_no_attr", "-99999_no_attr", "1e20_attr", "nan_no_attr"],
)
def test_fill_values_become_missing_and_do_not_enter_totals(tmp_path, fill_in_data, fill_attr) -> None:
    source = _source(tmp_path, {"cSoil": Var("cSoil", "kg m-2")})
    values = _ones() * 5.0
    values[0, :] = fill_in_data  # the southern row is ocean
    _write(_file(tmp_path, source, "cSoil"), "cSoil", values, "kg m-2", fill=fill_attr)
    with netCDF4.Dataset(_file(tmp_path, source, "cSoil")) as raw:
        assert ("_FillValue" in raw["cSoil"].ncattrs()) == (fill_attr is not None)
    soil = _load(source, tmp_path)["cSoil"]
    assert int(soil.isnull().sum()) == 8
    area = grid.cell_area(TARGET.lat, TARGET.lon)
    expected_pg = 5.0 * float(area.isel(lat=slice(1, None)).sum()) * 1000.0 / 1e15
    assert float(global_total(soil, area, grams_per_unit=1000.0)) == pytest.approx(expected_pg)


# --- gzip ----------------------------------------------------------------------------------------


def test_gzipped_netcdf_is_read_through_a_cached_copy(tmp_path) -> None:
    source = _source(tmp_path, {"cSoil": Var("cSoil", "kg m-2")}, quirks=("gzip",))
    plain = tmp_path / "plain.nc"
    _write(plain, "cSoil", _ones() * 7.25, "kg m-2")
    packed = _file(tmp_path, source, "cSoil")
    packed.parent.mkdir(parents=True)
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    assert packed.read_bytes()[:2] == b"\x1f\x8b"
    soil = _load(source, tmp_path)["cSoil"]
    assert soil.values == pytest.approx(np.full((4, 8), 7.25))
    assert len(list((tmp_path / "cache" / "gunzip").glob("*.nc"))) == 1


# --- yearly pools beside monthly fluxes ------------------------------------------------------


def test_yearly_pools_and_monthly_fluxes_load_to_the_same_years(tmp_path) -> None:
    source = _source(tmp_path, {"rh": Var("rh", "g C m-2 yr-1"), "cSoil": Var("cSoil", "kg m-2")})
    attrs = {"units": "days since 1901-01-01", "calendar": "noleap"}
    month_mid = np.cumsum(DAYS_STANDARD_1901) - DAYS_STANDARD_1901 / 2
    monthly_time = np.concatenate([month_mid, month_mid + 365])
    monthly = np.concatenate([_ones(12) * 400.0, _ones(12) * 500.0])
    _write(_file(tmp_path, source, "rh"), "rh", monthly, "g C m-2 yr-1", time=monthly_time, time_attrs=attrs)
    _write(
        _file(tmp_path, source, "cSoil"),
        "cSoil",
        np.stack([_ones() * 12.0, _ones() * 12.5]),
        "kg m-2",
        time=[181.0, 546.0],
        time_attrs=attrs,
    )
    ds = _load(source, tmp_path)
    assert ds["rh"]["year"].values.tolist() == ds["cSoil"]["year"].values.tolist() == [1901, 1902]
    assert ds["rh"].sel(year=1902).values == pytest.approx(np.full((4, 8), 500.0))
    # turnover from the two: 12.5 kg = 12500 g over 500 g/yr = 25 yr
    tau = (ds["cSoil"] * 1000.0 / ds["rh"]).sel(year=1902)
    assert float(tau.mean()) == pytest.approx(25.0)


# --- litter in soil vs separate litter ------------------------------------------------------


def test_litter_in_soil_model_keeps_its_csoil(tmp_path) -> None:
    source = _source(tmp_path, {"cSoil": Var("cSoil", "kg m-2")}, quirks=("litter_in_soil",))
    _write(_file(tmp_path, source, "cSoil"), "cSoil", _ones() * 10.0, "kg m-2")
    soil = _load(source, tmp_path)["cSoil"]
    assert soil.attrs["includes_litter"] == 1
    assert soil.values == pytest.approx(np.full((4, 8), 10.0))


def test_separate_litter_is_added_to_csoil_exactly_once(tmp_path) -> None:
    source = _source(tmp_path, {"cSoil": Var("cSoil", "kg m-2"), "cLitter": Var("cLitter", "kg m-2")})
    _write(_file(tmp_path, source, "cSoil"), "cSoil", _ones() * 9.2, "kg m-2")
    _write(_file(tmp_path, source, "cLitter"), "cLitter", _ones() * 0.8, "kg m-2")
    first = _load(source, tmp_path)
    second = _load(source, tmp_path)  # loading again must not add litter twice
    for ds in (first, second):
        assert ds["cSoil"].values == pytest.approx(np.full((4, 8), 10.0))
        assert ds["cLitter"].values == pytest.approx(np.full((4, 8), 0.8))
        assert ds["cSoil"].attrs["includes_litter"] == 1


# --- a model missing a variable --------------------------------------------------------------


def _reference() -> Reference:
    area = grid.cell_area(TARGET.lat, TARGET.lon)
    rh = xr.DataArray(np.full((4, 8), 500.0), dims=("lat", "lon"), coords={"lat": TARGET.lat, "lon": TARGET.lon})
    soils = xr.concat([rh * 0 + 19.0, rh * 0 + 21.0], dim="product").assign_coords(product=["a", "b"])
    return Reference(rh=rh, csoil_products=soils, area=area)


def test_model_without_rh_is_skipped_with_a_reason_not_a_crash(tmp_path) -> None:
    source = _source(tmp_path, {"cSoil": Var("cSoil", "kg m-2"), "cVeg": Var("cVeg", "kg m-2")}, name="OCN-like")
    _write(_file(tmp_path, source, "cSoil"), "cSoil", _ones() * 20.0, "kg m-2")
    _write(_file(tmp_path, source, "cVeg"), "cVeg", _ones() * 4.0, "kg m-2")
    model = harmonize.load_source(source, tmp_path / "data", TARGET)
    assert sorted(model.data_vars) == ["cSoil", "cVeg"]
    results = evaluate(_reference(), {"OCN-like": model}, {})
    rows = {(r.metric, r.region): r for r in results.rows if r.source == "OCN-like"}
    for metric in ("rh_global", "tau_soil_global", "rh_taylor_r", "tau_bias_pct"):
        assert rows[(metric, "global")].status == "skipped"
        assert "no rh variable" in rows[(metric, "global")].reason
    # what it has is still benchmarked: 20 kg C m-2 over the whole Earth = 20 x 5.1e14 m2 = 10202 Pg C
    area_m2 = float(grid.cell_area(TARGET.lat, TARGET.lon).sum())
    assert rows[("csoil_global", "global")].status == "ok"
    assert rows[("csoil_global", "global")].value == pytest.approx(20.0 * area_m2 / 1e12)
    assert rows[("csoil_global", "global")].value == pytest.approx(10202.0, rel=1e-3)
    assert "OCN-like" not in results.failures


# --- the demo generator covers every quirk ---------------------------------------------------


def _raw_has_quirk(path: Path, variable: str, quirk: str) -> bool:
    """Whether a written file shows ``quirk``, read with netCDF4 (not with rhbench)."""
    if quirk == "gzip":
        return path.name.endswith(".nc.gz") and path.read_bytes()[:2] == b"\x1f\x8b"
    with netCDF4.Dataset(_plain(path)) as ds:
        ds.set_auto_mask(False)
        var, time = ds[variable], ds.variables.get("time")
        lat = ds["latitude" if "latitude" in ds.variables else "lat"][:]
        lon = ds["longitude" if "longitude" in ds.variables else "lon"][:]
        raw = np.asarray(var[:], dtype=float)
        checks = {
            "latitude_longitude_names": lambda: "latitude" in ds.dimensions,
            "lon_0_360": lambda: float(lon.max()) > 180.0,
            "lat_descending": lambda: float(lat[0]) > float(lat[-1]),
            "fill_1e20": lambda: "_FillValue" not in var.ncattrs() and np.isclose(raw.max(), 1e20),
            "fill_-99999": lambda: "_FillValue" not in var.ncattrs() and float(np.min(raw)) == -99999,
            "calendar_noleap": lambda: time.calendar == "noleap",
            "calendar_360_day": lambda: time.calendar == "360_day",
            "time_days_since": lambda: time.units.startswith("days since"),
            "time_hours_since": lambda: time.units.startswith("hours since"),
            "time_months_since": lambda: time.units.startswith("months since"),
            "time_years_since_ad": lambda: time.units == "years since AD 1700-Jan-1st",
        }
        return checks[quirk]()


@pytest.fixture(scope="module")
def monthly_demo(tmp_path_factory) -> tuple[Path, Registry]:
    """The SYNTHETIC demo's DGVM files at 10 degrees, monthly (so yearly pools differ)."""
    root = tmp_path_factory.mktemp("demo")
    dgvms = Registry(sources={s.name: s for s in build_registry().of_kind("dgvm")})
    generate_demo(root, resolution=10.0, monthly=True, registry=dgvms)
    return root, dgvms


def test_builtin_dgvm_plugins_declare_every_quirk() -> None:
    declared = set().union(*(s.quirks for s in build_registry().of_kind("dgvm")))
    assert declared == set(QUIRKS)


def test_demo_files_show_every_declared_quirk(monthly_demo) -> None:
    root, dgvms = monthly_demo
    shown: set[str] = set()
    for source in dgvms.of_kind("dgvm"):
        files = catalog.entry_for(source).files
        for quirk in source.quirks - {"pools_yearly", "litter_in_soil"}:
            for variable in ("rh", "cSoil"):
                assert _raw_has_quirk(root / files[variable], source.variables[variable].file_name, quirk), (
                    source.name,
                    variable,
                    quirk,
                )
            shown.add(quirk)
        with netCDF4.Dataset(_plain(root / files["cSoil"])) as soil, netCDF4.Dataset(_plain(root / files["rh"])) as rh:
            n_years = 2018 - 1901 + 1
            assert len(rh["time"]) == 12 * n_years
            expected_soil_steps = n_years if "pools_yearly" in source.quirks else 12 * n_years
            assert len(soil["time"]) == expected_soil_steps
        if "pools_yearly" in source.quirks:
            shown.add("pools_yearly")
        if source.litter_in_soil:
            assert "cLitter" not in files
            shown.add("litter_in_soil")
    assert shown == set(QUIRKS)


def _plain(path: Path) -> Path:
    if path.suffix != ".gz":
        return path
    target = path.with_name(path.name[:-3] + ".plain.nc")
    if not target.exists():
        target.write_bytes(gzip.decompress(path.read_bytes()))
    return target


def test_demo_files_load_back_to_the_generators_global_rh(monthly_demo) -> None:
    root, dgvms = monthly_demo
    truth = json.loads((root / "truth.json").read_text())["dgvm"]
    world = demo_world.build_world(10.0, 0)
    for source in dgvms.of_kind("dgvm"):
        path = root / catalog.entry_for(source).files["rh"]
        rh = harmonize.annual_mean(loader.open_variable(source, "rh", path))
        rh = grid.regrid_nearest(rh, world.land.to_dataset(name="land")).sel(year=slice(1982, 2018))
        land_area = grid.cell_area(world.land.lat, world.land.lon).where(world.land, 0.0)  # the model's own land
        total = float(global_total(rh.mean("year").compute(), land_area))
        assert total == pytest.approx(truth[source.name]["rh_global"], rel=1e-4), source.name
