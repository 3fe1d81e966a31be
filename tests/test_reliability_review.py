"""Review of the third-audit trust changes: each test failed before its fix (see docs/trust-cases.md)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import cftime
import numpy as np
import pytest
import xarray as xr

from rhbench import cmip6, grid, harmonize, landfrac, layout, loader, pipeline, valuecheck
from rhbench.errors import CoordinateError, DataError, MissingVariableError, ValueRangeError
from rhbench.metrics.reference import check_grid
from rhbench.results import Failures
from rhbench.sources import Source, Var


def _source(name: str = "BROKEN", **extra) -> Source:
    return Source(
        name=name, kind="dgvm", catalog_entry="x.y", variables={"rh": Var("rh", "kg m-2 s-1")}, citation="-", **extra
    )


def test_a_source_whose_files_cannot_be_listed_while_failing_is_recorded_not_fatal(monkeypatch):
    """Review item 11: naming the files of a failed source raised a non-rhbench error (here a
    KeyError from a broken entry) inside the except block and aborted the whole run."""

    def fail_load(*args, **kwargs):
        raise DataError("unreadable", variable="rh")

    def fail_listing(*args, **kwargs):
        raise KeyError("files")

    monkeypatch.setattr(harmonize, "load_native", fail_load)
    monkeypatch.setattr(harmonize, "source_files", fail_listing)
    failures = Failures()
    native = SimpleNamespace(land_mask=None, vegclass=None, domain=None)
    assert pipeline._reduced(_source(), Path("."), None, native, None, (2000, 2014), failures) is None
    assert "BROKEN" in failures and "unreadable" in failures.get("BROKEN")


def test_force_protects_the_folder_a_linked_cmip6_file_points_into(tmp_path):
    """Review item 11: a model file given as a symbolic link protected only the link's folder,
    so ``--out`` on the folder of its target passed ``--force``."""
    store = tmp_path / "store"
    store.mkdir()
    (store / "rh.nc").write_bytes(b"")
    links = tmp_path / "links"
    links.mkdir()
    (links / "rh.nc").symlink_to(store / "rh.nc")
    found = [_source("M", files={"rh": [links / "rh.nc"]})]
    protected = set(cmip6.protected_inputs([links], found).values())
    assert links in protected and store.resolve() in protected


def test_a_land_only_grid_whose_ocean_fraction_is_zero_everywhere_is_accepted():
    """Review item 5: an all-zero ``oceanCoverFrac`` (a land-only grid) was refused as 'never above 1 %'."""
    valuecheck.check_values(np.zeros(50), "oceanCoverFrac", source="M", file="ocean.nc")


def test_a_land_fraction_overshooting_1_by_regridding_is_warned_about_and_accepted(caplog):
    """Review item 5: max 1.01 (a regridded fraction; the cell measures clip it) was refused."""
    with caplog.at_level("WARNING", logger="rhbench.valuecheck"):
        valuecheck.check_values(np.linspace(0.0, 1.01, 50), "sftlf", source="M", file="sftlf.nc")
    (message,) = [r.getMessage() for r in caplog.records]
    assert "sftlf.nc" in message and "clipped to 1" in message and "1.01" in message


@pytest.mark.parametrize(("top", "why"), [(100.0, "far above 1"), (0.01, "never above 1 %")])
def test_a_land_fraction_off_by_100_either_way_is_refused(top, why):
    """Review item 5: a % field labelled '1' (max 100) and a 0-1 field labelled '%' (max 0.01 after
    conversion) stay refused, naming the file and the maximum found."""
    with pytest.raises(ValueRangeError) as info:
        valuecheck.check_values(np.linspace(0.0, top, 50), "sftlf", source="M", file="sftlf.nc")
    assert why in str(info.value) and "sftlf.nc" in str(info.value) and f"max {top:.4g}" in str(info.value)


def _packed_csoil(path: Path, raw: np.ndarray, scale: float, offset: float) -> Path:
    """A cSoil file (g m-2) of int16 ``raw`` packed with ``scale``/``offset``, 3 monthly steps."""
    import netCDF4

    with netCDF4.Dataset(path, "w") as nc:
        for dim, size in (("time", 3), ("lat", raw.shape[0]), ("lon", raw.shape[1])):
            nc.createDimension(dim, size)
        time = nc.createVariable("time", "f8", ("time",))
        time[:], time.units, time.calendar = [15.0, 45.0, 74.0], "days since 2000-01-01", "noleap"
        for dim, size in (("lat", raw.shape[0]), ("lon", raw.shape[1])):
            nc.createVariable(dim, "f8", (dim,))[:] = np.arange(size) * 10.0 + 5.0 - (90.0 if dim == "lat" else 0.0)
        var = nc.createVariable("cSoil", "i2", ("time", "lat", "lon"))
        var.set_auto_maskandscale(False)
        var[:] = np.broadcast_to(raw, (3, *raw.shape))
        var.scale_factor, var.add_offset, var.units = scale, offset, "g m-2"
    return path


def test_packed_zeros_decoding_to_minus_0_27_within_half_a_packing_step_are_accepted(tmp_path):
    """Review item 6: int16 packing of 0..60000 g m-2 (step 0.92 g m-2): 30 % of the cells are
    stored zeros that decode to -0.27 g m-2. The tolerance was 1e-4 x the 99th percentile (0.08
    g m-2 here, most cells being 100-200): refused. Now: half the packing step, in kg m-2."""
    scale = 60000.27 / 65534
    offset = -0.27 + 32767 * scale  # raw -32767 decodes to -0.27, raw 32767 to 60000
    values = np.concatenate([np.full(30, -0.27), np.linspace(100.0, 200.0, 69), [60000.0]])
    raw = np.round((values - offset) / scale).astype("int16").reshape(10, 10)
    path = _packed_csoil(tmp_path / "cSoil.nc", raw, scale, offset)
    source = Source(
        name="PACKED", kind="dgvm", catalog_entry="x.y", variables={"cSoil": Var("cSoil", "g m-2")}, citation="-"
    )
    data = loader.open_variable(source, "cSoil", path).load()
    assert float(data.min()) == pytest.approx(-0.27e-3, abs=1e-7)  # kg m-2, as packed; not clipped
    assert float(data.max()) == pytest.approx(60.0, rel=1e-6)


def test_unpacked_real_negatives_are_refused_however_large_the_largest_values():
    """Review item 6: 5 % of the cells at -0.1 in unpacked data whose 99th percentile is large
    passed the percentile tolerance. Unpacked data are held to 1e-6 x the median magnitude."""
    values = np.concatenate([np.full(5, -0.1), np.linspace(100.0, 200.0, 93), [6e4, 6e4]])
    with pytest.raises(ValueRangeError) as info:
        valuecheck.check_values(values, "cSoil", source="M", file="cSoil.nc")
    assert "negative" in str(info.value) and "5.0%" in str(info.value) and "cSoil.nc" in str(info.value)
    valuecheck.check_values(values, "cSoil", source="M", file="cSoil.nc", packing_step=0.3)  # packed: rounding


def _yearly_end_stamped(years: range, bounds: str) -> xr.Dataset:
    """Yearly cSoil stamped at the end of each year (1 Jan of the next), with CF bounds named ``bounds``."""
    units = "days since 1850-01-01"
    start = cftime.date2num([cftime.DatetimeNoLeap(y, 1, 1) for y in years], units, "noleap")
    end = cftime.date2num([cftime.DatetimeNoLeap(y + 1, 1, 1) for y in years], units, "noleap")
    time = ("time", end, {"units": units, "calendar": "noleap", "bounds": bounds})
    ds = xr.Dataset(
        {"cSoil": (("time", "lat", "lon"), np.ones((len(years), 2, 2)))},
        coords={"time": time, "lat": [0.0, 1.0], "lon": [0.0, 1.0]},
    )
    return ds.assign({bounds: (("time", "bnds"), np.stack([start, end], 1))})


@pytest.mark.parametrize("second", ["time_bnds", "time_bounds"])
def test_period_files_naming_their_time_bounds_differently_are_labelled_by_their_bounds(second):
    """Review item 7: yearly files stamped at the end of each year, one with ``time_bnds`` and
    one with ``time_bounds``: the bounds were dropped and the series read as 2001-2015."""
    files = [_yearly_end_stamped(range(2000, 2007), "time_bnds"), _yearly_end_stamped(range(2007, 2015), second)]
    ds = loader.concat_files(files, [Path("a.nc"), Path("b.nc")], "cSoil")
    years = layout.label_time(ds["cSoil"], ds, file="a.nc+b.nc").year.values
    assert years.tolist() == list(range(2000, 2015))


def _monthly(path: Path, name: str, units: str, lat: np.ndarray) -> Path:
    """A 12-month ``name`` file on a 10-degree grid with latitudes ``lat`` (values 1)."""
    lon = np.arange(-175.0, 180.0, 10.0)
    time = ("time", np.arange(12) * 30.0 + 15.0, {"units": "days since 2000-01-01", "calendar": "360_day"})
    data = np.ones((12, lat.size, lon.size))
    xr.Dataset(
        {name: (("time", "lat", "lon"), data, {"units": units})}, coords={"time": time, "lat": lat, "lon": lon}
    ).to_netcdf(path)
    return path


LAT = np.arange(-80.0, 90.0, 10.0)  # an equator row: np.allclose allows it only 1e-8


@pytest.mark.parametrize(("offset", "accepted"), [(1e-5, True), (5.0, False)])
def test_a_second_variable_of_a_source_is_on_its_grid_by_the_spacing_relative_rule(tmp_path, offset, accepted):
    """Review item 8: a cSoil file whose latitudes differ from rh's by 1e-5 degree (float32
    rounding) failed 'different grids' (np.allclose, absolute 1e-8 near the equator) while
    the same offset in areacella was accepted. A half-cell offset stays refused."""
    files = {
        "rh": [_monthly(tmp_path / "rh.nc", "rh", "kg m-2 s-1", LAT)],
        "cSoil": [_monthly(tmp_path / "cSoil.nc", "cSoil", "kg m-2", LAT + offset)],
    }
    variables = {"rh": Var("rh", "kg m-2 s-1"), "cSoil": Var("cSoil", "kg m-2")}
    source = Source(name="M", kind="esm", catalog_entry="x.y", variables=variables, citation="-", files=files)
    if accepted:
        annual, _ = harmonize.load_native(source, None)
        assert annual["cSoil"].notnull().all() and np.array_equal(annual["cSoil"]["lat"], annual["rh"]["lat"])
        return
    with pytest.raises(CoordinateError) as info:
        harmonize.load_native(source, None)
    text = str(info.value)
    assert "different grids" in text and "cSoil.nc" in text and "lat differs by up to 5 degrees" in text


def test_a_nan_coordinate_is_never_the_same_grid():
    """Review item 8: ``worst > tol`` is False for NaN, so a NaN latitude matched any grid."""
    like = xr.DataArray(np.zeros((LAT.size, 2)), coords={"lat": LAT, "lon": [0.0, 10.0]}, dims=("lat", "lon"))
    broken = like.assign_coords(lat=np.where(LAT == 0.0, np.nan, LAT))
    assert grid.same_grid(like, like) and not grid.same_grid(broken, like) and not grid.same_grid(like, broken)
    with pytest.raises(CoordinateError, match="not on the reference grid"):
        check_grid(broken, like, source="M", variable="rh")
    with pytest.raises(ValueError, match="areacella not on the data's grid"):
        landfrac.measures(like, areacella=broken.rename("areacella") + 1.0)
    snapped = check_grid(like.assign_coords(lat=LAT + 1e-5), like, source="M", variable="rh")
    assert np.array_equal(snapped["lat"], like["lat"])  # exactly the reference's labels: xarray aligns them


def _rh_named(path: Path, *names: str) -> Path:
    """A 12-month rh file (kg m-2 s-1) holding the same field under each of ``names``."""
    lon = np.arange(-175.0, 180.0, 10.0)
    time = ("time", np.arange(12) * 30.0 + 15.0, {"units": "days since 2000-01-01", "calendar": "360_day"})
    field = (("time", "lat", "lon"), np.full((12, LAT.size, lon.size), 1e-8), {"units": "kg m-2 s-1"})
    xr.Dataset(dict.fromkeys(names, field), coords={"time": time, "lat": LAT, "lon": lon}).to_netcdf(path)
    return path


def _rh_family(path: Path) -> Source:
    variables = {"rh": Var("rh", "kg m-2 s-1")}
    return Source(name="CASE", kind="esm", catalog_entry="x.y", variables=variables, citation="-", files={"rh": [path]})


def test_rh_stored_as_RH_is_found_by_rhbench_data_as_by_the_loader_with_a_warning(tmp_path, caplog):
    """Review item 9: ``rhbench data`` reported 'missing variable' for a file the loader reads
    (``RH`` for ``rh``); the loader's rename was logged at INFO, hidden by ``-q``."""
    from rhbench.inventory import inventory
    from rhbench.registry import Registry

    source = _rh_family(_rh_named(tmp_path / "rh.nc", "RH"))
    (row,) = inventory(Registry(sources={"CASE": source}), tmp_path, verify=False)
    assert row.present and row.found_units == "kg m-2 s-1"
    caplog.clear()
    with caplog.at_level("WARNING", logger="rhbench"):
        loader.open_variable(source, "rh", tmp_path / "rh.nc")
    (message,) = [r.getMessage() for r in caplog.records if r.levelname == "WARNING" and "case" in r.getMessage()]
    assert str(tmp_path / "rh.nc") in message and "'RH'" in message and "'rh'" in message


