"""Nothing is lost: staged outputs, no silent overwrite, no partial scorecard after a signal."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rhbench import outdir, outputs
from rhbench.cli import main
from rhbench.errors import OutputExistsError


def _config(folder: Path, data_root: Path) -> Path:
    path = folder / "run.toml"
    path.write_text(
        f'data_root = "{data_root}"\nresolution = 4\nquick_upscaling = true\n'
        f'n_draws = 10\nmodels = ["CLM5.0", "JSBACH"]\n'
    )
    return path


# --- staging ------------------------------------------------------------------------------


def test_staging_moves_a_complete_folder_into_place(tmp_path):
    out = tmp_path / "out"
    with outputs.staging_dir(out) as staging:
        assert staging.parent == tmp_path and staging.name.startswith(".out.partial-")
        (staging / "scorecard.json").write_text("{}")
        assert not out.exists()  # nothing at --out until the block completes
    assert (out / "scorecard.json").read_text() == "{}"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


@pytest.mark.parametrize("error", [RuntimeError("metric failed"), KeyboardInterrupt()])
def test_staging_is_removed_and_out_untouched_when_the_block_fails(tmp_path, error):
    out = tmp_path / "out"
    out.mkdir()
    (out / "scorecard.json").write_text("previous run")
    with pytest.raises(type(error)), outputs.staging_dir(out) as staging:
        (staging / "scorecard.json").write_text("half")
        raise error
    assert (out / "scorecard.json").read_text() == "previous run"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_ctrl_c_while_marking_the_staging_folder_leaves_none(tmp_path, monkeypatch):
    def interrupted(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(outdir, "write_marker", interrupted)  # the staging folder's marker (rhbench.ownership)
    with pytest.raises(KeyboardInterrupt), outputs.staging_dir(tmp_path / "out"):
        pass  # pragma: no cover - never entered
    assert list(tmp_path.iterdir()) == []  # no .out.partial-* left behind (the lock is removed too)


def test_ctrl_c_during_the_swap_is_held_until_the_new_output_is_in_place(tmp_path, monkeypatch):
    """SIGINT between moving the earlier output aside and renaming the new one in would leave
    neither at --out; it is held and delivered once the swap is done."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)  # even if pytest runs with SIGINT ignored
    rename = os.rename

    def interrupted_rename(src, dst):
        os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C right after the earlier folder moved aside
        rename(src, dst)

    out = tmp_path / "out"
    out.mkdir()
    (out / "old.txt").write_text("old")
    (out / ".rhbench-output").write_text("{}")
    monkeypatch.setattr(outdir.os, "rename", interrupted_rename)
    try:
        with pytest.raises(KeyboardInterrupt), outputs.staging_dir(out, force=True) as staging:
            (staging / "new.txt").write_text("new")
    finally:
        signal.signal(signal.SIGINT, previous)
    assert (out / "new.txt").read_text() == "new" and not (out / "old.txt").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # nothing left aside


