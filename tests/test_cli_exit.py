"""The console script's exit without interpreter teardown (issue 18): same exit codes, same
output, atexit handlers and finalizers run, a live worker thread still waited for."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from rhbench import cli

#: An object whose finalizer marks the interpreter's teardown (module globals freed one by one).
TEARDOWN_MARKER = """
class _Marker:
    def __del__(self, _open=open):
        with _open({path!r}, "w") as handle:
            handle.write("teardown")
_marker = _Marker()
"""


def _python(code: str, tmp_path: Path) -> subprocess.CompletedProcess:
    script = tmp_path / "script.py"
    script.write_text(TEARDOWN_MARKER.format(path=str(tmp_path / "teardown")) + textwrap.dedent(code))
    return subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120, check=False)


def test_exit_code_buffered_output_atexit_handlers_and_finalizers(tmp_path):
    done = _python(
        f"""
        import atexit, sys, tempfile
        from pathlib import Path
        from rhbench.cli import exit_without_teardown
        atexit.register(lambda: Path({str(tmp_path / "atexit-ran")!r}).write_text("yes"))
        kept = tempfile.TemporaryDirectory(dir={str(tmp_path)!r})
        Path({str(tmp_path / "folder")!r}).write_text(kept.name)
        sys.stdout.write("no newline, still buffered")
        sys.stderr.write("to stderr")
        exit_without_teardown(3)
        print("never reached")
        """,
        tmp_path,
    )
    assert done.returncode == 3
    assert done.stdout == "no newline, still buffered" and done.stderr == "to stderr"
    assert (tmp_path / "atexit-ran").read_text() == "yes"
    assert not Path((tmp_path / "folder").read_text()).exists()  # the temporary folder's finalizer ran
    assert not (tmp_path / "teardown").exists()


def test_a_live_non_daemon_thread_is_waited_for(tmp_path):
    done = _python(
        f"""
        import threading, time
        from pathlib import Path
        from rhbench.cli import exit_without_teardown
        def work():
            time.sleep(0.3)
            Path({str(tmp_path / "thread-done")!r}).write_text("done")
        threading.Thread(target=work).start()
        exit_without_teardown(0)
        """,
        tmp_path,
    )
    assert done.returncode == 0
    assert (tmp_path / "thread-done").read_text() == "done"
    assert (tmp_path / "teardown").is_file()  # the normal exit ran


def test_dask_pool_threads_do_not_block_the_fast_exit(tmp_path):
    done = _python(
        """
        import dask, dask.array as da
        from rhbench.cli import exit_without_teardown
        with dask.config.set(scheduler="threads"):
            print(float(da.ones(10, chunks=2).sum().compute()))
        exit_without_teardown(0)
        """,
        tmp_path,
    )
    assert done.returncode == 0 and done.stdout.strip() == "10.0", done.stderr
    assert not (tmp_path / "teardown").exists()  # no teardown: dask's idle pool was stopped by its atexit handler


def test_under_a_profiler_the_normal_exit_runs(tmp_path):
    done = _python(
        """
        import sys
        from rhbench.cli import exit_without_teardown
        sys.setprofile(lambda frame, event, arg: None)
        exit_without_teardown(4)
        """,
        tmp_path,
    )
    assert done.returncode == 4 and (tmp_path / "teardown").is_file()


def _console(*args: str) -> list[str]:
    """The console script's command (``rhbench.cli:console``) in this interpreter."""
    code = "import sys; from rhbench.cli import console; sys.argv[0] = 'rhbench'; console()"
    return [sys.executable, "-c", code, *args]


def test_console_script_keeps_main_exit_codes_and_messages(tmp_path):
    ok = subprocess.run(_console("--version"), capture_output=True, text=True, check=False)
    assert ok.returncode == 0 and ok.stdout.strip() == f"rhbench {cli.__version__}"
    bad = subprocess.run(
        _console("run", "--config", str(tmp_path / "missing.toml")),
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode == cli.EXIT_USAGE
    assert "config file not found" in bad.stderr


def test_a_failed_flush_of_the_output_is_not_a_success(tmp_path):
    """As CPython: output that cannot be written at exit (a full disk) gives status 120."""
    done = _python(
        """
        import sys
        from rhbench.cli import exit_without_teardown
        sys.stdout = open("/dev/full", "w")
        sys.stdout.write("lost")
        exit_without_teardown(0)
        """,
        tmp_path,
    )
    assert done.returncode == 120, done.stderr


def test_a_process_started_without_stdout_still_exits_cleanly(tmp_path):
    done = _python(
        """
        import sys
        from rhbench.cli import exit_without_teardown
        sys.stdout = None
        exit_without_teardown(0)
        """,
        tmp_path,
    )
    assert done.returncode == 0 and done.stderr == ""
