"""Malformed inputs give typed errors naming source, file, variable, found and expected.

Every case writes a small file (30-degree grid, three annual steps) and opens it through
:func:`rhbench.loader.open_variable`, the catalog or the registry, as a run would.
Hand values: 400 g C m-2 yr-1 = 0.4 kg / (365.25 * 86400 s) = 1.26752e-8 kg m-2 s-1.
"""

from __future__ import annotations

import logging
import re
from importlib.metadata import EntryPoint
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from rhbench import catalog, config, harmonize, loader, registry, units, valuecheck
from rhbench.errors import (
    CatalogError,
    ConfigError,
    CoordinateError,
    DataError,
    MissingVariableError,
    PluginError,
    SiteDataError,
    TimeAxisError,
    UnitsError,
    ValueRangeError,
)
from rhbench.grid import common_grid
from rhbench.hookspecs import hookimpl
from rhbench.sources import Source, Var
from rhbench.upscaling.srdb import REQUIRED_COLUMNS, load_srdb, read_srdb

SECONDS_PER_YEAR = 365.25 * 86400.0
RH_KG_S = 0.4 / SECONDS_PER_YEAR  # 400 g C m-2 yr-1 in kg m-2 s-1
LAT = np.arange(-75.0, 90.0, 30.0)  # 6 rows
LON = np.arange(-165.0, 180.0, 30.0)  # 12 columns
TIME = np.array([182.5, 547.5, 912.5])  # mid-year days since 1901-01-01: 1901, 1902, 1903


def _source(**changes) -> Source:
    fields = dict(
        name="BadModel",
        kind="dgvm",
        catalog_entry="bad.BadModel",
        variables={"rh": Var("rh", "kg m-2 s-1"), "npp": Var("npp", "kg m-2 s-1"), "cSoil": Var("cSoil", "kg m-2")},
        citation="test",
    )
    fields.update(changes)
    return Source(**fields)


def _write(
    path: Path,
    values=None,
    *,
    name="rh",
    units_attr="kg m-2 s-1",
    lat=LAT,
    lon=LON,
    time=TIME,
    dims=("time", "lat", "lon"),
    encoding=None,
    fmt="NETCDF4",
) -> Path:
    if values is None:
        values = np.full((len(time), len(lat), len(lon)), RH_KG_S)
    attrs = {} if units_attr is None else {"units": units_attr}
    data = xr.DataArray(values, dims=dims, name=name, attrs=attrs)
    ds = data.to_dataset().assign_coords(
        {
            dims[1]: (dims[1], lat),
            dims[2]: (dims[2], lon),
            dims[0]: (dims[0], time, {"units": "days since 1901-01-01", "calendar": "noleap"}),
        }
    )
    ds.to_netcdf(path, encoding={name: encoding or {}}, format=fmt)
    return path


def _assert_names(exc: pytest.ExceptionInfo, *parts: str) -> None:
    message = str(exc.value)
    for part in parts:
        assert part in message, f"{part!r} not in {message!r}"


# --- units -----------------------------------------------------------------------------


def test_missing_units_attribute_falls_back_to_declared_units(tmp_path):
    path = _write(tmp_path / "rh.nc", units_attr=None)
    rh = loader.open_variable(_source(), "rh", path)
    assert rh.attrs["units"] == "gC m-2 yr-1"
    np.testing.assert_allclose(rh.values, 400.0, rtol=1e-12)


def test_missing_units_and_none_declared_is_a_units_error():
    data = xr.DataArray([1.0], dims="x", name="rh")
    with pytest.raises(UnitsError) as exc:
        units.convert(data, "gC m-2 yr-1", source="BadModel", file="rh.nc")
    _assert_names(exc, "no units attribute", "source: BadModel", "file: rh.nc", "variable: rh", "expected: gC m-2 yr-1")


def test_unparseable_units_name_source_file_variable_found_expected(tmp_path):
    path = _write(tmp_path / "rh.nc", units_attr="furlongs per fortnightz")
    with pytest.raises(UnitsError) as exc:
        loader.open_variable(_source(), "rh", path)
    _assert_names(
        exc,
        "unparseable units",
        "source: BadModel",
        f"file: {path}",
        "variable: rh",
        "furlongs per fortnightz",
        "expected: kg m-2 s-1",  # what the plugin declares (the file should say), not rhbench's internal unit
    )


