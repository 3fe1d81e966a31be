"""Progress bars for long steps (rich), silent with ``--quiet`` or when not on a terminal."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn


@contextlib.contextmanager
def progress_callback(description: str, *, total: int | None, quiet: bool = False) -> Iterator[Callable[[str], None]]:
    """A callback that advances a progress bar by one step, labelled with the item's name (``total`` None: unknown)."""
    if quiet or not sys.stderr.isatty():
        yield lambda _name: None
        return
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[item]}"),
    )
    with Progress(*columns, transient=True) as bar:
        task = bar.add_task(description, total=total, item="")

        def step(name: str) -> None:
            bar.update(task, advance=1, item=name)

        yield step
