"""The page's figures drawn in worker processes started when ``rhbench run`` begins.

Drawing the page (matplotlib: ~0.2 s to import, tens of ms per figure) is the last stage of
a run, yet its imports need nothing the run computes. :func:`start` forks the workers once
the run has imported its own modules (numpy, pandas, xarray: shared with the workers,
not imported twice), before it reads any data or starts a thread: the first worker imports
the page's builders (matplotlib), loads the coastlines and draws one small figure (fonts,
the Agg renderer) while the run reads and reduces its data, then forks the others, which
share all that. When the run writes its outputs, :func:`rhbench.report.html.write_run`
sends the page's inputs (pickled once) to each worker over its pipe (a socket pair between
the run and its own forks) and writes the other outputs while the workers draw; each worker
claims the next section not yet claimed (an exclusive file create in the run's private
temporary folder, so no section is drawn twice and a fast worker takes more), writes its
HTML there and says so on its pipe.

Robustness: a worker that dies (its pipe closes) or fails leaves its sections to the run,
which draws them itself with the same builders on the same inputs, so the page is the same
either way (tested). Workers start only where forking is safe and cheap: on Linux, from the
main thread of a process that runs no other thread (a fresh command line; not a test
process whose dask pool is alive). ``RHBENCH_PAGE_WORKERS`` sets their number: ``0`` draws in
process; 1 overlaps the page with the other writers; each further worker costs ~100-150 MB
of resident memory (it holds the page's inputs) for a shorter wait on pages of many figures.
Without it, the ``rhbench`` command (:func:`start` with ``fresh_process``) starts
:data:`DEFAULT_WORKERS` when a core is free for it (:func:`spare_core`: more than one core,
a 1-minute load average below the cores less a half, as ``make --load-average`` decides
whether to start another job, and no other task runnable on the spare core now): a
worker's ~0.1-0.2 s of extra CPU (the fork, its own imports, unpickling the inputs) is free
on an idle core and a loss when another task wants it (annual 1-model case: 1.43 against
1.55 s idle, 1.62 against 1.51 s with other work on the second core).
Library calls of :func:`rhbench.pipeline.run` and of :func:`rhbench.cli.main` draw in process.
"""

from __future__ import annotations

import gc
import logging
import os
import pickle
import shutil
import sys
import tempfile
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from multiprocessing import connection
from multiprocessing.connection import Connection
from pathlib import Path

log = logging.getLogger(__name__)

#: Environment variable: number of page workers (0 turns them off).
WORKERS_ENV = "RHBENCH_PAGE_WORKERS"
#: Workers of the ``rhbench`` command when a core is free (:func:`spare_core`); else none.
DEFAULT_WORKERS = 1
#: At most this many (each holds the page's inputs, ~150-200 MB; the page has about a dozen sections).
MAX_WORKERS = 8


@dataclass
class Pool:
    """Started page workers: the run's end of each worker's pipe, and the first worker's pid."""

    conns: list[Connection]
    pid: int
    used: bool = False
    folders: list[Path] = field(default_factory=list)

    def render(self, inputs: object, anchors: Sequence[str], build: Callable[[object, str], str]) -> Callable[[], dict]:
        """Send ``inputs`` to the workers, which build the sections ``anchors`` in
        that order of claiming; return a function that waits and returns anchor -> HTML, every
        section a worker did not deliver built here by ``build(inputs, anchor)``."""
        folder = Path(tempfile.mkdtemp(prefix="rhbench-page-"))
        self.folders.append(folder)  # removed by close(), also when the page is never finished
        release_freed_memory()  # the run's peak is behind it; the workers' is ahead
        try:  # pickled once for every worker (the maps are ~15 MB at 0.5 degree)
            job = pickle.dumps(("page", str(folder), inputs, list(anchors)), protocol=pickle.HIGHEST_PROTOCOL)
            live = [c for c in self.conns if _send_bytes(c, job)]
        except (pickle.PicklingError, TypeError, AttributeError) as exc:  # inputs that cannot travel
            log.info("page workers not used (%s): the page is drawn in this process", exc)
            live = []

        def finish() -> dict:
            try:
                return _collect(live, folder, anchors, lambda anchor: build(inputs, anchor))
            finally:
                shutil.rmtree(folder, ignore_errors=True)
                self.close()

        return finish

    def close(self) -> None:
        """Stop the workers (they exit when their pipe closes), reap the first one (which reaps
        the others) and remove the page folders, also those of a page interrupted mid-way."""
        if self.conns:
            for conn in self.conns:
                _send(conn, ("quit",))
                conn.close()
            self.conns = []
            try:
                os.waitpid(self.pid, 0)
            except ChildProcessError:
                pass
        for folder in self.folders:
            shutil.rmtree(folder, ignore_errors=True)
        self.folders = []