def test_units_of_the_wrong_dimension_are_refused(tmp_path):
    path = _write(tmp_path / "rh.nc", units_attr="K")
    with pytest.raises(UnitsError) as exc:
        loader.open_variable(_source(), "rh", path)
    _assert_names(
        exc, "source: BadModel", f"file: {path}", "variable: rh", "found: 'K'", "'kg m-2 s-1'", "[temperature]"
    )


@pytest.mark.parametrize("factor, median", [(1000.0, 4.0e5), (1e-3, 0.4)])
def test_value_off_by_1000_warns_likely_units_error(tmp_path, caplog, factor, median):
    path = _write(tmp_path / "rh.nc", np.full((3, 6, 12), RH_KG_S * factor))
    with caplog.at_level(logging.WARNING, logger="rhbench.loader"):
        rh = loader.open_variable(_source(), "rh", path)
    np.testing.assert_allclose(rh.values, median, rtol=1e-9)
    (record,) = [r for r in caplog.records if "likely a units error" in r.getMessage()]
    message = record.getMessage()
    assert f"median {median:.4g} gC m-2 yr-1" in message
    assert "source: BadModel" in message and f"file: {path}" in message
    assert "variable: rh" in message and "median in 1..5000 gC m-2 yr-1" in message


def test_plausible_values_do_not_warn(tmp_path, caplog):
    path = _write(tmp_path / "rh.nc")
    with caplog.at_level(logging.WARNING, logger="rhbench.loader"):
        loader.open_variable(_source(), "rh", path)
    assert not [r for r in caplog.records if "units error" in r.getMessage()]


def test_plausibility_uses_nonzero_values_so_zero_oceans_do_not_warn(caplog):
    sample = np.concatenate([np.zeros(700), np.full(300, 10.0)])  # 70 % ocean as 0, cSoil 10 kg
    with caplog.at_level(logging.WARNING, logger="rhbench.loader"):
        valuecheck.check_values(sample, "cSoil", source="S", file="f.nc")
    assert not caplog.records


# --- variables, coordinates, time ------------------------------------------------------


def test_missing_variable_names_what_the_file_holds(tmp_path):
    path = _write(tmp_path / "rh.nc", name="resp_het")
    with pytest.raises(MissingVariableError) as exc:
        loader.open_variable(_source(), "rh", path)
    _assert_names(
        exc,
        "variable not in file",
        "source: BadModel",
        f"file: {path}",
        "variable: rh",
        "found: ['resp_het']",
        "expected: rh",
    )


@pytest.mark.parametrize("dims", [("time", "y_index", "x_index"), ("time", "lats", "lon")])
def test_missing_or_misnamed_coordinates_are_a_coordinate_error(tmp_path, dims):
    path = _write(tmp_path / "rh.nc", dims=dims)
    with pytest.raises(CoordinateError) as exc:
        loader.open_variable(_source(), "rh", path)
    _assert_names(
        exc,
        "no lat coordinate",
        "source: BadModel",
        f"file: {path}",
        "variable: rh",
        "expected: one of ['lat', 'latitude'",
    )


def test_latitude_longitude_names_are_renamed(tmp_path):
    path = _write(tmp_path / "rh.nc", dims=("time", "latitude", "longitude"))
    rh = loader.open_variable(_source(), "rh", path)
    assert rh.dims == ("time", "lat", "lon")
    np.testing.assert_array_equal(rh.lat, LAT)


def test_longitudes_0_360_with_duplicated_seam_keep_one_column(tmp_path):
    lon = np.arange(0.0, 361.0, 30.0)  # 13 columns: 0 and 360 are the same meridian
    grams = 400.0 + np.broadcast_to(lon, (3, 6, 13))  # value = 400 + longitude (0..360 frame)
    grams = grams.copy()
    grams[..., -1] = 4999.0  # the duplicate at 360 must be dropped, not averaged in
    path = _write(tmp_path / "rh.nc", grams / 1000.0 / SECONDS_PER_YEAR, lon=lon)
    rh = loader.open_variable(_source(), "rh", path)
    np.testing.assert_array_equal(rh.lon, np.arange(-180.0, 180.0, 30.0))
    # -180 is 180 in the 0..360 frame, -150 is 210, 0 is 0, 150 is 150
    np.testing.assert_allclose(
        rh.isel(time=0, lat=0).sel(lon=[-180.0, -150.0, 0.0, 150.0]), [580.0, 610.0, 400.0, 550.0], rtol=1e-12
    )


