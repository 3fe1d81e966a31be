"""The scalable paths on the small SYNTHETIC demo: a dask.distributed cluster, and models
reduced once (:mod:`rhbench.reduce`) instead of read by every consumer."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from rhbench import grid, harmonize, reduce
from rhbench.config import RunConfig
from rhbench.metrics.suite import Reference, evaluate
from rhbench.metrics.totals import climate_zone_masks
from rhbench.pipeline import run
from rhbench.registry import build_registry
from rhbench.uptake import twobox_results
from tests.conftest import SMALL_DEMO_RESOLUTION

MODELS = ("CLM5.0", "JSBACH")
KEY = ["source", "kind", "metric", "region", "status"]


def _frame(rows) -> pd.DataFrame:
    frame = pd.DataFrame([vars(r) for r in rows])
    return frame.sort_values(KEY).reset_index(drop=True)


def _assert_same_rows(a, b, rtol: float) -> None:
    left, right = _frame(a), _frame(b)
    assert len(left) == len(right) > 0
    pd.testing.assert_frame_equal(left[KEY], right[KEY])
    np.testing.assert_allclose(left["value"], right["value"], rtol=rtol, atol=rtol)


def _run(root, out):
    config = RunConfig(
        data_root=root,
        out=out,
        resolution=SMALL_DEMO_RESOLUTION,
        quick_upscaling=True,
        models=MODELS,
        n_draws=20,
        use_cache=False,  # both runs must read the models (the second would hit the cache)
    )
    return run(config)


@pytest.mark.slow
def test_local_cluster_gives_the_scorecard_of_the_threaded_scheduler(small_demo, tmp_path):
    import dask.distributed as distributed

    root, _ = small_demo
    threaded = _run(root, tmp_path / "threads")
    with (
        distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cluster,
        distributed.Client(cluster) as client,
        distributed.get_task_stream(client) as tasks,
    ):
        clustered = _run(root, tmp_path / "cluster")
    assert len(tasks.data) > 100  # the graph really ran on the cluster's workers
    assert clustered.failures == threaded.failures == {}
    _assert_same_rows(threaded.results.rows, clustered.results.rows, rtol=1e-12)
    sources = {r.source for r in clustered.results.rows if r.kind == "dgvm"}
    assert sources == set(MODELS)


@pytest.fixture(scope="module")
def two_models(small_demo):
    """CLM5.0 and JSBACH as lazy annual datasets on the 4-degree grid, and the grid's area."""
    root, _ = small_demo
    registry = build_registry()
    target = grid.common_grid(SMALL_DEMO_RESOLUTION)
    models = {name: harmonize.load_source(registry.sources[name], root, target) for name in MODELS}
    return models, grid.cell_area(target["lat"], target["lon"])


def test_reduced_models_give_the_2box_rows_of_the_full_fields(two_models):
    models, area = two_models
    zones = climate_zone_masks(area["lat"], area["lon"])
    parts = reduce.partition(zones, area)
    tau_obs = {zone: ((10.0, 1.0), (30.0, 3.0)) for zone in zones}
    full = twobox_results(models, area, regions=zones, tau_obs=tau_obs, n_draws=10)
    products = {n: reduce.reduce_model(ds, area, parts, (1982, 2018)) for n, ds in models.items()}
    reduced = twobox_results(
        {n: p.totals for n, p in products.items()}, parts.area, regions=parts.masks, tau_obs=tau_obs, n_draws=10
    )
    # float32 storage of the annual fields: agreement to ~1e-6 relative
    _assert_same_rows(full.rows, reduced.rows, rtol=1e-5)
    assert {r.region for r in reduced.rows} == {"global", *zones}


def test_reduced_models_give_the_benchmark_rows_of_the_full_fields(two_models):
    models, area = two_models
    clm = models["CLM5.0"].sel(year=slice(1982, 2018)).mean("year").compute()
    pattern = 1.0 + 0.5 * np.sin(np.deg2rad(area["lon"])) * np.cos(np.deg2rad(area["lat"]))
    reference = Reference(
        rh=clm["rh"] * 0.9 * pattern,
        csoil_products=xr.concat([clm["cSoil"] * 1.1, clm["cSoil"] * 0.9 / pattern], dim="product"),
        area=area,
    )
    parts = reduce.partition({}, area)
    products = {n: reduce.reduce_model(ds, area, parts, (1982, 2018)).period for n, ds in models.items()}
    full = evaluate(reference, models, {})
    reduced = evaluate(reference, products, {})
    _assert_same_rows(full.rows, reduced.rows, rtol=1e-5)
    rh = [r.value for r in reduced.rows if r.source == "CLM5.0" and r.metric == "rh_global"]
    ref = [r.value for r in reduced.rows if r.kind == "reference" and r.metric == "rh_global"]
    expected = float((clm["rh"] * area).where(reference.land_mask).sum()) / 1e15  # g -> Pg
    assert rh[0] == pytest.approx(expected, rel=1e-5)
    assert ref[0] == pytest.approx(float((reference.rh * area).sum()) / 1e15, rel=1e-9)
