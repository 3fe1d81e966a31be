"""benchmarks/stages.py: the confrontation's stage timer (fresh and warm runs, alternation)."""

from __future__ import annotations

from benchmarks import ilamb3_bench, stages
from benchmarks.ilamb3_data import write_files


def _case(tmp_path):
    files = write_files(tmp_path / "data", 1, monthly=False, resolution=6.0)
    return ilamb3_bench.write_config(tmp_path / "annual-1.toml", tmp_path / "data", list(files["models"]))


def test_the_stage_timer_times_each_named_stage_in_a_fresh_and_a_warm_run(tmp_path):
    config = _case(tmp_path)
    result = stages.measure(str(config), out=str(tmp_path / "out"))
    assert set(result) == {"fresh", "warm"}
    for run in result.values():
        assert run["confrontation"] > 0.0
        spent = {spec.split(":")[1]: seconds for spec, (seconds, count) in run["stages"].items() if count == 1}
        assert {"assemble", "_reduce_models", "evaluate", "summarize"} <= set(spent)  # each called once a run
        assert spent["evaluate"] + spent["assemble"] < run["confrontation"]  # inside the run, not around it
    assert not any((tmp_path / "out").glob("*.json"))  # nothing written


def test_the_alternation_reports_both_sides_medians(tmp_path):
    samples = {("old", "warm", "confrontation"): [0.3, 0.1, 0.2], ("new", "warm", "confrontation"): [0.05, 0.07, 0.06]}
    text = stages.show_alternation(samples, "rhbench.pipeline:evaluate")
    assert "warm  confrontation" in text and "old   200.0 ms (min  100.0)" in text and "new    60.0 ms" in text
    assert "evaluate" not in text  # no samples, no line