_POOL: Pool | None = None


#: The kernel's load figures: 1-, 5-, 15-minute averages, then runnable/total tasks now.
LOADAVG_FILE = "/proc/loadavg"


def spare_core() -> bool:
    """Whether a core is free for a page worker: this process may run on two or more cores,
    the 1-minute load average is below their number less a half (on 2 cores: below 1.5) and,
    where the kernel says (:data:`LOADAVG_FILE`), the tasks runnable right now besides this
    one leave a core idle (on 2 cores: none). The average lags (it also counts this run's
    predecessors in a loop of runs); the count is a snapshot: both must say yes."""
    try:
        cores = len(os.sched_getaffinity(0))
        load = os.getloadavg()[0]
    except (AttributeError, OSError):  # no affinity or load average here: assume none is free
        return False
    if cores < 2 or load >= cores - 0.5:
        return False
    try:
        with open(LOADAVG_FILE, encoding="ascii") as handle:
            runnable = int(handle.read().split()[3].split("/")[0])
    except (OSError, ValueError, IndexError):  # no such file: the average alone decides
        return True
    return runnable - 1 <= cores - 2


def wanted(*, fresh_process: bool = False) -> int:
    """How many workers to start: ``RHBENCH_PAGE_WORKERS``; without it (or unreadable),
    :data:`DEFAULT_WORKERS` in a ``fresh_process`` (the ``rhbench`` command) when a core is
    free (:func:`spare_core`), else 0. Always 0 where forking is not safe here (not Linux,
    not the main thread, other threads running)."""
    default = DEFAULT_WORKERS if fresh_process and spare_core() else 0
    text = os.environ.get(WORKERS_ENV, "")
    try:
        count = int(text) if text else default
    except ValueError:
        log.warning("%s=%r is not a number of workers: %d used", WORKERS_ENV, text, default)
        count = default
    if count > MAX_WORKERS:
        log.warning("%s=%s: at most %d page workers are started", WORKERS_ENV, text, MAX_WORKERS)
        count = MAX_WORKERS
    safe = (
        sys.platform.startswith("linux")
        and threading.current_thread() is threading.main_thread()
        and threading.active_count() == 1
    )
    return max(0, count) if safe else 0


def start(*, fresh_process: bool = False) -> None:
    """Fork the page workers (see the module doc); a no-op when :func:`wanted` is 0 or they run.

    ``fresh_process``: this process ends when the command returns (the ``rhbench`` command),
    so the default number of workers applies (:func:`wanted`)."""
    global _POOL
    count = wanted(fresh_process=fresh_process)
    if _POOL is not None or count == 0:
        return
    pipes = [connection.Pipe() for _ in range(count)]
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # the first worker: never returns
        _first_worker(pipes)
    for _, child in pipes:
        child.close()
    _POOL = Pool([parent for parent, _ in pipes], pid)


def release_freed_memory() -> bool:
    """Free this process's unreachable objects and give its freed memory back to the system.

    Objects in reference cycles (some of xarray's and dask's) wait for the garbage collector,
    arrays they hold included; and glibc keeps freed blocks of its heap for reuse, so after
    reading and reducing the data a run's resident set stays near its peak although much of
    it is free. While page workers draw, the run and its workers are resident together: a
    collection (~3 ms: the command froze its imports, :func:`rhbench.importcost.collector_paused`)
    and glibc's ``malloc_trim`` first lower their summed resident memory (~40-90 MB after an
    annual 4-model run at 0.5 degree) and change no value. True when ``malloc_trim`` was
    called (Linux with glibc), else False (the collection is made either way).
    """
    gc.collect()
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        trim = ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):  # another C library (e.g. musl)
        return False
    trim(0)
    return True


