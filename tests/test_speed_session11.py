"""Session 11 cuts of the confrontation's fixed cost (issue 18): each keeps what it checks."""

from __future__ import annotations

import pytest

from rhbench import catalog, runscope
from rhbench.errors import CatalogError
from rhbench.sources import Source, Var

CATALOG = """version: 2
aliases: {{}}
metadata: {{}}
user_parameters: {{}}
data: {{}}
entries:
  Tiny:
    reader: intake.readers.readers:XArrayDatasetReader
    output_instance: xarray:Dataset
    kwargs: {{args: ['{{data_root}}/tiny.nc']}}
    user_parameters: {{}}
    metadata:
      kind: rh
      files: {{rh: {path}}}
"""


def _source(tmp_path, path: str = "tiny.nc", name: str = "Tiny") -> Source:
    folder = tmp_path / "catalogs"
    folder.mkdir(exist_ok=True)
    (folder / "tiny.yaml").write_text(CATALOG.format(path=path))
    catalog._load_catalog.cache_clear()
    return Source(name, "rh", "tiny.Tiny", {"rh": Var("rh", "g C m-2 d-1")}, "test", catalog_dir=folder)


def _counted(monkeypatch) -> list[str]:
    reads: list[str] = []
    real = catalog._entry_of
    monkeypatch.setattr(catalog, "_entry_of", lambda source, path: reads.append(source.name) or real(source, path))
    return reads


def test_a_run_reads_each_sources_catalog_entry_once_and_a_call_outside_a_run_each_time(tmp_path, monkeypatch):
    reads = _counted(monkeypatch)
    source, other = _source(tmp_path), _source(tmp_path, name="Other")
    with runscope.scope():
        first = catalog.entry_for(source)
        assert catalog.entry_for(source) is first and first.files == {"rh": "tiny.nc"}
        catalog.entry_for(other)  # another source object: its own read, even of the same entry
        catalog.entry_for(other)
    assert reads == ["Tiny", "Other"]
    catalog.entry_for(source)
    catalog.entry_for(source)
    assert reads == ["Tiny", "Other", "Tiny", "Tiny"]  # no run: every call reads
    with runscope.scope():
        catalog.entry_for(source)
    assert reads[-1] == "Tiny" and len(reads) == 5  # a new run reads again (an edited catalog is seen)


@pytest.mark.parametrize("path", ["/etc/passwd", "../escape.nc", "C:\\data\\rh.nc", "a/../../b.nc"])
def test_a_bad_entry_is_refused_on_every_call_within_a_run(tmp_path, monkeypatch, path):
    """Errors are never kept: every caller gets its own, naming the source, the variable and the path."""
    reads = _counted(monkeypatch)
    source = _source(tmp_path, path)
    with runscope.scope():
        for _ in range(2):
            with pytest.raises(CatalogError, match="catalog path escapes the data root") as info:
                catalog.entry_for(source)
            error = info.value
            assert (error.source, error.variable) == ("Tiny", "rh")
            assert error.file == path  # the offending path (as before the memo)
    assert len(reads) == 2


def test_the_path_check_parsed_once_per_text_refuses_and_accepts_what_it_did():
    for relative in ("/abs/rh.nc", "\\\\server\\share\\rh.nc", "C:rh.nc", "D:\\rh.nc"):
        for _ in range(2):  # the second answer comes from the kept parse
            with pytest.raises(CatalogError, match="it is absolute") as info:
                catalog.check_relative(relative, source="S", variable="rh")
            assert (info.value.file, info.value.source, info.value.variable) == (relative, "S", "rh")
    for relative in ("../x.nc", "a/../b.nc", "a\\..\\b.nc"):
        for _ in range(2):
            with pytest.raises(CatalogError, match="contains '..'"):
                catalog.check_relative(relative)
    for bad in ("", "  ", "a\x00b", 12345, None):
        with pytest.raises(CatalogError, match="not a file path"):
            catalog.check_relative(bad)
    for _ in range(2):
        assert str(catalog.check_relative("obs/rh/x..y.nc")) == "obs/rh/x..y.nc"  # '..' inside a name is fine


def _hostile_period(case: str):
    """(period fields, land area, regions) on a 2-degree grid for :func:`test_native_totals_rows_written_in_place`."""
    import numpy as np
    import xarray as xr

    from rhbench import grid
    from rhbench.metrics.native import native_regions
    from rhbench.vegclass import CLASS_NAMES, class_code

    target = grid.common_grid(2.0)
    rng = np.random.default_rng(len(case))
    shape = (target.sizes["lat"], target.sizes["lon"])
    coords = {"lat": target["lat"].values, "lon": target["lon"].values}
    rh, soil = rng.gamma(2.0, 300.0, shape), rng.gamma(2.0, 10.0, shape)
    land = rng.random(shape) * 1e9
    codes = np.full(shape, np.nan)  # no class but the last, in one cell: a one-cell region
    codes[10, 20] = class_code(CLASS_NAMES[-1])
    if case == "nan":
        rh[rng.random(shape) < 0.3] = np.nan
        land[rng.random(shape) < 0.05] = np.nan
    elif case == "all-nan region":  # no Rh at all north of 30 N (whole bands without a value)
        rh[target["lat"].values > 30.0] = np.nan
    elif case == "all nan":
        rh[:] = np.nan
    elif case == "odd area":  # zero, negative and missing land areas, Rh there or not
        land[rng.random(shape) < 0.2] = 0.0
        land[rng.random(shape) < 0.05] = -1e8
        land[rng.random(shape) < 0.05] = np.nan
        rh[rng.random(shape) < 0.1] = np.nan
    elif case == "infinite":
        rh[0, 0], soil[1, 1], rh[2, 2] = np.inf, -np.inf, -0.0
    period = xr.Dataset({"rh": (("lat", "lon"), rh), "cSoil": (("lat", "lon"), soil)}, coords=coords)
    area = xr.DataArray(land, dims=("lat", "lon"), coords=coords)
    classes = xr.DataArray(codes, dims=("lat", "lon"), coords=coords)
    return period, area, native_regions(period["rh"], vegclass=classes)


