"""Cuts of a run's fixed work (issue 18): each gives exactly what the code it replaced gave."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
import xarray as xr

from benchmarks import ilamb3_bench
from benchmarks.ilamb3_data import write_files
from rhbench import grid, landfrac, pipeline, provenance
from rhbench.config import load_config
from rhbench.metrics.rows import UNDEFINED, regional_rows, row


def _aligned_one_by_one(centres, bounds, wanted, periodic):
    """The former :func:`rhbench.landfrac._aligned`: one wanted centre at a time."""
    rows = []
    for value in wanted:
        diff = (centres - value + 180.0) % 360.0 - 180.0 if periodic else centres - value
        index = int(np.argmin(np.abs(diff)))
        if abs(diff[index]) > 1e-6:
            return None
        rows.append(bounds[index])
    return np.asarray(rows, dtype=float)


def _cells(step: float, start: float, dtype=np.float64):
    centres = np.arange(start + step / 2, start + 360.0, step).astype(dtype)
    bounds = np.stack([centres - step / 2, centres + step / 2], axis=1).astype(dtype)
    return centres, bounds


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("step", [0.5, 7.5, 0.25])  # 0.25: more wanted centres than one block
def test_bounds_aligned_in_blocks_are_those_aligned_one_by_one(step, dtype):
    centres, bounds = _cells(step, 0.0, dtype)  # a file in 0..360 longitudes
    wanted = np.sort(((centres.astype(float) + 180.0) % 360.0) - 180.0)  # rhbench's [-180, 180) order
    rng = np.random.default_rng(1)
    shuffled = rng.permutation(centres.size)
    for file_centres, file_bounds in ((centres, bounds), (centres[shuffled], bounds[shuffled])):
        got = landfrac._aligned(file_centres, file_bounds, wanted, True)
        expected = _aligned_one_by_one(file_centres, file_bounds, wanted, True)
        assert got.dtype == expected.dtype == np.float64
        np.testing.assert_array_equal(got, expected)
        assert got.shape == (wanted.size, 2)
    lat_centres, lat_bounds = centres[: centres.size // 2] - 90.0, bounds[: centres.size // 2] - 90.0
    got = landfrac._aligned(lat_centres[::-1], lat_bounds[::-1], lat_centres, False)  # a north-to-south file
    np.testing.assert_array_equal(got, _aligned_one_by_one(lat_centres[::-1], lat_bounds[::-1], lat_centres, False))


def test_bounds_of_other_centres_are_refused_as_before():
    centres, bounds = _cells(0.5, -180.0)  # 720 centres: three blocks
    shifted = centres + 0.01  # a wanted grid whose centres are not the file's
    assert landfrac._aligned(centres, bounds, shifted, True) is None
    assert _aligned_one_by_one(centres, bounds, shifted, True) is None
    one_off = centres.copy()
    one_off[400] += 1e-3  # a single centre off, in the second block
    assert landfrac._aligned(centres, bounds, one_off, True) is None
    assert landfrac._aligned(centres, bounds, np.array([]), True).shape == (0,)


def _rows_one_by_one(values: xr.DataArray) -> list[str]:
    """The former :func:`rhbench.metrics.rows.regional_rows`: one ``sel`` per region (as reprs:
    a float's repr gives it back exactly, and NaN equals NaN)."""
    return [
        repr(row("M", "dgvm", "rh_total", str(region), float(values.sel(region=region))))
        for region in values["region"].values
        if region != "global"
    ]


def _reprs(rows: list) -> list[str]:
    return [repr(r) for r in rows]


def test_regional_rows_read_at_once_are_the_rows_selected_one_by_one():
    regions = ["global", "90S-80S", "EQ-10N", "tropical", "forest"]
    values = xr.DataArray([52.0, np.nan, 1.0 / 3.0, 1e-300, -np.inf], dims="region", coords={"region": regions})
    rows = regional_rows("M", "dgvm", "rh_total", values)
    assert _reprs(rows) == _rows_one_by_one(values)
    assert [r.region for r in rows] == regions[1:]
    assert rows[0].status == "skipped" and rows[0].reason == UNDEFINED and rows[1].value == 1.0 / 3.0
    assert rows[3].status == "skipped"  # -inf is not a value
    float32 = values.astype("float32")
    assert _reprs(regional_rows("M", "dgvm", "rh_total", float32)) == _rows_one_by_one(float32)
    with_extra = values.assign_coords(units="Pg")  # a scalar coordinate does not matter
    assert _reprs(regional_rows("M", "dgvm", "rh_total", with_extra)) == _rows_one_by_one(values)


def test_regional_rows_of_a_2d_or_repeated_region_array_fall_back_to_selection():
    square = xr.DataArray([[1.0], [2.0]], dims=("region", "x"), coords={"region": ["global", "a"]})
    for rows_of in (_rows_one_by_one, lambda v: regional_rows("M", "dgvm", "rh_total", v)):
        with pytest.raises(TypeError):  # as before: a region's values are no one number
            rows_of(square)
    repeated = xr.DataArray([1.0, 2.0, 3.0], dims="region", coords={"region": ["global", "a", "a"]})
    with pytest.raises(TypeError):  # as before: a region named twice has no one value
        regional_rows("M", "dgvm", "rh_total", repeated)


def test_a_run_resolves_its_input_files_once(tmp_path, monkeypatch):
    """The run start (hashing in the background) and the end (run.json, the data label) share one answer."""
    files = write_files(tmp_path / "data", 1, monthly=False, resolution=6.0)
    models = list(files["models"])
    path = ilamb3_bench.write_config(tmp_path / "annual-1.toml", tmp_path / "data", models)
    config = dataclasses.replace(load_config(path), out=tmp_path / "out", force=True)
    calls = []
    real = provenance.input_files
    monkeypatch.setattr(provenance, "input_files", lambda *a, **k: calls.append(a) or real(*a, **k))
    outcome = pipeline.run(config)
    assert len(calls) == 1
    run = json.loads((outcome.out_dir / "run.json").read_text())
    expected = provenance.checksums_of(real(*calls[0]))
    assert run["inputs"] == expected and run["inputs"]["Konings2019"]["rh"].startswith("sha256:")


def _nearest_by_selection(data: xr.DataArray, target: xr.Dataset) -> xr.DataArray:
    """:func:`rhbench.grid.regrid_nearest` without its shortcut for data already on the target's centres."""
    from unittest import mock

    with mock.patch.object(grid, "_on_target_centres", lambda *a: False):
        return grid.regrid_nearest(data, target)


@pytest.mark.parametrize("dtype", ["float64", "float32", "bool"])
def test_nearest_regrid_onto_the_same_centres_is_the_selection_it_replaces(dtype):
    target = grid.common_grid(2.0)
    rng = np.random.default_rng(3)
    values = rng.normal(size=(target.sizes["lat"], target.sizes["lon"]))
    values[values > 1.0] = np.nan
    data = xr.DataArray(values.astype(dtype) if dtype != "bool" else values > 0, dims=("lat", "lon"), name="rh")
    data = data.assign_coords(lat=target["lat"].values.copy(), lon=target["lon"].values.copy())
    data.attrs["units"] = "g C m-2 yr-1"
    got = grid.regrid_nearest(data, target)
    xr.testing.assert_identical(got, _nearest_by_selection(data, target))
    assert got.dtype == data.dtype and not np.shares_memory(got.values, data.values)
    regional = data.isel(lon=slice(10, 40))  # another extent: no shortcut, cells outside missing
    regional_target = xr.Dataset(coords={"lat": target["lat"].values, "lon": regional["lon"].values})
    xr.testing.assert_identical(
        grid.regrid_nearest(regional, regional_target), _nearest_by_selection(regional, regional_target)
    )
    shifted = data.assign_coords(lon=data["lon"].values + 1e-9)  # centres not equal: selection
    xr.testing.assert_identical(grid.regrid_nearest(shifted, target), _nearest_by_selection(shifted, target))
    stamped = data.assign_coords(year=2000)  # another coordinate: selection, as before
    xr.testing.assert_identical(grid.regrid_nearest(stamped, target), _nearest_by_selection(stamped, target))


def test_summary_grid_scales_in_one_pass_are_those_taken_metric_by_metric(monkeypatch):
    import pandas as pd

    from rhbench.report import summary_grid

    nan = float("nan")
    records = [
        ("observations", "reference", "rh_global", "global", "Pg C yr-1", 52.5, "ok", ""),
        ("A", "dgvm", "rh_global", "global", "Pg C yr-1", -61.25, "ok", ""),
        ("B", "dgvm", "rh_global", "global", "Pg C yr-1", 99.0, "failed", "too little land"),
        ("A", "dgvm", "rh_taylor_bias", "global", "g C m-2 yr-1", nan, "skipped", "undefined"),
        ("B", "dgvm", "rh_taylor_bias", "global", "g C m-2 yr-1", nan, "ok", ""),
        ("A", "dgvm", "tau_bias_pct", "global", "%", -3.5, "ok", ""),
        ("B", "dgvm", "tau_bias_pct", "global", "%", 2.25, "ok", ""),
        ("A", "dgvm", "tau_bias_pct", "EQ-10N", "%", 80.0, "ok", ""),
        ("ensemble_mean", "ensemble", "rh_taylor_score", "global", "1", 0.75, "ok", ""),
        ("A", "dgvm", "csoil_global", "global", "Pg C", nan, "skipped", "no cSoil"),
    ]
    columns = ["source", "kind", "metric", "region", "units", "value", "status", "reason"]
    scores = pd.DataFrame.from_records(records, columns=columns)
    rows = scores[scores["region"] == "global"]
    metrics = [m for m in summary_grid.SUMMARY_COLUMNS if m in set(rows["metric"])]

    def one_by_one(rows, metrics):  # the former expression
        return {m: rows.loc[(rows["metric"] == m) & (rows["status"] == "ok"), "value"].abs().max() for m in metrics}

    got, expected = summary_grid._largest_magnitudes(rows, metrics), one_by_one(rows, metrics)
    assert list(got) == list(expected) == metrics and repr(got) == repr(expected)  # NaN where no ok value
    html = summary_grid.summary_table(scores)
    monkeypatch.setattr(summary_grid, "_largest_magnitudes", one_by_one)
    assert summary_grid.summary_table(scores) == html


def test_the_page_is_drawn_from_the_scorecard_without_its_attrs(tmp_path, monkeypatch):
    """pandas deep-copies a frame's attrs on every operation: the page gets the rows alone,
    and the page is the same as from the frame with its attrs (run settings, data label)."""
    from rhbench import outputs
    from rhbench.config import RunConfig
    from rhbench.registry import Registry
    from rhbench.report import html
    from rhbench.report.tables import read_scorecard
    from rhbench.results import Results, ScoreRow

    given = []
    real_start = html.start_page
    monkeypatch.setattr(
        html,
        "start_page",
        lambda out, scorecard, *a, **k: given.append(scorecard) or real_start(out, scorecard, *a, **k),
    )
    rows = [
        ScoreRow("A", "dgvm", "rh_global", "global", "Pg C yr-1", 50.0),
        ScoreRow("A", "dgvm", "rh_taylor_score", "global", "1", 0.5),
    ]
    staging = tmp_path / "out"
    staging.mkdir()
    run = outputs.write_all(
        staging,
        Results(rows=rows),
        registry=Registry(),
        config=RunConfig(),
        data_root=tmp_path,
        synthetic=True,
        seconds=1.0,
    )
    assert len(given) == 1 and given[0].attrs == {}
    with_attrs = read_scorecard(staging / "scorecard.json")
    assert with_attrs.attrs  # what the page no longer carries
    provenance = {**run.provenance, "generated": "fixed"}
    pages = []
    for frame in (with_attrs, given[0]):
        folder = tmp_path / f"page{len(pages)}"
        html.write_index_html(folder, frame, run.results.datasets, synthetic=True, provenance=provenance)
        pages.append((folder / "index.html").read_text())
    assert pages[0] == pages[1]


def _results_of(config, monkeypatch, *, force_twobox: bool):
    """A run's rows and datasets; with ``force_twobox`` every model is reduced with its 2-box
    totals, as before the cut; also returns the ``twobox`` each reduction was given."""
    from rhbench import reduce

    given = []
    real = reduce.reduce_native

    def spy(*args, **kwargs):
        kwargs["twobox"] = kwargs.get("twobox", True) or force_twobox
        given.append(kwargs["twobox"])
        return real(*args, **kwargs)

    monkeypatch.setattr(reduce, "reduce_native", spy)
    outcome = pipeline.run(config)
    monkeypatch.setattr(reduce, "reduce_native", real)
    return outcome.results, given


def _comparable(row) -> dict:
    """A score row as a dict in which a NaN value equals a NaN value."""
    found = dataclasses.asdict(row)
    return {**found, "value": "NaN" if found["value"] != found["value"] else found["value"]}


def test_a_run_without_observed_csoil_skips_the_2box_totals_and_gives_the_same_results(tmp_path, monkeypatch):
    """Rh-only run (the side by side's case): the models' 2-box partition totals, read only by
    the constraint it skips, are not computed; every row and dataset is as with them."""
    files = write_files(tmp_path / "data", 2, monthly=False, resolution=6.0)
    path = ilamb3_bench.write_config(tmp_path / "annual.toml", tmp_path / "data", list(files["models"]))
    config = dataclasses.replace(load_config(path), force=True)
    before, forced = _results_of(dataclasses.replace(config, out=tmp_path / "a"), monkeypatch, force_twobox=True)
    after, given = _results_of(dataclasses.replace(config, out=tmp_path / "b"), monkeypatch, force_twobox=False)
    assert forced == [True, True] and given == [False, False]
    assert [_comparable(r) for r in after.rows] == [_comparable(r) for r in before.rows]
    assert any(r.metric.startswith("dcTotal") and r.status == "skipped" for r in after.rows)
    assert after.datasets.keys() == before.datasets.keys()
    for name, data in before.datasets.items():
        xr.testing.assert_identical(after.datasets[name], data)


def test_reduce_native_without_the_2box_totals_is_the_same_but_for_them(demo_root):
    from rhbench import harmonize, reduce
    from rhbench.registry import build_registry

    source = build_registry().sources["CLM5.0"]
    annual, cells = harmonize.load_native(source, demo_root)
    target = grid.common_grid(4.0)
    domain = xr.ones_like(target["lat"] * target["lon"], dtype=bool)
    full = reduce.reduce_native(annual, cells, target, (2000, 2010), domain=domain)
    lean = reduce.reduce_native(annual, cells, target, (2000, 2010), domain=domain, twobox=False)
    xr.testing.assert_identical(lean.period, full.period)
    xr.testing.assert_identical(lean.regions, full.regions)
    assert full.totals.data_vars and not lean.totals.data_vars


def test_products_without_the_2box_totals_have_a_cache_key_of_their_own(tmp_path):
    from rhbench import cache, reduce
    from rhbench.registry import build_registry

    files = write_files(tmp_path / "data", 1, monthly=False, resolution=6.0)
    (name,) = files["models"]
    source = build_registry().sources["Konings2019"]
    target = grid.common_grid(6.0)
    parts = reduce.partition({}, xr.ones_like(target["lat"] * target["lon"], dtype=float))
    common = {"package": "p 1", "target": target, "period": (1982, 2018), "parts": parts}
    paths = {"rh": files["models"][name]}
    with_totals = cache.product_key(source, paths, **common)
    assert cache.product_key(source, paths, twobox=True, **common) == with_totals  # keys of before kept
    assert cache.product_key(source, paths, twobox=False, **common) != with_totals


def _region_sums_before(values: np.ndarray, masks: np.ndarray) -> np.ndarray:
    """The sums of ``totals.sums_missing_as_zero`` as native totals took them before session 7's
    item 18 cut: every boolean region mask converted to float64 at once, one einsum."""
    filled = np.where(np.isnan(values), 0.0, values)
    return np.einsum("...ab,...cab->...c", filled, masks.astype(bool).astype("float64"))


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("shape", [(360, 720), (12, 18), (3, 90, 180), (1, 7)])
@pytest.mark.parametrize("count", [22, 21, 5, 2, 1])
def test_sums_over_boolean_masks_in_blocks_are_the_float_mask_einsum_bit_for_bit(seed, shape, count):
    """Random fields with NaN, zeros, values spanning 1e-3..1e12 and negatives; overlapping
    boolean regions (one everything, one empty), in counts that leave a lone last region (21,
    5), one short block (22) and fewer than a block: every region's sum the same float."""
    from rhbench.metrics.totals import sums_missing_as_zero

    rng = np.random.default_rng(seed)
    values = rng.gamma(2.0, 300.0, shape) * 10.0 ** rng.integers(-3, 9, shape)
    values[rng.random(shape) < 0.3] = np.nan
    values[rng.random(shape) < 0.05] *= -1.0
    values[rng.random(shape) < 0.1] = 0.0
    masks = rng.random((count, *shape[-2:])) < rng.random((count, 1, 1))
    masks[0], masks[-1] = True, count == 1
    got = sums_missing_as_zero(values, masks)
    expected = _region_sums_before(values, masks)
    assert got.shape == expected.shape == (*shape[:-2], count) and got.dtype == expected.dtype
    np.testing.assert_array_equal(got, expected)
    assert np.isfinite(got).all() and (got != 0).any()
    np.testing.assert_array_equal(sums_missing_as_zero(values, masks.astype("float64")), expected)  # float masks