def test_two_case_variants_and_no_exact_name_are_refused_naming_both(tmp_path):
    """Review item 9: ``RH`` and ``Rh`` without ``rh`` said 'variable not in file' without
    saying that two candidates were found; ``rhbench data`` said 'missing variable'."""
    from rhbench.inventory import inventory
    from rhbench.registry import Registry

    source = _rh_family(_rh_named(tmp_path / "rh.nc", "RH", "Rh"))
    with pytest.raises(MissingVariableError) as info:
        loader.open_variable(source, "rh", tmp_path / "rh.nc")
    text = str(info.value)
    assert "only in case" in text and "'RH'" in text and "'Rh'" in text and "rh.nc" in text
    (row,) = inventory(Registry(sources={"CASE": source}), tmp_path, verify=False)
    assert "RH, Rh" in row.problem and row.found_units is None


def _pools_file(path: Path, pools: list[float], labels: list[str] | None = None) -> Path:
    """A 12-month cSoilPools file (kg m-2), one constant per pool along ``soilpools``."""
    lon = np.arange(-175.0, 180.0, 10.0)
    time = ("time", np.arange(12) * 30.0 + 15.0, {"units": "days since 2000-01-01", "calendar": "360_day"})
    data = np.broadcast_to(np.asarray(pools)[None, :, None, None], (12, len(pools), LAT.size, lon.size))
    coords = {"time": time, "lat": LAT, "lon": lon}
    if labels is not None:
        coords["soilpools"] = ("soilpools", labels)
    variables = {"cSoilPools": (("time", "soilpools", "lat", "lon"), data.copy(), {"units": "kg m-2"})}
    xr.Dataset(variables, coords=coords).to_netcdf(path)
    return path


