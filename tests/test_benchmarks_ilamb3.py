"""The rhbench vs ilamb3 benchmark: its SYNTHETIC files, its ratios and verdicts, and
``python -m benchmarks --quick`` as a smoke test that reports without failing."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from benchmarks import ilamb3_bench, ilamb3_table
from benchmarks import run as bench_run
from benchmarks.ilamb3_data import write_files
from rhbench import cmip6, loader


def test_files_are_cf_and_rhbench_reads_them_in_its_units(tmp_path):
    files = write_files(tmp_path, 2, monthly=True, resolution=6.0)
    assert list(files["models"]) == ["SYN-A.r1i1p1f1", "SYN-B.r1i1p1f1"]
    path = files["models"]["SYN-A.r1i1p1f1"]
    assert path.name == "rh_Lmon_SYN-A_historical_r1i1p1f1_gn_198201-201812.nc"
    ds = xr.open_dataset(path, decode_times=xr.coders.CFDatetimeCoder(use_cftime=True))
    assert ds["rh"].attrs["units"] == "g m-2 d-1" and ds["rh"].dims == ("time", "lat", "lon")
    assert ds.sizes["time"] == 12 * 37 and ds["time"].dt.calendar == "noleap"
    assert ds["time"].attrs["bounds"] == "time_bnds" and "lat_bnds" in ds and "lon_bnds" in ds
    assert ds["rh"].isnull().any() and not ds["rh"].isnull().all()  # ocean missing, land present
    # by hand: the day-weighted mean rate of 1982 (g m-2 d-1) times 365.25 d per year (rates
    # convert with pint's Julian year, whatever the calendar), in g C m-2 yr-1
    days = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=float)
    first_year = (ds["rh"][:12] * xr.DataArray(days, dims="time")).sum("time", skipna=False) / 365 * 365.25
    sources = {s.name: s for s in cmip6.discover(files["cmip6_dir"])}  # rh-only models, no plugin
    assert set(sources) == set(files["models"]) and set(sources["SYN-A.r1i1p1f1"].variables) == {"rh"}
    annual = loader.open_variable(sources["SYN-A.r1i1p1f1"], "rh", path, annual=True)
    assert annual.sizes["year"] == 37 and int(annual["year"][0]) == 1982
    np.testing.assert_allclose(annual.isel(year=0).values, first_year.values, rtol=1e-5)
    stamp = path.stat().st_mtime_ns
    assert write_files(tmp_path, 2, monthly=True, resolution=6.0) == files  # reused, not rewritten
    assert path.stat().st_mtime_ns == stamp and files["reference"].is_file() and "csoil" not in files


def _case(freq: str, n: int, *, failed: bool = False, ilamb: bool = True) -> dict:
    case = {
        "frequency": freq,
        "models": [f"M{i}" for i in range(n)],
        "input_bytes": 10**8,
        "raw_read": {"seconds": 1.0},
        "confrontation": {"seconds": 1.2},
        "rhbench_run": {"seconds": None if failed else 1.5, "wall_seconds": 2.0, "peak_rss_bytes": 500 * 2**20},
        "ilamb3": {"seconds": 9.0, "wall_seconds": 12.0, "peak_rss_bytes": 700 * 2**20} if ilamb else None,
    }
    return ilamb3_table.ratios(case)


def test_ratios_verdicts_and_table():
    annual, monthly = _case("annual", 1), _case("monthly", 4)
    assert annual["speedup_end_to_end"] == pytest.approx(6.0)  # 12 s / 2 s
    assert annual["speedup_confrontation"] == pytest.approx(7.5)  # 9 s / 1.2 s
    assert annual["confrontation_over_raw"] == pytest.approx(1.2)
    met = ilamb3_table.verdicts([annual, monthly])
    assert list(met.values()) == [True, False, True, True]  # 6x >= 2x; 6x < 15x; 500 MiB; 1.2x
    text = ilamb3_table.table([annual, monthly])
    assert "| annual, 1 model(s) |" in text and "6.0" in text and "500 / 700" in text


def test_failed_run_and_missing_ilamb3_are_reported_not_raised():
    failed, alone = _case("annual", 1, failed=True), _case("monthly", 4, ilamb=False)
    assert failed["speedup_end_to_end"] is None and "speedup_end_to_end" not in alone
    met = ilamb3_table.verdicts([failed, alone])
    assert all(v is None for k, v in met.items() if "faster" in k or "RSS" in k)
    text = ilamb3_table.table([failed, alone])
    assert "failed" in text and "skipped" in text


def test_quick_run_reports_but_never_fails(tmp_path, monkeypatch, capsys):
    stream = {
        "models": ["A", "B"],
        "input_bytes": 10**9,
        "raw_read_seconds": 1.0,
        "raw_read_mb_s": 1000.0,
        "seconds": 10.0,
        "mb_s": 100.0,
        "throughput_ratio": 0.1,  # far below the 50 % target
        "peak_rss_bytes": 2**30,
    }
    monkeypatch.setattr(bench_run, "dgvm_names", lambda n: ["A", "B"][:n])
    monkeypatch.setattr(bench_run, "generate", lambda *a: None)
    monkeypatch.setattr(bench_run, "stream", lambda *a: stream)
    monkeypatch.setattr(bench_run, "demo", lambda out: {})
    monkeypatch.setattr(bench_run, "twobox", lambda: None)
    monkeypatch.setattr(bench_run, "simulate", lambda: {"seconds": 5.0, "n_runs": 10000, "n_models": 17})
    monkeypatch.setattr(bench_run, "upscale", lambda: None)
    monkeypatch.setattr(bench_run, "ilamb3", lambda out, quick: None)
    args = ["--out", str(tmp_path), "--models", "2"]
    assert bench_run.main([*args, "--quick"]) == 0
    printed = capsys.readouterr().out
    assert "NOT MET" in printed and "--quick: a smoke test" in printed
    assert bench_run.main(args) == 1  # full size: the same misses fail


def test_best_of_keeps_the_fastest_run_and_the_largest_peak_rss():
    runs = iter([{"seconds": 2.0, "peak_rss_bytes": 10}, {"seconds": 1.0, "peak_rss_bytes": 5}])
    best = ilamb3_bench.best_of(lambda: next(runs), 2, "seconds")
    assert best == {"seconds": 1.0, "peak_rss_bytes": 10, "repeats": 2}
    failing = iter([{"seconds": None, "error": "exit 2", "peak_rss_bytes": 1}, {"seconds": 1.0}])
    assert ilamb3_bench.best_of(lambda: next(failing), 3, "seconds")["seconds"] is None  # not retried


def test_the_confrontation_stage_runs_the_pipeline_on_the_benchmark_files(tmp_path):
    """The stage the side by side times (the pipeline with its writers stubbed) still runs:
    a change in what the pipeline reads back from its writers broke it unnoticed once."""
    files = write_files(tmp_path / "data", 1, monthly=False, resolution=6.0)
    models = list(files["models"])
    config = ilamb3_bench.write_config(tmp_path / "annual-1.toml", tmp_path / "data", models)
    result = ilamb3_bench.confront({"config": str(config), "out": str(tmp_path / "out"), "models": models})
    assert "error" not in result, result
    assert result["seconds"] > 0 and result["ok_rows"] > 0


def test_a_run_on_the_benchmark_files_is_labelled_synthetic(tmp_path):
    """The files are SYNTHETIC: each says so, and so does the data label of a run on them."""
    from rhbench import datalabel, provenance
    from rhbench.registry import build_registry
    from rhbench.upscaling.inputs import marked_synthetic

    files = write_files(tmp_path / "data", 1, monthly=False, resolution=6.0)
    assert marked_synthetic(files["reference"]) and all(marked_synthetic(p) for p in files["models"].values())
    registry = build_registry()
    inputs = provenance.input_files(registry, tmp_path / "data")
    record = {"inputs": provenance.checksums_of(inputs)}
    data = datalabel.describe(record, inputs, registry, tmp_path / "staging", demo_root=False)
    assert data["data_label"] == datalabel.SYNTHETIC, data
    assert "Konings2019" in data["data_label_reason"]


def test_xarray_lazy_imports_are_outside_both_clocks(tmp_path):
    """After ``warm_xarray`` neither a raw read nor the making of an indexed coordinate imports a
    module: both clocks start after xarray's own lazy imports (pint's among them), alike."""
    import subprocess
    import sys
    from pathlib import Path

    files = write_files(tmp_path, 1, monthly=False, resolution=10.0)
    script = (
        "import sys, numpy as np, xarray as xr\n"
        "from benchmarks import ilamb3_bench\n"
        "ilamb3_bench.warm_xarray()\n"
        "before = set(sys.modules)\n"
        f"ilamb3_bench.raw_read([{str(files['reference'])!r}])\n"
        "xr.Dataset(coords={'lat': ('lat', np.arange(3.0))})\n"
        "print(sorted(m for m in set(sys.modules) - before if m.split('.')[0] in ('pint', 'dask', 'sparse')))\n"
    )
    root = Path(__file__).resolve().parents[1]  # benchmarks/ importable
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=root)
    assert out.stdout.strip() == "[]", out.stdout
    cold = script.replace("ilamb3_bench.warm_xarray()\n", "xr.backends.list_engines()\n")
    out = subprocess.run([sys.executable, "-c", cold], capture_output=True, text=True, check=True, cwd=root)
    assert "pint" in out.stdout  # without the warm-up a raw read imports pint inside the clock
