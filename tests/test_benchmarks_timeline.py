"""benchmarks/timeline.py: a wall-clock timeline of one ``rhbench run`` in a fresh process."""

from __future__ import annotations

import sys

import pytest

from benchmarks import ilamb3_bench, timeline
from benchmarks.ilamb3_data import write_files


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="page workers are forked on Linux only")
def test_the_timeline_stamps_every_stage_writer_and_the_page_workers(tmp_path):
    files = write_files(tmp_path / "data", 1, monthly=False, resolution=6.0)
    config = ilamb3_bench.write_config(tmp_path / "annual-1.toml", tmp_path / "data", list(files["models"]))
    run = timeline.timeline(str(config), str(tmp_path / "out"), workers=1)
    assert (tmp_path / "out" / "index.html").is_file()
    names = {name for name, *_ in run["stamps"]}
    for stage in ("observations.assemble", "pipeline.evaluate", "cfnetcdf.write_run", "cmec.write_run"):
        assert stage in names
    assert "import xarray" in names and "atexit (last handler)" in names
    assert any(name.startswith("_reduced SYN-A") for name in names)
    main = next(pid for name, *_, pid in run["stamps"] if name.startswith("interpreter start"))
    drawn = {name for name, *_, pid in run["stamps"] if pid != main and name.startswith("page section")}
    assert "page section maps" in drawn  # stamped in the worker's own process
    assert all(0.0 <= begun <= ended <= run["wall"] for _, begun, ended, _ in run["stamps"])
    text = timeline.show(run)
    assert "end of the process" in text and "[worker" in text