def test_soil_pools_whose_first_pool_is_empty_pass_the_value_check_on_their_sum(tmp_path):
    """Review item 4: pools 0, 8 and 4 kg m-2 failed 'every sampled value is zero' (the sample
    read the first pool only) though cSoil is 12 kg m-2."""
    path = _pools_file(tmp_path / "cSoilPools.nc", [0.0, 8.0, 4.0])
    source = Source(
        name="POOLS", kind="dgvm", catalog_entry="x.y", variables={"cSoil": Var("cSoilPools", "kg m-2")}, citation="-"
    )
    data = loader.open_variable(source, "cSoil", path, annual=True).load()
    np.testing.assert_allclose(data.values, 12.0)


def test_a_layer_sum_that_is_negative_is_refused_though_the_first_layer_is_not(tmp_path):
    """Review item 4: the check saw only the first pool (5 kg m-2) and passed pools summing to -5."""
    path = _pools_file(tmp_path / "cSoilPools.nc", [5.0, -10.0])
    source = Source(
        name="POOLS", kind="dgvm", catalog_entry="x.y", variables={"cSoil": Var("cSoilPools", "kg m-2")}, citation="-"
    )
    with pytest.raises(ValueRangeError, match="negative"):
        loader.open_variable(source, "cSoil", path, annual=True)


