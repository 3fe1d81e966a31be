"""``rhbench data [--data-root DIR] [--json] [--source NAME]``: each source's expected files, present or not."""

from __future__ import annotations

import argparse
import json
import logging
from dataclasses import replace
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from rhbench import cmip6
from rhbench.config import refuse_data_root_not_folder, resolve_data_root
from rhbench.errors import ConfigError
from rhbench.registry import Registry, close_names


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``data`` sub-command."""
    parser = subparsers.add_parser(
        "data",
        help="list the files every source expects (path, variable, units), whether present, verified, fetchable",
        description="List every file the sources expect under the data root: its path, the variable and units "
        "the file must hold, whether it is present, whether its SHA-256 matches the catalog's pin, and how to "
        "get it (`rhbench fetch NAME`, or what to download and write). Exit 0.",
    )
    parser.add_argument("--data-root", type=Path, help="data root (default: RHBENCH_DATA)")
    parser.add_argument(
        "--ilamb-root", type=Path, help="ILAMB data folder for ILAMB-hosted files (default: ROOT/ILAMB)"
    )
    parser.add_argument("--json", action="store_true", help="print JSON: one object per expected file")
    parser.add_argument("--no-verify", action="store_true", help="do not hash present files against catalog pins")
    parser.add_argument(
        "--source",
        action="append",
        metavar="NAME",
        help="list only this source's files, e.g. your model (repeatable; names as `rhbench plugins` lists them)",
    )
    cmip6.add_arguments(parser)
    parser.set_defaults(func=run)
    return parser


def _mark(value: bool | None) -> str:
    return {True: "yes", False: "NO", None: "-"}[value]


def _table(rows: list) -> Table:
    table = Table(title="files rhbench expects (variable and units as the file must hold them)")
    for column in ("source", "kind", "path", "variable [units]", "present", "verified", "how to get it"):
        table.add_column(column, overflow="fold")
    for row in rows:
        found = f"\nfile says {row.found_units}" if row.found_units and row.found_units != row.units else ""
        found += f"\nPROBLEM: {row.problem}" if row.problem else ""
        table.add_row(
            row.source,
            row.kind,
            escape(row.path),
            escape(f"{row.file_variable} [{row.units}]{found}"),
            _mark(row.present),
            _mark(row.verified),
            escape(row.get),
        )
    return table


def _only(registry: Registry, names: list[str] | None) -> Registry:
    """``registry`` cut to the sources ``names`` (all without); a name no source has is a ConfigError
    with the close one."""
    if not names:
        return registry
    known = sorted(registry.sources)
    unknown = [name for name in names if name not in registry.sources]
    if unknown:
        close = [c for name in unknown for c in close_names(name, known)]
        raise ConfigError(
            "unknown source names in --source",
            variable="--source",
            found=unknown,
            expected="a name `rhbench plugins` lists",
            hint=f"did you mean {', '.join(map(repr, close))}?" if close else None,
        )
    return replace(registry, sources={name: registry.sources[name] for name in names})


def run(args: argparse.Namespace) -> int:
    """Print the inventory; exit 0 (listing never fails on missing files)."""
    from rhbench.inventory import inventory

    registry, config_root = cmip6.registry_for(args)
    data_root = resolve_data_root(args.data_root, config_root)
    if data_root is None:
        raise ConfigError("no data root: pass --data-root, set data_root in --config, or RHBENCH_DATA")
    refuse_data_root_not_folder(data_root, missing_ok=True)
    if not data_root.is_dir():
        logging.getLogger("rhbench").warning(
            "data root %s does not exist: every file below is absent (`rhbench fetch --all --dest %s` creates it)",
            data_root,
            data_root,
        )
    rows = inventory(_only(registry, args.source), data_root, ilamb_root=args.ilamb_root, verify=not args.no_verify)
    if args.json:
        print(json.dumps([row.to_dict() for row in rows], indent=2))
    else:
        Console(width=200).print(_table(rows))
    return 0