@pytest.mark.parametrize(
    "time, what",
    [
        (np.array([182.5, 912.5, 547.5]), "decreasing time at step 2 (1902-07)"),
        (np.array([182.5, 547.5, 547.5]), "duplicated time at step 2 (1902-07)"),
    ],
)
def test_non_monotonic_or_duplicated_times_are_a_time_axis_error(tmp_path, time, what):
    path = _write(tmp_path / "rh.nc", time=time)
    with pytest.raises(TimeAxisError) as exc:
        loader.open_variable(_source(), "rh", path)
    _assert_names(
        exc,
        "time steps are not increasing",
        "source: BadModel",
        f"file: {path}",
        "variable: rh",
        f"found: {what}",
        "expected: strictly increasing",
    )


# --- values ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fill, encoding",
    [
        (np.nan, None),
        (1e20, None),  # TRENDY fill without a _FillValue attribute
        (-99999.0, {"_FillValue": -99999.0}),
    ],
)
def test_all_missing_or_all_fill_is_a_value_range_error(tmp_path, fill, encoding):
    path = _write(tmp_path / "rh.nc", np.full((3, 6, 12), fill), encoding=encoding)
    with pytest.raises(ValueRangeError) as exc:
        loader.open_variable(_source(), "rh", path)
    _assert_names(
        exc,
        "all values are missing",
        "source: BadModel",
        f"file: {path}",
        "variable: rh",
        "found: 0 of 216 sampled values valid",
    )


def test_substantially_negative_rh_is_a_value_range_error(tmp_path):
    values = np.full((3, 6, 12), RH_KG_S)
    values[:, :3, :] *= -1  # half the cells -400 g C m-2 yr-1
    path = _write(tmp_path / "rh.nc", values)
    with pytest.raises(ValueRangeError) as exc:
        loader.open_variable(_source(), "rh", path)
    _assert_names(
        exc,
        "cannot be negative",
        "source: BadModel",
        f"file: {path}",
        "variable: rh",
        "found: 50.0% of values negative (min -400 gC m-2 yr-1)",
        "at most 1% negative",
    )


def test_negative_soil_stock_is_a_value_range_error(tmp_path):
    values = np.full((3, 6, 12), 10.0)
    values[:, 0, :6] = -5.0  # 6 of 72 cells: 8.3 %
    path = _write(tmp_path / "cSoil.nc", values, name="cSoil", units_attr="kg m-2")
    with pytest.raises(ValueRangeError) as exc:
        loader.open_variable(_source(), "cSoil", path)
    _assert_names(exc, "variable: cSoil", "found: 8.3% of values negative (min -5 kgC m-2)")


def test_rounding_noise_and_rare_negatives_are_tolerated():
    sample = np.full(1000, 400.0)
    sample[:100] = -1e-5  # 10 % tiny: within 1e-6 x median of 400 -> not negative
    sample[100:109] = -50.0  # 0.9 % substantially negative: below the 1 % threshold
    valuecheck.check_values(sample, "rh", source="S", file="f.nc")


def test_negative_npp_is_allowed():
    valuecheck.check_values(np.array([-300.0, 200.0, 500.0]), "npp", source="S", file="f.nc")


# --- broken files ------------------------------------------------------------------------


