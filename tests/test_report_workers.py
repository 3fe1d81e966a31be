"""The page's figures drawn by worker processes (issue 18): the same page as drawn in process,
also when a worker dies; sections without values are a note, not an empty figure.

Workers are forked only by a process without other threads, so each worker case runs in a
fresh interpreter (a pytest process may hold dask's thread pool).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from rhbench.report import page_sections, workers
from rhbench.report.page_sections import PageInputs
from rhbench.report.sections import Page

_SCRIPT = """
import json, os, signal, sys
import numpy as np, pandas as pd, xarray as xr
from rhbench.report import page_sections, workers
from rhbench.report.page_sections import PageInputs

lat, lon = np.arange(-55.0, 80.0, 10.0), np.arange(-175.0, 180.0, 10.0)
rng = np.random.default_rng(1)
coords = {"source": ["observations", "A", "B"], "kind": ("source", ["reference", "dgvm", "dgvm"])}
field = rng.uniform(100, 900, (3, lat.size, lon.size))
maps = xr.Dataset({"rh": (("source", "lat", "lon"), field)}, coords={**coords, "lat": lat, "lon": lon})
maps["rh_bias"] = maps["rh"] - maps["rh"].sel(source="observations")
row = {"region": "global", "status": "ok", "reason": ""}
rows = [{**row, "source": s, "kind": k, "metric": m, "units": u, "value": v}
        for s, k in (("observations", "reference"), ("A", "dgvm"), ("B", "dgvm"))
        for m, u, v in (("rh_global", "Pg C yr-1", 50.0), ("rh_taylor_r", "1", 0.8),
                        ("rh_taylor_normalized_sd", "1", 1.1))]
inputs = PageInputs(pd.DataFrame(rows), {"maps": maps, "zonal": maps.mean("lon")}, synthetic=True)
expected = {a: page_sections.build(inputs, a) for a in page_sections.CLAIM_ORDER}
fallback = []
def build(inputs, anchor):
    fallback.append(anchor)
    return page_sections.build(inputs, anchor)
os.environ[workers.WORKERS_ENV] = sys.argv[1]
workers.start()
pool = workers.take()
def descendants(pid):
    kids = [int(p) for p in os.listdir("/proc") if p.isdigit() and _ppid(p) == pid]
    return kids + [d for k in kids for d in descendants(k)]