def take() -> Pool | None:
    """The started pool, for one page (the next call returns None)."""
    pool = _POOL
    if pool is None or pool.used:
        return None
    pool.used = True
    return pool


def stop() -> None:
    """Stop the workers, used or not (a run that failed before its page leaves them idle)."""
    global _POOL
    pool, _POOL = _POOL, None
    if pool is not None:
        pool.close()


def _send(conn: Connection, message: tuple) -> bool:
    """Send ``message``; False when the worker is dead or the pipe closed (:func:`_send_bytes`)."""
    return _send_bytes(conn, pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL))


def _send_bytes(conn: Connection, payload: bytes) -> bool:
    """Send an already pickled message (the worker's ``recv`` unpickles it as it would a ``send``)."""
    try:
        conn.send_bytes(payload)
    except (OSError, ValueError):  # a dead worker, or a closed pipe
        return False
    return True


def _collect(live: list[Connection], folder: Path, anchors: Sequence[str], build: Callable[[str], str]) -> dict:
    """Wait for the workers' sections; build here what they did not deliver."""
    done: dict[str, str] = {}
    waiting = list(live)
    while waiting:
        for conn in connection.wait(waiting):
            try:
                message = conn.recv()
            except (EOFError, OSError):
                waiting.remove(conn)
                continue
            if message[0] == "done":
                done[message[1]] = (folder / f"{message[1]}.html").read_text(encoding="utf-8")
            else:  # "idle" (nothing left to claim) or "error"
                if message[0] == "error":
                    log.info("a page worker failed: %s", message[1])
                waiting.remove(conn)
    lost = [a for a in anchors if a not in done]
    if lost and live:
        log.info("sections drawn in this process (a page worker did not deliver them): %s", ", ".join(lost))
    return {anchor: done[anchor] if anchor in done else build(anchor) for anchor in anchors}


def _first_worker(pipes: list[tuple[Connection, Connection]]) -> None:
    """Import and warm the page's builders, fork the other workers, serve; reap them; exit."""
    children: list[int] = []
    try:
        for parent, _ in pipes:
            parent.close()
        _warm()
        for _, child in pipes[1:]:
            pid = os.fork()
            if pid == 0:  # hold only its own pipe: the run sees each worker's death as EOF
                for _, other in pipes:
                    if other is not child:
                        other.close()
                _serve(child)
                os._exit(0)
            children.append(pid)
            child.close()
        _serve(pipes[0][1])
    except BaseException:  # noqa: BLE001 - a worker never raises into the run's code
        pass
    finally:
        _reap(children)  # also after Ctrl-C: no zombie worker outlives the run
        os._exit(0)


def _reap(children: list[int]) -> None:
    """Wait for the other workers (they end when the run closes their pipes or on Ctrl-C)."""
    for pid in children:
        while True:
            try:
                os.waitpid(pid, 0)
                break
            except InterruptedError:
                continue
            except (ChildProcessError, KeyboardInterrupt):
                break


def _warm() -> None:
    """Import the page's builders and draw one small figure (:func:`rhbench.report.page_sections.warm`)."""
    from rhbench.report import page_sections

    page_sections.warm()


def _serve(conn: Connection) -> None:
    """Answer ``("page", folder)`` jobs until the pipe closes or ``("quit",)``."""
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message[0] != "page":
            return
        try:
            _draw(conn, Path(message[1]), message[2], message[3])
        except Exception as exc:  # noqa: BLE001 - reported; the run draws what is left
            _send(conn, ("error", f"{type(exc).__name__}: {exc}"))
            continue
        _send(conn, ("idle",))


def _draw(conn: Connection, folder: Path, inputs: object, anchors: Sequence[str]) -> None:
    """Claim and build sections of the page whose claims and HTML files are in ``folder``
    until none is left."""
    from rhbench.report import page_sections

    for anchor in anchors:
        try:
            os.close(os.open(folder / f"{anchor}.claim", os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            continue
        text = page_sections.build(inputs, anchor)
        part = folder / f"{anchor}.part"
        part.write_text(text, encoding="utf-8")
        os.replace(part, folder / f"{anchor}.html")
        if not _send(conn, ("done", anchor)):
            return
