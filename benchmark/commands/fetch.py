"""``rhbench fetch NAME``: download public data, check its sha256, place it in the data root."""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
from collections.abc import Iterator
from pathlib import Path

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from rhbench.config import resolve_data_root
from rhbench.errors import ConfigError
from rhbench.fetch import ProgressCallback, download_spec, fetch, find_source
from rhbench.registry import build_registry

log = logging.getLogger(__name__)


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``fetch`` sub-command."""
    parser = subparsers.add_parser(
        "fetch",
        help="download a public dataset (e.g. srdb), verify its checksum, put it in the data root",
    )
    parser.add_argument("name", help="source name (e.g. SRDB-V5) or plugin name (e.g. srdb)")
    parser.add_argument("--dest", type=Path, help="data root to place the file in (default: RHBENCH_DATA)")
    parser.add_argument(
        "--url",
        help="download from this URL or local path instead of the catalog's (the catalog checksum still applies)",
    )
    parser.add_argument("--force", action="store_true", help="replace an existing file that differs")
    parser.set_defaults(func=run)
    return parser


def _as_url(value: str | None) -> str | None:
    """A URL as given, or a ``file://`` URL for a local path."""
    if value is None or "://" in value:
        return value
    return Path(value).expanduser().resolve().as_uri()


@contextlib.contextmanager
def _progress_bar(name: str, quiet: bool) -> Iterator[ProgressCallback | None]:
    if quiet or not sys.stderr.isatty():
        yield None
        return
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(f"fetching {name}", total=None)

        def update(done: int, total: int | None) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def run(args: argparse.Namespace) -> int:
    """Fetch one source's file; exit 0 when it is in place with the right checksum."""
    data_root = resolve_data_root(args.dest)
    if data_root is None:
        raise ConfigError("no destination: pass --dest or set RHBENCH_DATA", source=args.name)
    spec = download_spec(find_source(build_registry(), args.name))
    with _progress_bar(spec.source, getattr(args, "quiet", False)) as progress:
        path = fetch(spec, data_root, url=_as_url(args.url), force=args.force, progress=progress)
    log.info("%s is at %s (sha256 verified)", spec.source, path)
    return 0
