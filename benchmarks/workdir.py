"""The work folders and report files of the dev benchmarks: never a user's files.

A benchmark's ``--out`` is a work folder it fills (data, runs, reports) and may later clear
parts of (``demo-cache``). :func:`claim_workdir` accepts a folder that does not exist, is
empty, or holds :data:`MARKER` (written here on first use); any other folder is refused with
an :class:`~rhbench.errors.OutputExistsError` naming it, so a slip such as ``--out ~``
never overwrites or deletes what a user made. :func:`claim_report_file` does the same for a
single report file (``--json``): a new file, or one a benchmark wrote (JSON with ``marker``).
"""

from __future__ import annotations

import json
from pathlib import Path

from rhbench.errors import OutputExistsError
from rhbench.ownership import foreign_folder, write_marker

#: File marking a folder as a benchmark's work folder.
MARKER = ".rhbench-bench"


def claim_workdir(path: Path) -> Path:
    """``path`` created (with :data:`MARKER`) or reused when it holds the marker; else refused."""
    path = Path(path).expanduser()
    if path.exists() and not path.is_dir():
        raise OutputExistsError("the benchmark's --out is not a folder", file=str(path), expected="a folder")
    if foreign_folder(path, MARKER):
        raise OutputExistsError(
            f"the benchmark's --out holds files it did not write (no {MARKER} marker)",
            file=str(path),
            expected="a new or empty folder, or one an earlier benchmark run wrote",
        )
    path.mkdir(parents=True, exist_ok=True)
    write_marker(path, MARKER, "work folder of rhbench's dev benchmarks (benchmarks/)\n")
    return path


def claim_report_file(path: Path, marker: str) -> Path:
    """``path`` when it does not exist or is a JSON report holding ``{marker: true}``; else refused."""
    path = Path(path).expanduser()
    if path.is_symlink() or path.exists():
        try:
            ours = json.loads(path.read_text(encoding="utf-8")).get(marker) is True
        except (OSError, ValueError, AttributeError):
            ours = False
        if not ours or path.is_symlink():
            raise OutputExistsError(
                "the report file exists and is not one this benchmark wrote",
                file=str(path),
                expected=f"a new file, or a JSON report holding {{{marker!r}: true}}",
            )
    return path