@pytest.mark.parametrize("case", ["rh on all land", "nan", "all-nan region", "all nan", "odd area", "infinite"])
def test_native_totals_rows_written_in_place_give_the_xarray_expressions_numbers(case):
    """The rows summed per region written into one array (no ``np.where`` copy per field, no ``np.stack``)
    give the xarray expressions' totals bit for bit, on hostile fields, with and without cSoil."""
    import numpy as np

    from rhbench.metrics.native import native_totals
    from tests.test_speed_cuts_arrays import _assert_same_numbers, _native_totals_xarray

    period, area, regions = _hostile_period(case)
    assert int(regions.sel(region=regions["region"].values[-1]).sum()) == 1  # the one-cell region
    for subset in (["rh", "cSoil"], ["rh"], ["cSoil"]):
        got = native_totals(period[subset], area, regions)
        _assert_same_numbers(got, _native_totals_xarray(period[subset], area, regions))
    if case == "all nan":
        assert np.all(np.isnan(got["csoil_total"].values) | (got["csoil_total"].values >= 0))
        assert np.all(np.isnan(native_totals(period[["rh"]], area, regions)["rh_mean"].values))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_attribution_maps_without_any_cell_are_nan_views_that_refuse_writes(dtype):
    """No cell to attribute (no observed cSoil, or models without cSoil): every map is NaN in the dtype the
    expressions give, without a full-size array each, and read-only (a write raises; it never changes
    another map); a page drawn from them, ``results.nc`` and the copies of ``fields`` get plain arrays."""
    import numpy as np
    import xarray as xr

    from rhbench.metrics import turnover

    lat, lon = np.arange(-87.0, 90.0, 6.0), np.arange(-177.0, 180.0, 6.0)
    ones = xr.DataArray(np.ones((lat.size, lon.size), dtype=dtype), coords={"lat": lat, "lon": lon})
    no_csoil = xr.full_like(ones, np.nan)
    result = turnover.attribute_tau_bias(no_csoil, ones * 500, no_csoil, ones * 400, ones * 1e10)
    for name in turnover.ATTRIBUTION_MAPS:
        values = result.maps[name].values
        assert values.shape == ones.shape and np.all(np.isnan(values)), name
        assert values.dtype == (np.float64 if name == "attribution" else np.dtype(dtype)), name
        assert values.strides == (0, 0), name  # one NaN broadcast: no memory of its own
        with pytest.raises(ValueError, match="read-only"):
            values[0, 0] = 1.0
        copied = result.maps[name].astype(np.float32).values
        copied[0, 0] = 1.0  # what readers do: their own array
        assert np.isnan(values[0, 0])
    assert result.summary["area_m2"] == 0.0 and np.isnan(result.summary["corr_rh_dev_tau_dev"])


def _labelled_per_field(ds, years, period):
    """The former :func:`rhbench.metrics.map_years.labelled`: one ``assign_coords`` per field."""
    import numpy as np

    from rhbench.metrics.map_years import FIELDS, MAP_FIELD, coordinate, period_text

    sources = [str(s) for s in ds["source"].values]
    drawn = {MAP_FIELD.get(str(name), str(name)) for name in ds.data_vars}
    for field in [f for f in FIELDS if f in drawn]:
        texts = [years.get(s, {}).get(field, "") for s in sources]
        ds = ds.assign_coords({coordinate(field): ("source", np.array(texts, dtype=object).astype(str))})
    for name in ds.data_vars:
        field = MAP_FIELD.get(str(name), str(name))
        if field in FIELDS:
            ds[name].attrs["years"] = coordinate(field)
    return ds.assign_attrs(period=period_text(period))


@pytest.mark.parametrize("names", [["tau_veg", "rh", "attribution", "tau_bias"], ["rh_bias"], ["other"], []])
def test_map_years_coordinates_in_one_call_are_those_added_one_by_one(names):
    """The ``<field>_years`` coordinates added in one ``assign_coords`` (not one per field): the same
    dataset, coordinates in :data:`FIELDS`' order whatever the variables' order, sources without a text
    labelled "", the input left as it was."""
    import numpy as np
    import xarray as xr

    from rhbench.metrics.map_years import labelled

    sources = ["A", "B", "ensemble_mean"]
    ds = xr.Dataset(
        {name: (("source", "lat"), np.ones((3, 2)), {"units": "x"}) for name in names},
        coords={"source": sources, "lat": [0.5, 1.5]},
    )
    years = {"A": {"rh": "1982-2018", "tau_veg": "1990-2000"}, "B": {"tau_soil": "1982-2010"}}
    got, expected = labelled(ds, years, (1982, 2018)), _labelled_per_field(ds, years, (1982, 2018))
    xr.testing.assert_identical(got, expected)
    assert list(got.coords) == list(expected.coords)
    assert all("years" not in ds[name].attrs for name in names)  # the input's attributes untouched
    if "rh" in names:
        assert list(got["rh_years"].values) == ["1982-2018", "", ""]