def test_truncated_netcdf4_is_a_data_error(tmp_path):
    path = _write(tmp_path / "rh.nc", np.random.default_rng(0).random((3, 6, 12)) * RH_KG_S)
    content = path.read_bytes()
    path.write_bytes(content[: len(content) // 2])
    with pytest.raises(DataError) as exc:
        loader.open_variable(_source(), "rh", path)
    _assert_names(exc, "source: BadModel", f"file: {path}", "variable: rh", "netCDF")


def test_truncated_netcdf3_data_is_a_data_error(tmp_path):
    values = np.random.default_rng(0).random((40, 6, 12)) * RH_KG_S + RH_KG_S
    time = 182.5 + 365.0 * np.arange(40)
    path = _write(tmp_path / "rh.nc", values, time=time, fmt="NETCDF3_64BIT")
    content = path.read_bytes()
    path.write_bytes(content[: len(content) - 6 * 12 * 8 * 5])  # the last 5 steps cut off
    with pytest.raises(DataError) as exc:
        loader.open_variable(_source(), "rh", path)
    _assert_names(exc, "source: BadModel", f"file: {path}", "variable: rh")


def test_corrupt_file_is_a_data_error(tmp_path):
    path = tmp_path / "rh.nc"
    path.write_bytes(np.random.default_rng(1).bytes(4096))
    with pytest.raises(DataError) as exc:
        loader.open_variable(_source(), "rh", path)
    _assert_names(
        exc,
        "cannot read file as netCDF",
        "source: BadModel",
        f"file: {path}",
        "variable: rh",
        "expected: a netCDF-3/4 file",
    )


def test_empty_file_is_a_data_error(tmp_path):
    path = tmp_path / "rh.nc"
    path.touch()
    with pytest.raises(DataError) as exc:
        loader.open_variable(_source(), "rh", path)
    _assert_names(exc, "data file is empty", "source: BadModel", f"file: {path}", "variable: rh", "found: 0 bytes")


# --- catalogs ------------------------------------------------------------------------------


def _catalog(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    return path


CATALOG = """version: 2
aliases: {}
metadata: {}
user_parameters: {}
data: {}
entries:
  BadModel:
    reader: intake.readers.readers:XArrayDatasetReader
    output_instance: xarray:Dataset
    kwargs: {args: ['{data_root}/x.nc']}
    metadata:
      kind: dgvm
      files: {rh: models/BadModel_rh.nc}
    user_parameters: {}
"""


def test_catalog_entry_pointing_to_a_missing_file_is_a_data_error(tmp_path):
    _catalog(tmp_path / "cat", CATALOG)
    source = _source(variables={"rh": Var("rh", "kg m-2 s-1")}, catalog_dir=tmp_path / "cat")
    with pytest.raises(DataError) as exc:
        harmonize.load_source(source, tmp_path / "root", common_grid(30.0))
    _assert_names(
        exc,
        "data file not found",
        "source: BadModel",
        f"file: {tmp_path / 'root' / 'models' / 'BadModel_rh.nc'}",
        "variable: rh",
    )


def test_catalog_with_a_yaml_syntax_error_is_a_catalog_error(tmp_path):
    path = _catalog(tmp_path / "cat", CATALOG.replace("entries:\n", "entries:\n  - [unclosed\n"))
    source = _source(catalog_dir=tmp_path / "cat")
    with pytest.raises(CatalogError) as exc:
        catalog.entry_for(source)
    _assert_names(exc, "catalog is not valid YAML", "source: BadModel", f"file: {path}")


def test_catalog_without_the_entry_names_the_expected_entry(tmp_path):
    path = _catalog(tmp_path / "cat", CATALOG.replace("  BadModel:", "  Other:"))
    with pytest.raises(CatalogError) as exc:
        catalog.entry_for(_source(catalog_dir=tmp_path / "cat"))
    _assert_names(
        exc, "no entry for the source", "source: BadModel", f"file: {path}", "found: ['Other']", "expected: BadModel"
    )


def test_catalog_with_a_python_object_tag_is_refused_not_executed(tmp_path):
    marker = tmp_path / "pwned"
    evil = CATALOG.replace("metadata: {}\n", f"metadata: !!python/object/apply:os.system ['touch {marker}']\n", 1)
    path = _catalog(tmp_path / "cat", evil)
    with pytest.raises(CatalogError) as exc:
        catalog.entry_for(_source(catalog_dir=tmp_path / "cat"))
    _assert_names(exc, "not valid YAML", "python/object/apply", f"file: {path}")
    assert not marker.exists()


@pytest.mark.parametrize(
    "relative",
    ["../outside.nc", "models/../../outside.nc", "/etc/passwd", "a/../b/c.nc", "a\\..\\..\\x.nc", "C:\\x.nc"],
)
def test_catalog_paths_cannot_escape_the_data_root(tmp_path, relative):
    root = tmp_path / "root"
    root.mkdir()
    with pytest.raises(CatalogError) as exc:
        catalog.resolve_file(root, relative, source="BadModel")
    _assert_names(
        exc,
        "escapes the data root",
        "source: BadModel",
        f"file: {relative}",
        f"expected: a relative path without '..' inside {root}",
    )


@pytest.mark.parametrize("relative", [12345, None, "", "   ", "a\x00b.nc", ["a.nc"]])
def test_catalog_path_that_is_not_text_is_a_catalog_error(tmp_path, relative):
    with pytest.raises(CatalogError, match="not a file path"):
        catalog.resolve_file(tmp_path, relative, source="BadModel")


def test_catalog_path_inside_the_data_root_resolves(tmp_path):
    assert catalog.resolve_file(tmp_path, "a/b/c.nc") == tmp_path / "a" / "b" / "c.nc"


# --- configuration -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, message",
    [
        ('data_root = "unclosed\n', "config is not valid TOML"),
        ('data_root = "x"\nexec = "import os"\n', "unknown config keys"),
        ('resolution = "half a degree"\n', "must be a number"),
        ("period = [2018, 1982]\n", "period must be [first_year, last_year]"),
    ],
)
def test_bad_config_is_a_config_error_naming_the_file(tmp_path, text, message):
    path = tmp_path / "run.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as exc:
        config.load_config(path)
    _assert_names(exc, message, f"file: {path}")


def test_library_code_never_evaluates_user_text():
    """Catalogs and configs are data: no eval/exec/pickle, YAML only through safe_load."""
    repo = Path(__file__).resolve().parents[1]
    pattern = re.compile(r"\b(eval|exec)\(|pickle\.loads?\(|yaml\.(load|unsafe_load|full_load)\(")
    offenders = [
        f"{path.relative_to(repo)}:{number}"
        for folder in ("benchmark", "plugins")
        for path in (repo / folder).rglob("*.py")
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if pattern.search(line)
    ]
    assert offenders == []


# --- plugins -------------------------------------------------------------------------------


def _plugin(result) -> SimpleNamespace:
    @hookimpl
    def rhbench_sources():
        if isinstance(result, Exception):
            raise result
        return result

    return SimpleNamespace(rhbench_sources=rhbench_sources)


def test_plugin_raising_at_import_is_broken_and_others_stay(tmp_path, monkeypatch):
    (tmp_path / "rhbench_badimport.py").write_text("raise RuntimeError('no licence file')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    bad = EntryPoint(name="badimport", value="rhbench_badimport", group="rhbench")
    monkeypatch.setattr(registry, "entry_points", lambda group, installed=None: [bad])
    reg = registry.build_registry({"good": _plugin([_source(name="Good")])})
    assert list(reg.sources) == ["Good"]
    (broken,) = reg.broken
    assert broken.name == "badimport"
    assert "import of 'rhbench_badimport' failed: RuntimeError: no licence file" in broken.reason


@pytest.mark.parametrize(
    "result, parts",
    [
        (ValueError("catalog server down"), ["rhbench_sources() raised ValueError: catalog server down"]),
        (
            {"name": "BadModel"},
            ["must return a list of Source", "found: dict", "expected: list[rhbench.sources.Source]"],
        ),
        (["BadModel"], ["non-Source item", "found: str", "expected: rhbench.sources.Source"]),
        ([_source(kind="model")], ["unknown source kind", "source: BadModel", "found: model"]),
        (
            [_source(variables={"rh": Var("rh", "K")})],
            ["declared units have the wrong dimension", "variable: rh", "found: K"],
        ),
    ],
)
def test_plugin_hook_that_raises_or_returns_a_wrong_type_is_broken(result, parts):
    reg = registry.build_registry(
        {"bad": _plugin(result), "good": _plugin([_source(name="Good")])}, use_entry_points=False
    )
    assert list(reg.sources) == ["Good"]
    (broken,) = reg.broken
    assert broken.name == "bad"
    for part in parts:
        assert part in broken.reason


def test_preprocess_raising_when_opening_data_is_a_data_error(tmp_path):
    def preprocess(ds):
        raise ValueError("unexpected PFT dimension")

    path = _write(tmp_path / "rh.nc")
    with pytest.raises(DataError) as exc:
        loader.open_variable(_source(preprocess=preprocess), "rh", path)
    _assert_names(
        exc,
        "cannot interpret file (ValueError: unexpected PFT dimension)",
        "source: BadModel",
        f"file: {path}",
        "variable: rh",
    )


def test_preprocess_returning_a_wrong_type_is_a_plugin_error(tmp_path):
    path = _write(tmp_path / "rh.nc")
    with pytest.raises(PluginError) as exc:
        loader.open_variable(_source(preprocess=lambda ds: ds["rh"]), "rh", path)
    _assert_names(
        exc,
        "preprocess must return an xarray.Dataset",
        "source: BadModel",
        f"file: {path}",
        "variable: rh",
        "found: DataArray",
        "expected: xarray.Dataset",
    )


# --- site data -----------------------------------------------------------------------------


def _srdb_rows() -> pd.DataFrame:
    values = {name: (1.0 if kind.startswith("number") else "x") for name, kind in REQUIRED_COLUMNS.items()}
    values.update(
        Rh_annual=400.0,
        Latitude=45.0,
        Longitude=10.0,
        Study_midyear=2005.0,
        YearsOfData=1.0,
        Manipulation="None",
        Meas_method="IRGA",
        Biome="Temperate",
    )
    return pd.DataFrame([values, {**values, "Rh_annual": 300.0, "Latitude": 60.0}])


def test_valid_srdb_table_keeps_both_rows(tmp_path):
    path = tmp_path / "srdb.csv"
    _srdb_rows().to_csv(path, index=False)
    rows, _ = load_srdb(path)
    assert rows["Rh_annual"].tolist() == [400.0, 300.0]
    assert rows["zone"].tolist() == ["temperate", "temperate"]


def test_srdb_with_bad_encoding_is_a_site_data_error(tmp_path):
    path = tmp_path / "srdb.csv"
    frame = _srdb_rows().assign(Ecosystem_type=["Forêt boréale", "x"])
    path.write_bytes(frame.to_csv(index=False).encode("latin-1"))
    with pytest.raises(SiteDataError) as exc:
        read_srdb(path)
    _assert_names(exc, "not UTF-8", "source: SRDB v5", f"file: {path}", "expected: a UTF-8 CSV")


def test_srdb_with_text_in_a_numeric_column_names_row_and_column(tmp_path):
    path = tmp_path / "srdb.csv"
    _srdb_rows().assign(Rh_annual=["400", "four hundred"]).to_csv(path, index=False)
    with pytest.raises(SiteDataError) as exc:
        read_srdb(path)
    _assert_names(
        exc,
        "non-numeric value in data row 2",
        f"file: {path}",
        "variable: Rh_annual",
        "found: 'four hundred'",
        "expected: a number",
    )


def test_srdb_with_a_row_of_extra_fields_is_a_site_data_error(tmp_path):
    path = tmp_path / "srdb.csv"
    text = _srdb_rows().to_csv(index=False)
    path.write_text(text + "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n")
    with pytest.raises(SiteDataError) as exc:
        read_srdb(path)
    _assert_names(exc, "not a readable CSV", f"file: {path}", "expected: comma-separated rows")


def test_srdb_without_a_required_column_names_it(tmp_path):
    path = tmp_path / "srdb.csv"
    _srdb_rows().drop(columns=["Rh_annual"]).to_csv(path, index=False)
    with pytest.raises(SiteDataError) as exc:
        read_srdb(path)
    _assert_names(exc, "lacks required columns", f"file: {path}", "variable: Rh_annual")


def test_srdb_with_an_impossible_latitude_is_a_site_data_error(tmp_path):
    path = tmp_path / "srdb.csv"
    _srdb_rows().assign(Latitude=[45.0, 145.0]).to_csv(path, index=False)
    with pytest.raises(SiteDataError) as exc:
        load_srdb(path)
    _assert_names(exc, "coordinate out of range", "variable: Latitude", "found: 145.0", "expected: -90.0..90.0")


def test_empty_srdb_file_is_a_site_data_error(tmp_path):
    path = tmp_path / "srdb.csv"
    path.touch()
    with pytest.raises(SiteDataError) as exc:
        read_srdb(path)
    _assert_names(exc, "not a readable CSV", f"file: {path}")
