"""``rhbench fetch NAME`` / ``rhbench fetch --all``: download pinned public files, verify their hashes."""

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

from rhbench.config import refuse_data_root_not_folder, resolve_data_root
from rhbench.errors import ConfigError, RhbenchError
from rhbench.fetch import Download, ProgressCallback, download_specs, fetch, find_source
from rhbench.registry import build_registry

log = logging.getLogger(__name__)


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``fetch`` sub-command."""
    parser = subparsers.add_parser(
        "fetch",
        help="download a public dataset (e.g. srdb, HWSD) or --all of them, verify hashes, put them in the data root",
        description="Download a public dataset whose catalog entry pins its file's hash into the data root at its "
        "catalog path, keeping it only when the hash matches; a file already there with the pinned hash is "
        "kept, a different one replaced only with --force. Exit 0; 2: the download or hash failed; "
        "with --all, 1 when any file failed.",
    )
    parser.add_argument("name", nargs="?", help="source name (e.g. SRDB-V5) or plugin name (e.g. srdb)")
    parser.add_argument("--all", action="store_true", help="fetch every source whose catalog entry pins its files")
    parser.add_argument("--dest", type=Path, help="data root to place the files in (default: RHBENCH_DATA)")
    parser.add_argument(
        "--ilamb-root", type=Path, help="ILAMB data folder for ILAMB-hosted files (default: DEST/ILAMB)"
    )
    parser.add_argument(
        "--url",
        help="download from this URL or local path instead of the catalog's (one file; the catalog hash still applies)",
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


def _wanted(args: argparse.Namespace) -> list[Download]:
    registry = build_registry()
    if args.all == bool(args.name):
        raise ConfigError("name one source or pass --all", found=args.name, expected="NAME or --all")
    if args.name:
        specs = download_specs(find_source(registry, args.name))
        if args.url and len(specs) != 1:
            raise ConfigError("--url needs a one-file source", source=args.name, found=len(specs))
        return specs
    if args.url:
        raise ConfigError("--url applies to one source, not --all")
    specs: list[Download] = []
    for source in sorted(registry.sources.values(), key=lambda s: s.name):
        try:
            specs += download_specs(source)
        except RhbenchError as why:
            log.info("%s: not fetchable (%s)", source.name, why.found or why)
    return specs


def run(args: argparse.Namespace) -> int:
    """Fetch one source's files or all pinned files; exit 0 when every one is in place with the right hash."""
    data_root = resolve_data_root(args.dest)
    if data_root is None:
        raise ConfigError("no destination: pass --dest or set RHBENCH_DATA", source=args.name)
    refuse_data_root_not_folder(data_root, missing_ok=True, variable="--dest (or RHBENCH_DATA)")
    specs = _wanted(args)
    failed: list[str] = []
    for spec in specs:
        try:
            with _progress_bar(spec.source, getattr(args, "quiet", False)) as progress:
                path = fetch(
                    spec,
                    data_root,
                    url=_as_url(args.url),
                    force=args.force,
                    progress=progress,
                    ilamb_root=args.ilamb_root,
                )
        except RhbenchError as why:
            if not args.all:
                raise
            log.error("%s: %s", spec.source, why)
            failed.append(spec.source)
            continue
        log.info("%s (%s) is at %s (hash verified)", spec.source, spec.variable, path)
    if failed:
        log.error("%d of %d files could not be fetched: %s", len(failed), len(specs), ", ".join(failed))
        return 1
    return 0