@pytest.mark.parametrize(
    ("labels", "litter_added"), [(["litr1", "soil1", "soil2"], False), (["soil1", "soil2", "soil3"], True)]
)
def test_soil_pools_labelled_as_litter_are_not_added_to_the_litter_again(tmp_path, caplog, labels, litter_added):
    """Review item 4: cSoil summed over pools that include litter (CLM's ``litr1``) had cLitter
    added on top, counting the litter twice. Such a cSoil is kept as is, with a warning."""
    files = {
        "cSoil": [_pools_file(tmp_path / "cSoilPools.nc", [1.0, 8.0, 4.0], labels)],
        "cLitter": [_monthly(tmp_path / "cLitter.nc", "cLitter", "kg m-2", LAT)],  # 1 kg m-2
    }
    variables = {"cSoil": Var("cSoilPools", "kg m-2"), "cLitter": Var("cLitter", "kg m-2")}
    source = Source(name="POOLS", kind="dgvm", catalog_entry="x.y", variables=variables, citation="-", files=files)
    with caplog.at_level("WARNING", logger="rhbench.harmonize"):
        annual, _ = harmonize.load_native(source, None)
    np.testing.assert_allclose(annual["cSoil"].values, 14.0 if litter_added else 13.0)
    assert annual["cSoil"].attrs["includes_litter"] == 1
    warned = [r.getMessage() for r in caplog.records if "counted twice" in r.getMessage()]
    assert (not warned) if litter_added else ("POOLS" in warned[0] and "litr1" in warned[0])


