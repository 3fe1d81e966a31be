"""``rhbench new-plugin {dgvm,dataset} NAME``: scaffold an installable plugin package."""

from __future__ import annotations

import argparse
import logging
import os
import shlex
from pathlib import Path

from rhbench.scaffold import DATASET_KINDS, PLUGIN_TYPES, scaffold_plugin

log = logging.getLogger(__name__)


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``new-plugin`` sub-command."""
    parser = subparsers.add_parser(
        "new-plugin",
        help="scaffold an installable plugin package for a model or dataset",
        description="Write rhbench-NAME/ (pyproject.toml with the `rhbench` entry point, the plugin module, its "
        "catalog of file paths, README.md, tests) declaring a model's or product's files; nothing in rhbench "
        "changes. Next: edit it, then pip install it (README: Add a model). Exit 0; 2: the folder exists.",
    )
    parser.add_argument("type", choices=PLUGIN_TYPES, help="dgvm (a model) or dataset (a product)")
    parser.add_argument("name", help="the source's display name, e.g. MyModel")
    parser.add_argument("--dir", type=Path, default=Path.cwd(), help="parent folder (default: .)")
    parser.add_argument(
        "--kind", choices=DATASET_KINDS, default="csoil", help="kind of a dataset plugin (default csoil)"
    )
    parser.set_defaults(func=run)
    return parser


def run(args: argparse.Namespace) -> int:
    """Write the package; exit 0."""
    root = scaffold_plugin(args.type, args.name, args.dir, kind=args.kind)
    log.info("plugin package written to %s; next: edit it, then `%s` (see its README.md)", root, install_command(root))
    return 0


def install_command(root: Path) -> str:
    """``pip install ./<folder>``: a path, never a bare name (pip would look a bare name up in the package index)."""
    try:
        shown = Path(os.path.relpath(Path(root).resolve(), Path.cwd()))
    except ValueError:  # another drive (Windows)
        shown = Path(root).resolve()
    text = shown.as_posix()
    if not shown.is_absolute() and not text.startswith(("./", "../")):
        text = f"./{text}"
    return f"pip install {shlex.quote(text)}"