def _ppid(p):
    try:
        return int(open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None
if sys.argv[2] == "kill":
    os.kill(pool.pid, signal.SIGKILL)
if sys.argv[2] == "kill-last":  # the last forked worker dies: the run must not wait for it forever
    import time
    for _ in range(300):
        pids = descendants(os.getpid())
        if len(pids) == int(sys.argv[1]):
            break
        time.sleep(0.05)
    os.kill(pids[-1], signal.SIGKILL)
    signal.alarm(60)  # a hang ends the script with SIGALRM instead of the test's timeout
if sys.argv[2] == "interrupt":  # Ctrl-C of the process group while the workers draw
    import time
    pool.render(inputs, page_sections.CLAIM_ORDER, build)
    for _ in range(300):  # the first worker forks the second once warm
        pids = descendants(os.getpid())
        if len(pids) == int(sys.argv[1]):
            break
        time.sleep(0.05)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.killpg(os.getpgid(0), signal.SIGINT)
    workers.stop()  # what the run's finally does; the page is never finished
    import glob, tempfile
    time.sleep(0.5)
    left = [p for p in pids if os.path.exists(f"/proc/{p}")]
    folders = glob.glob(os.path.join(tempfile.gettempdir(), "rhbench-page-*"))
    print(json.dumps({"workers": len(pids), "left": left, "folders": folders}))
    sys.exit(0)
got = pool.render(inputs, page_sections.CLAIM_ORDER, build)()
workers.stop()
figures = sum(t.count("<figure") for t in got.values())
print(json.dumps({"same": got == expected, "fallback": fallback, "figures": figures}))
"""


def _run(count: int, mode: str, env: dict | None = None) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", _SCRIPT, str(count), mode],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env=env,
        start_new_session=True,  # its own process group: the interrupt case signals only it
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="page workers are forked on Linux only")
@pytest.mark.parametrize("count", [1, 2])
def test_workers_draw_the_page_the_run_would_draw(count):
    result = _run(count, "draw")
    assert result["same"] and result["figures"] >= 5
    assert result["fallback"] == []  # every section came from a worker


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="page workers are forked on Linux only")
def test_a_dead_worker_leaves_every_section_to_the_run_and_the_page_is_the_same():
    result = _run(1, "kill")
    assert result["same"]
    assert sorted(result["fallback"]) == sorted(page_sections.CLAIM_ORDER)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="page workers are forked on Linux only")
def test_ctrl_c_while_the_workers_draw_leaves_no_page_folder_and_no_worker_process(tmp_path):
    """SIGINT to the process group after the page's inputs went to 2 workers: the run stops
    the workers in its ``finally``; no rhbench-page-* folder stays in the temporary folder and
    no worker (not even a zombie of the second one) outlives the run."""
    import os

    result = _run(2, "interrupt", env={**os.environ, "TMPDIR": str(tmp_path)})
    assert result["workers"] == 2
    assert result["folders"] == [] and list(tmp_path.glob("rhbench-page-*")) == []
    assert result["left"] == []


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="page workers are forked on Linux only")
def test_a_killed_third_worker_does_not_hang_the_run_and_the_page_is_the_same():
    """Each worker must hold only its own pipe: were the second to inherit the third's end, the
    run would never see the third's death and wait for ever."""
    result = _run(3, "kill-last")
    assert result["same"] and result["figures"] >= 5


def test_no_workers_where_forking_is_not_safe(monkeypatch):
    monkeypatch.setenv(workers.WORKERS_ENV, "2")
    monkeypatch.setattr(workers.threading, "active_count", lambda: 3)  # e.g. dask's thread pool
    assert workers.wanted() == 0
    monkeypatch.setattr(workers.threading, "active_count", lambda: 1)
    assert workers.wanted() == (2 if sys.platform.startswith("linux") else 0)
    monkeypatch.setenv(workers.WORKERS_ENV, "0")
    assert workers.wanted() == 0


def test_a_mistyped_worker_count_is_capped_or_ignored_with_a_warning(monkeypatch, caplog):
    """RHBENCH_PAGE_WORKERS=200 forked 200 workers of ~150-200 MB each (a typo could exhaust
    memory); a count above :data:`workers.MAX_WORKERS` is capped, an unreadable one ignored,
    each with a warning naming the variable."""
    monkeypatch.setattr(workers.sys, "platform", "linux")
    monkeypatch.setattr(workers.threading, "active_count", lambda: 1)
    for text, count in (("200", workers.MAX_WORKERS), ("two", 0), ("-1", 0)):  # "two": the default (none here)
        monkeypatch.setenv(workers.WORKERS_ENV, text)
        caplog.clear()
        with caplog.at_level("WARNING", logger=workers.__name__):
            assert workers.wanted() == count
        if text != "-1":
            assert workers.WORKERS_ENV in caplog.text and text in caplog.text
    monkeypatch.setenv(workers.WORKERS_ENV, "2")
    caplog.clear()
    assert workers.wanted() == 2 and caplog.text == ""


def test_sections_without_values_say_so_instead_of_drawing_empty_figures():
    lat, lon = np.arange(-55.0, 80.0, 10.0), np.arange(-175.0, 180.0, 10.0)
    coords = {"source": ["observations", "A"], "kind": ("source", ["reference", "dgvm"]), "lat": lat, "lon": lon}
    values = np.full((2, lat.size, lon.size), 300.0)
    maps = xr.Dataset(
        {
            "rh": (("source", "lat", "lon"), values),
            "tau_soil": (("source", "lat", "lon"), np.full_like(values, np.nan)),
        },
        coords=coords,
    )
    page = Page(pd.DataFrame(columns=["source", "kind", "metric", "region", "units", "value", "status", "reason"]),
                {"maps": maps, "zonal": maps.mean("lon")}, synthetic=False)  # fmt: skip
    drawn = page.maps()
    assert 'id="fig-maps-rh"' in drawn and 'id="fig-maps-tau_soil"' not in drawn
    assert "No tau_soil values in this run" in drawn
    zonal = page.zonal()
    assert 'id="fig-zonal-rh"' in zonal and "No tau_soil values in this run: no zonal means" in zonal


def test_page_sections_import_no_plotting_library():
    code = "import sys, rhbench.report.html; print('matplotlib' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.strip() == "False"  # the run assembles the page without matplotlib


def test_write_index_html_in_process_has_every_section(tmp_path: Path):
    inputs = PageInputs(pd.DataFrame(), {}, synthetic=True)
    built = {anchor: page_sections.build(inputs, anchor) for anchor, _ in page_sections.SECTIONS}
    assert set(built) == set(page_sections.CLAIM_ORDER)  # every section is claimed by some worker
    assert all(text.startswith(f'<section id="{a}">') for a, text in built.items())


def test_the_command_starts_a_worker_by_default_only_when_a_core_is_free(monkeypatch):
    """Without RHBENCH_PAGE_WORKERS the ``rhbench`` command (``fresh_process``) starts
    :data:`workers.DEFAULT_WORKERS` when :func:`workers.spare_core` says a core is free, none
    otherwise; library and test callers draw in process; the variable always decides."""
    monkeypatch.setattr(workers.sys, "platform", "linux")
    monkeypatch.setattr(workers.threading, "active_count", lambda: 1)
    monkeypatch.delenv(workers.WORKERS_ENV, raising=False)
    monkeypatch.setattr(workers, "spare_core", lambda: True)
    assert workers.DEFAULT_WORKERS == 1
    assert workers.wanted(fresh_process=True) == 1 and workers.wanted() == 0
    monkeypatch.setenv(workers.WORKERS_ENV, "0")
    assert workers.wanted(fresh_process=True) == 0
    monkeypatch.setattr(workers, "spare_core", lambda: False)
    monkeypatch.delenv(workers.WORKERS_ENV)
    assert workers.wanted(fresh_process=True) == 0
    monkeypatch.setenv(workers.WORKERS_ENV, "2")
    assert workers.wanted(fresh_process=True) == 2 and workers.wanted() == 2


@pytest.mark.parametrize(
    ("cores", "load", "runnable", "free"),
    [
        (2, 0.3, 1, True),
        (2, 1.49, 1, True),
        (2, 0.3, 2, False),  # another task runs now: the spare core is busy
        (2, 1.5, 1, False),
        (2, 3.2, 1, False),
        (1, 0.0, 1, False),
        (4, 3.0, 3, True),
        (4, 3.0, 4, False),
        (2, 0.3, None, True),  # no runnable count: the average alone decides
    ],
)
def test_a_core_is_free_when_the_load_leaves_one_now_and_on_average(monkeypatch, tmp_path, cores, load, runnable, free):
    loadavg = tmp_path / "loadavg"
    if runnable is not None:  # as the kernel writes it: this process is among the runnable
        loadavg.write_text(f"{load:.2f} 0.50 0.40 {runnable}/250 12345\n", encoding="ascii")
    monkeypatch.setattr(workers, "LOADAVG_FILE", str(loadavg))
    monkeypatch.setattr(workers.os, "sched_getaffinity", lambda pid: set(range(cores)), raising=False)
    monkeypatch.setattr(workers.os, "getloadavg", lambda: (load, 0.0, 0.0))
    assert workers.spare_core() is free


def test_no_core_is_free_where_the_load_average_cannot_be_read(monkeypatch):
    def unreadable():
        raise OSError("no load average")

    monkeypatch.setattr(workers.os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    monkeypatch.setattr(workers.os, "getloadavg", unreadable)
    assert workers.spare_core() is False


def _outputs(folder: Path) -> dict:
    """What a run wrote, its run-specific stamps (time, seconds, output path) blanked."""
    import re

    def text(name: str) -> str:
        found = (folder / name).read_text(encoding="utf-8").replace(str(folder), "OUT")
        found = re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(\+00:00|Z)?", "TIME", found)
        return re.sub(r'("?seconds"?\s*[:=]\s*|<dt>seconds</dt><dd>)[0-9.e-]+', r"\1N", found)

    with xr.open_dataset(folder / "results.nc", group="maps") as maps:
        arrays = {name: maps[name].values for name in maps.data_vars}
    return {
        "rows": json.loads((folder / "scorecard.json").read_text())["rows"],
        "csv": (folder / "scores.csv").read_bytes(),
        "cmec": text("cmec.json"),
        "page": text("index.html"),
        "maps": arrays,
    }


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="page workers are forked on Linux only")
def test_the_command_writes_the_same_outputs_with_and_without_page_workers(demo_root, tmp_path):
    """``rhbench run`` as a user types it (the console script: workers by default where a core
    is free), with no worker and with two: every output the same, page figures included."""
    import os

    found = {}
    for count in ("0", "2"):
        out = tmp_path / f"workers-{count}"
        env = {**os.environ, workers.WORKERS_ENV: count}
        command = [sys.executable, "-c", "from rhbench.cli import console; console()", "-q", "run"]
        command += ["--data-root", str(demo_root), "--out", str(out), "--seed", "0"]
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600, check=False)
        assert done.returncode in (0, 3), done.stderr[-3000:]
        found[count] = _outputs(out)
    without, with_workers = found["0"], found["2"]
    assert len(without["rows"]) > 100 and without["page"].count("<figure") >= 5
    for key in ("rows", "csv", "cmec", "page"):
        assert without[key] == with_workers[key], key
    assert without["maps"].keys() == with_workers["maps"].keys()
    for name, values in without["maps"].items():
        np.testing.assert_array_equal(values, with_workers["maps"][name])


