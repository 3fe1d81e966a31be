"""Issue 13: a real data root with only some observation products present can exit 0.

Products the run does not use (absent from the data root, or not in ``products``) are
reported ``absent``, not failed; exit 3 means a product the user selected failed. Before,
every absent product was a failure and no run on a partial data root could exit 0.
"""

from __future__ import annotations

import json
import os
import shutil

import pytest
from conftest import RELIABILITY_MODELS as MODELS

from rhbench import catalog
from rhbench.cli import main
from rhbench.registry import build_registry

DROPPED = "Hashimoto2015"


@pytest.fixture(autouse=True)
def _cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("RHBENCH_CACHE", str(tmp_path_factory.getbasetemp() / "rhbench-cache"))


@pytest.fixture(scope="module")
def partial_root(demo_root, tmp_path_factory):
    """The reliability demo root without the files of one prior Rh product (SYNTHETIC)."""
    root = tmp_path_factory.mktemp("partial") / "data"
    shutil.copytree(demo_root, root, copy_function=os.link)
    source = build_registry().sources[DROPPED]
    for relative in catalog.entry_for(source).files.values():
        (root / relative).unlink()
    return root


def _run(tmp_path, root, *lines: str) -> tuple[int, dict]:
    config = tmp_path / "run.toml"
    models = ", ".join(f'"{m}"' for m in MODELS[:1])
    body = [f'data_root = "{root}"', "resolution = 4", "quick_upscaling = true", "n_draws = 10", f"models = [{models}]"]
    config.write_text("\n".join([*body, *lines]) + "\n")
    code = main(["-q", "run", "--config", str(config), "--out", str(tmp_path / "out")])
    rows = json.loads((tmp_path / "out" / "scorecard.json").read_text())["rows"] if code in (0, 3) else []
    return code, {(r["source"], r["metric"]): r for r in rows if r["region"] == "global"}


@pytest.mark.slow
def test_an_absent_product_is_reported_absent_and_the_run_exits_0(partial_root, tmp_path):
    code, rows = _run(tmp_path, partial_root)
    assert code == 0
    load = rows[(DROPPED, "load")]
    assert load["status"] == "absent" and "not in the data root" in load["reason"]
    assert rows[(MODELS[0], "rh_global")]["status"] == "ok"


@pytest.mark.slow
def test_products_select_what_is_used_and_a_selected_absent_product_fails(partial_root, tmp_path):
    registry = build_registry()
    soils = [s.name for s in registry.of_kind("csoil") + registry.of_kind("clitter")]
    chosen = [*soils, "Konings2019", DROPPED]
    code, rows = _run(tmp_path, partial_root, "products = [" + ", ".join(f'"{n}"' for n in chosen) + "]")
    assert code == 3  # the user selected Hashimoto2015 and its files are missing
    assert rows[(DROPPED, "load")]["status"] == "failed"
    assert rows[("Tang2020", "load")] == {**rows[("Tang2020", "load")], "status": "absent"}
    assert "not selected" in rows[("Tang2020", "load")]["reason"]
    assert rows[("Konings2019", "rh_global")]["status"] == "ok"


@pytest.fixture(scope="module")
def rh_only_root(demo_root, tmp_path_factory):
    """The reliability demo root without any cSoil product (SYNTHETIC)."""
    root = tmp_path_factory.mktemp("rh-only") / "data"
    shutil.copytree(demo_root, root, copy_function=os.link)
    for source in build_registry().of_kind("csoil"):
        for relative in catalog.entry_for(source).files.values():
            (root / relative).unlink(missing_ok=True)
    return root


@pytest.mark.slow
def test_an_rh_reference_without_csoil_benchmarks_rh_and_skips_turnover_with_reasons(rh_only_root, tmp_path):
    code, rows = _run(tmp_path, rh_only_root)
    assert code == 0  # issue 18.4: was exit 2 ("no cSoil product could be loaded")
    model = MODELS[0]
    assert rows[(model, "rh_global")]["status"] == "ok" and rows[(model, "rh_taylor_score")]["status"] == "ok"
    assert rows[("observations", "rh_global")]["status"] == "ok"
    # totalled on its own grid with cell area x land fraction, as with a cSoil product and as
    # every model is (it summed every cell fully on the common grid: +0.9 % on the real map)
    import xarray as xr

    with xr.open_dataset(tmp_path / "out" / "upscaling" / "rh_rf.nc") as product:
        hand = float((product["rh"] * product["land_area"]).sum()) / 1e15
    assert rows[("observations", "rh_global")]["value"] == pytest.approx(hand, rel=1e-6)
    assert rows[("observations", "rh_global")]["reason"].startswith("totals on native grids")
    needs_observed_csoil = [
        ("observations", "tau_soil_global"), ("observations", "tau_soil_global_sd"),
        ("Konings2019", "tau_soil_global"), (model, "tau_bias_pct"), (model, "csoil_bias_score"),
        (model, "csoil_spatial_distribution_score"), (model, "tau_soil_spatial_distribution_score"),
        (model, "tau_soil_bias_score"), (model, "tau_soil_overall_score"),
    ]  # fmt: skip
    for key in needs_observed_csoil:
        assert rows[key]["status"] == "skipped" and "no observed cSoil product" in rows[key]["reason"], key
    assert rows[(model, "dcTotal_constrained")]["status"] == "skipped"
    assert not [r for r in rows.values() if r["status"] == "failed"]


@pytest.mark.parametrize("broken", ["file", "folder"])
def test_a_broken_link_to_a_product_is_a_failure_naming_the_link_not_an_absence(tmp_path, broken):
    """``obs/rh -> /mnt/share/rh`` with the share unmounted: the user set the product up, so
    it is not quietly 'absent' (which changes the reference mean and exits 0): it fails,
    naming the link and where it points."""
    from rhbench import grid
    from rhbench.observations import load
    from rhbench.results import Failures

    source = build_registry().sources[DROPPED]
    relative = catalog.entry_for(source).files["rh"]
    path = tmp_path / relative
    path.parent.parent.mkdir(parents=True)
    if broken == "file":
        path.parent.mkdir()
        path.symlink_to(tmp_path / "unmounted" / path.name)
    else:
        path.parent.symlink_to(tmp_path / "unmounted")
    failures = Failures()
    assert load(source, tmp_path, grid.common_grid(4.0), failures) is None
    assert DROPPED not in failures.absent
    reason = failures.get(DROPPED) or ""
    assert "broken symbolic link" in reason and "unmounted" in reason, reason
