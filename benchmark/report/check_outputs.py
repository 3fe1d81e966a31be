"""Where ``rhbench check`` may write its reports (``--junit``, ``--markdown``).

Nothing a user made is overwritten: a report path may be a new file, or a file an earlier
``rhbench check`` wrote there (recognised by its first lines, so that a CI job re-running the
gate into the same path keeps working). It may never be the scorecard or baseline the gate
reads, the other report's path, a folder, a symbolic link to nothing, or any other existing
file. Every path is checked before anything is read or written.
"""

from __future__ import annotations

import re
from pathlib import Path

from rhbench.errors import OutputExistsError
from rhbench.fileops import refuse_broken_link, write_text_atomic

#: How each report kind starts when ``rhbench check`` wrote it (the first 4 KiB are read).
WRITTEN_BY_CHECK = {
    "junit": re.compile(r'\A<\?xml[^>]*>\s*<testsuites>\s*<testsuite name="rhbench check"'),
    "markdown": re.compile(r"\A### \S+ rhbench check (PASSED|FAILED)"),
}
_EXPECTED = "a new file, or a report an earlier `rhbench check` wrote"


def _written_by_check(path: Path, kind: str) -> bool:
    """Whether the existing file ``path`` starts as a ``kind`` report of ``rhbench check``."""
    with open(path, "rb") as handle:
        head = handle.read(4096).decode("utf-8", errors="replace")
    return WRITTEN_BY_CHECK[kind].search(head) is not None


def refuse_unsafe_report_paths(reports: dict[str, Path | None], inputs: dict[str, Path]) -> None:
    """Raise :class:`OutputExistsError` naming the option and the file when a report path
    (``reports``: kind -> path or None, kind ``junit`` or ``markdown``) would overwrite
    something a user made or one of ``inputs`` (role, e.g. ``"scorecard"`` -> path)."""
    readers = {Path(path).resolve(): role for role, path in inputs.items()}
    claimed: dict[Path, str] = {}
    for kind, path in reports.items():
        if path is None:
            continue
        option = f"--{kind}"
        refuse_broken_link(path, OutputExistsError, expected=_EXPECTED)
        target = Path(path).resolve()
        if target in readers:
            raise OutputExistsError(
                f"{option} names the {readers[target]} the gate reads", file=str(path), expected=_EXPECTED
            )
        if target in claimed:
            raise OutputExistsError(f"{option} and {claimed[target]} name the same file", file=str(path))
        claimed[target] = option
        if target.is_dir():
            raise OutputExistsError(f"{option} names a folder", file=str(path), expected=_EXPECTED)
        if target.exists() and not _written_by_check(target, kind):
            raise OutputExistsError(
                f"{option} would overwrite a file rhbench check did not write; choose another path",
                file=str(path),
                expected=_EXPECTED,
            )


def write_report(path: Path | None, text: str) -> None:
    """Write a report checked by :func:`refuse_unsafe_report_paths` (atomically; through a
    symbolic link to an earlier report, which stays a link)."""
    if path is not None:
        write_text_atomic(Path(path).resolve(), text)