_FREED = {
    # 64 kB blocks (glibc's heap): all freed but the last, which pins the top of the heap
    "heap": "blocks = [np.ones(8_000) for _ in range(3_200)]\ndel blocks[:-1]\n",
    # an array that only a reference cycle holds: freed by a collection
    "cycle": "cycle = {'values': np.ones(2**24)}\ncycle['self'] = cycle\ndel cycle\n",
}


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc_trim: Linux only")
@pytest.mark.parametrize("held", sorted(_FREED))
def test_freed_memory_is_given_back_before_the_workers_draw(held):
    """Blocks freed in the middle of glibc's heap stay resident until ``malloc_trim``, and an
    array held by a reference cycle until a collection: the run's resident set while its page
    workers draw (summed with theirs, issue 18's <= 600 MiB). ~200 MB and 134 MB here."""
    script = (
        "import gc, os, numpy as np\n"
        "from rhbench.report import workers\n"
        "def resident():\n"
        "    return int(open('/proc/self/statm').read().split()[1]) * os.sysconf('SC_PAGE_SIZE')\n"
        "gc.disable()  # the collector would run at its own time\n"
        f"{_FREED[held]}"
        "before = resident()\n"
        "print(workers.release_freed_memory(), before - resident())\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout.split()
    assert out[0] == "True" and int(out[1]) > 100 * 2**20
