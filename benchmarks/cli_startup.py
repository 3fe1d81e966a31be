"""Wall time of the command line's fixed cost: ``rhbench --help`` and the light commands.

Target (issue 18): ``rhbench --help`` under 0.5 s wall on the 2-core machine. Each
command runs in a fresh process; the best of ``--repeats`` runs is kept (the first run
also pays for a cold page cache)::

    python -m benchmarks.cli_startup            # --repeats 5
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time

TARGET_HELP_S = 0.5
COMMANDS = (("--help",), ("run", "--help"), ("plugins", "--json"))


def wall_time(argv: tuple[str, ...], repeats: int) -> float:
    """Best wall time in seconds of ``rhbench *argv`` over ``repeats`` fresh processes."""
    exe = shutil.which("rhbench")
    command = [exe, *argv] if exe else [sys.executable, "-m", "rhbench.cli", *argv]
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        best = min(best, time.perf_counter() - started)
    return best


def main(argv: list[str] | None = None) -> int:
    """Print one line per command; exit 0 (a report, not a test)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    for command in COMMANDS:
        seconds = wall_time(command, args.repeats)
        target = f"  (target < {TARGET_HELP_S} s: {'met' if seconds < TARGET_HELP_S else 'MISSED'})"
        print(f"rhbench {' '.join(command):<16} {seconds:6.3f} s{target if command == ('--help',) else ''}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
