"""Issue 13, end to end: one model with a short time axis never changes another model's
2-box constraint (today's code: CLM5.0 cut to 2009-2018 changed JSBACH's constrained dcTotal
from 543.19 to 3.05 Pg C); the cut model gets failed rows with the reason."""

from __future__ import annotations

import os
import shutil

import pytest
import xarray as xr

from rhbench.config import RunConfig
from rhbench.pipeline import run
from rhbench.uptake import METRICS
from tests.conftest import SMALL_DEMO_RESOLUTION

MODELS = ("CLM5.0", "JSBACH")


def _rows(root, out) -> dict:
    config = RunConfig(
        data_root=root,
        out=out,
        resolution=SMALL_DEMO_RESOLUTION,
        models=MODELS,
        quick_upscaling=True,
        n_draws=5,
        use_cache=False,
    )
    outcome = run(config)
    return {(r.source, r.metric): r for r in outcome.results.rows if r.region == "global" and r.metric in METRICS}


@pytest.mark.slow
def test_a_model_cut_to_2009_2018_leaves_the_other_models_constraint_unchanged(demo_root, tmp_path):
    cut = tmp_path / "root"
    shutil.copytree(demo_root, cut, copy_function=os.link)
    for path in sorted((cut / "trendy_v9" / "CLM5.0").glob("CLM5.0_S2_*.nc")):
        with xr.open_dataset(path, decode_times=False) as ds:
            last = ds.isel(time=slice(-10, None)).load()  # annual steps: 2009-2018
        path.unlink()  # a hard link to the shared demo: replace it, never write through it
        last.to_netcdf(path)
    before = _rows(demo_root, tmp_path / "full")
    after = _rows(cut, tmp_path / "cut")
    for metric in METRICS:
        assert before[("JSBACH", metric)].status == after[("JSBACH", metric)].status == "ok"
        assert after[("JSBACH", metric)].value == pytest.approx(before[("JSBACH", metric)].value, rel=1e-9, abs=1e-9)
        row = after[("CLM5.0", metric)]
        assert row.status == "failed" and "reference period" in row.reason, (metric, row)
