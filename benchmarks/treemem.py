"""Peak memory of a process *tree*: the summed resident sets of a process and its descendants.

``getrusage``/``wait4`` give one process's peak RSS (the largest of it and its waited-for
children), which undercounts a command that runs helper processes at the same time (the page
workers of ``rhbench run``, :mod:`rhbench.report.workers`). :class:`TreeMemory` samples
``/proc`` while the command runs and keeps the largest sum of ``VmRSS`` over the tree. The sum
counts a page shared by two processes (libraries, copy-on-write memory after a fork) twice, so
it is an upper bound of the memory the command holds. Linux only; elsewhere it reports None.
"""

from __future__ import annotations

import threading
from pathlib import Path

#: Seconds between samples.
INTERVAL = 0.02


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(p) for p in (task / "children").read_text().split()]
        except (OSError, ValueError):
            continue
    return found


def _rss(pid: int) -> int:
    """Resident set of ``pid`` in bytes (0 when it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def tree_rss(pid: int) -> int:
    """Summed resident sets (bytes) of ``pid`` and every descendant now."""
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        total += _rss(current)
        todo += _children(current)
    return total


class TreeMemory:
    """``with TreeMemory(pid) as memory: ...`` samples the tree of ``pid``; ``memory.peak``
    is the largest summed RSS seen (bytes), None where ``/proc`` is not available."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak: int | None = 0 if Path("/proc/self/status").is_file() else None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while True:
            self.peak = max(self.peak or 0, tree_rss(self.pid))
            if self._stop.wait(INTERVAL):
                return

    def __enter__(self) -> TreeMemory:
        if self.peak is not None:
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