def test_staging_replaces_an_existing_folder_whole(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "old.txt").write_text("old")
    (out / ".rhbench-output").write_text("{}")  # a previous run's folder: --force may replace it
    with outputs.staging_dir(out, force=True) as staging:
        (staging / "new.txt").write_text("new")
    assert sorted(p.name for p in out.iterdir()) == [".rhbench-output", "new.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_existing_output_folder_is_refused_without_force(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    with pytest.raises(OutputExistsError) as exc:
        outputs.claim_output_dir(out, force=False)
    assert "pass --force" in str(exc.value) and f"file: {out}" in str(exc.value)
    with pytest.raises(OutputExistsError, match="only a folder rhbench wrote"):
        outputs.claim_output_dir(out, force=True)  # no marker: the user's folder
    (out / ".rhbench-output").write_text("{}")
    assert outputs.claim_output_dir(out, force=True) == out.resolve()
    assert outputs.claim_output_dir(tmp_path / "empty", force=False) == (tmp_path / "empty").resolve()


def test_run_into_an_existing_folder_exits_2_and_keeps_it(demo_root, tmp_path, monkeypatch):
    monkeypatch.setenv("RHBENCH_CACHE", str(tmp_path / "cache"))
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    code = main(["-q", "run", "--config", str(_config(tmp_path, demo_root)), "--out", str(out)])
    assert code == 2
    assert [p.name for p in out.iterdir()] == ["notes.txt"]
    assert (out / "notes.txt").read_text() == "mine"


# --- interrupted runs ----------------------------------------------------------------------


#: Exit statuses of an interrupted run: 130 from the CLI's handler, or death by SIGINT (what a
#: shell also reports as 130) when the interrupt lands outside it, e.g. at interpreter shutdown.
INTERRUPTED = {130, -signal.SIGINT}


def _default_sigint() -> None:
    """In the child before exec: SIGINT back to its default, as in a terminal."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


#: ``rhbench.cli.main`` with the output stage held for 60 s before its first writer: the signal
#: lands while the staging folder exists and before any output could be swapped in, however
#: fast the run or loaded the machine (a fixed sleep raced with the run's last steps).
_SLOW_WRITE_RUN = """
import sys, time
from rhbench import outputs
write_all = outputs.write_all
def held(*args, **kwargs):
    time.sleep(60)
    return write_all(*args, **kwargs)
outputs.write_all = held
from rhbench.cli import main
sys.exit(main(sys.argv[1:]))
"""


def _interrupt_mid_run(demo_root: Path, tmp_path: Path, signum: int) -> int:
    """Start ``rhbench run``, send ``signum`` once its staging folder exists, return its exit code."""
    env = {**os.environ, "RHBENCH_CACHE": str(tmp_path / "cache")}
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            _SLOW_WRITE_RUN,
            "-q",
            "run",
            "--config",
            str(_config(tmp_path, demo_root)),
            "--out",
            str(tmp_path / "out"),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        # a test process started in the background (`pytest &`, some CI runners) ignores SIGINT,
        # and a child inherits that: Python then never raises KeyboardInterrupt and the run
        # finishes with exit 0. A user's Ctrl-C reaches a run whose SIGINT is the default.
        preexec_fn=_default_sigint,
    )
    try:
        deadline = time.monotonic() + 120
        while not list(tmp_path.glob(".out.partial-*")):
            assert process.poll() is None, process.stderr.read().decode()
            assert time.monotonic() < deadline, "run never started writing"
            time.sleep(0.05)
        time.sleep(0.2)  # into the held write stage, long before it can finish
        assert process.poll() is None, process.stderr.read().decode()
        process.send_signal(signum)
        return process.wait(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


@pytest.mark.slow
def test_sigint_mid_run_leaves_no_output_and_no_staging(demo_root, tmp_path):
    code = _interrupt_mid_run(demo_root, tmp_path, signal.SIGINT)
    assert code in INTERRUPTED
    assert not (tmp_path / "out").exists()
    assert not list(tmp_path.glob(".out.*"))


@pytest.mark.slow
def test_sigterm_mid_run_leaves_no_scorecard_at_out(demo_root, tmp_path):
    code = _interrupt_mid_run(demo_root, tmp_path, signal.SIGTERM)
    assert code in INTERRUPTED
    assert not (tmp_path / "out").exists()
    assert not list(tmp_path.glob(".out.partial-*"))


@pytest.mark.parametrize("earlier", [False, True])
def test_ctrl_c_while_upscale_publishes_is_held_until_its_product_is_in_place(tmp_path, monkeypatch, earlier):
    """Session 7, item 6: ``rhbench upscale``'s staging is outdir's (``outdir.new_staging``); a Ctrl-C
    during its publish (into a new folder, or file by file over an earlier product with --force) is
    still held until the new product is in place, then raised; no staging folder is left."""
    from rhbench.commands import upscale

    out = tmp_path / "new" / "out"
    if earlier:
        out.mkdir(parents=True)
        (out / upscale.UPSCALE_MARKER).write_text("written by rhbench upscale\n")
        (out / "rh_rf.nc").write_text("old")
    publish = upscale._publish

    def interrupted(staging, target):
        os.kill(os.getpid(), signal.SIGINT)  # arrives mid-publish
        publish(staging, target)

    monkeypatch.setattr(upscale, "_publish", interrupted)
    with pytest.raises(KeyboardInterrupt), upscale._staged(out) as staging:
        assert staging.name.startswith(".out.upscale-partial-") and (staging / upscale.UPSCALE_MARKER).is_file()
        (staging / "rh_rf.nc").write_text("new")
    assert (out / "rh_rf.nc").read_text() == "new" and (out / upscale.UPSCALE_MARKER).is_file()
    assert [p.name for p in out.parent.iterdir()] == ["out"]  # no .out.upscale-partial-* left