def test_a_pool_description_that_excludes_litter_is_not_litter():
    """CMIP6's own wording ('Excluding Litter Pools') must not mark the pools as litter."""
    ds = xr.Dataset(coords={"soilpools": ("soilpools", [0, 1], {"long_name": "soil pools (excluding litter)"})})
    assert layout.litter_pools(ds, ["soilpools"]) == []
    labelled = ds.assign_coords(soilpools=("soilpools", ["cwd", "soil1"]))
    assert layout.litter_pools(labelled, ["soilpools"]) == ["cwd"]


def test_free_text_that_mentions_litter_never_marks_pools_as_litter():
    """Only pool labels and flag_meanings count: descriptions and depth axes mentioning
    litter ("litter is in cLitter", "below the litter layer") are not litter pools."""
    described = xr.Dataset(
        coords={"soilpools": ("soilpools", [0, 1], {"comment": "soil pools only. Litter is in cLitter"})}
    )
    depth = xr.Dataset(
        coords={"depth": ("depth", [0.1, 0.5], {"long_name": "depth of soil layer centre below the litter layer"})}
    )
    assert layout.litter_pools(described, ["soilpools"]) == []
    assert layout.litter_pools(depth, ["depth"]) == []
    flagged = described.assign_coords(
        soilpools=("soilpools", [1, 2], {"flag_values": [1, 2], "flag_meanings": "soil_fast cwd"})
    )
    assert layout.litter_pools(flagged, ["soilpools"]) == ["cwd"]
