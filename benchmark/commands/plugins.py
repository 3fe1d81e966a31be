"""``rhbench plugins``: every registered plugin, its kind, package, variables and data availability."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from rhbench import catalog, cmip6
from rhbench.config import resolve_data_root
from rhbench.errors import RhbenchError
from rhbench.registry import Registry, build_registry


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``plugins`` sub-command."""
    parser = subparsers.add_parser(
        "plugins",
        help="list every registered plugin (built-in and installed)",
        description="List every source rhbench knows: built-in and installed plugins (entry-point group "
        "`rhbench`) and CMIP6 models found, with kind, package and variables; with a data root, whether "
        "their files are there. A broken plugin is listed with the reason. Exit 0.",
    )
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument("--data-root", help="data root to check availability against (default RHBENCH_DATA)")
    cmip6.add_arguments(parser)
    parser.set_defaults(func=run)
    return parser


#: The data column of a product rhbench builds (catalog ``built_by: upscaling``) whose file is absent.
BUILT_BY_UPSCALING = "built by `rhbench upscale` (and by `rhbench run`) from the site table and predictors"


def _availability(source, data_root) -> str:
    if source.files is not None:  # a source family (CMIP6): its own file list
        paths = [Path(p) for files in source.files.values() for p in files]
        missing = [p.name for p in paths if not p.is_file()]
        return f"{len(paths)} files found" if not missing else f"missing: {', '.join(missing)}"
    if data_root is None:
        return "no data root"
    try:
        entry = catalog.entry_for(source)
        missing = [v for v, rel in entry.files.items() if not catalog.resolve_file(data_root, rel).exists()]
    except RhbenchError as exc:
        return f"catalog error: {exc}"
    if missing and entry.built_by == "upscaling":  # a product rhbench makes, not a file to find
        return BUILT_BY_UPSCALING
    return "available" if not missing else f"missing: {', '.join(missing)}"


def listing(
    data_root: str | os.PathLike | None = None, registry: Registry | None = None, config_root: str | None = None
) -> dict:
    """The plugin listing as a JSON-ready mapping with keys ``sources`` and ``broken``.

    ``registry`` defaults to the installed plugins; with CMIP6 sources registered
    (:func:`rhbench.cmip6.registry_for`) they are listed too, with their package
    ``CMIP6 files (<location>)`` and the count of their files.
    """
    registry = registry or build_registry()
    root = resolve_data_root(data_root, config_root)
    sources = [
        {
            "name": s.name,
            "kind": s.kind,
            "package": registry.packages.get(s.name, ""),
            "plugin": s.plugin,
            "catalog_entry": s.catalog_entry,
            "citation": s.citation,
            "variables": {k: {"file_name": v.file_name, "units": v.units} for k, v in s.variables.items()},
            "quirks": sorted(s.quirks),
            "data": _availability(s, root),
        }
        for s in sorted(registry.sources.values(), key=lambda s: (s.kind, s.name))
    ]
    broken = [{"name": b.name, "package": b.package, "reason": b.reason} for b in registry.broken]
    return {"sources": _without_sites_said(sources), "broken": broken}


def _without_sites_said(sources: list[dict]) -> list[dict]:
    """``sources`` with a product built by the upscaling said missing when no site table is
    available either (a run then has no reference: exit 2)."""
    sites = [s["name"] for s in sources if s["kind"] == "sites"]
    if any(s["data"] == "available" for s in sources if s["kind"] == "sites"):
        return sources
    for s in sources:
        if s["data"] == BUILT_BY_UPSCALING:
            s["data"] = (
                f"missing: {', '.join(s['variables'])}, and so is the site table it is built from ({', '.join(sites)})"
            )
    return sources


def run(args: argparse.Namespace) -> int:
    """Print the listing; exit 0 (broken plugins are listed, not fatal)."""
    registry, config_root = cmip6.registry_for(args)
    result = listing(args.data_root, registry, config_root)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    table = Table(title=f"rhbench plugins ({len(result['sources'])} sources, {len(result['broken'])} broken)")
    for column in ("name", "kind", "package", "variables", "data"):
        table.add_column(column)
    for s in result["sources"]:
        table.add_row(*(escape(t) for t in (s["name"], s["kind"], s["package"], ", ".join(s["variables"]), s["data"])))
    for b in result["broken"]:
        # plugin-provided text is shown as written: '[project.entry-points.rhbench]' is not rich markup
        table.add_row(f"[red]{escape(b['name'])}[/red]", "BROKEN", escape(b["package"]), escape(b["reason"]), "")
    Console().print(table)
    return 0
