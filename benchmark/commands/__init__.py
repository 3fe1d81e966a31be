"""One module per ``rhbench`` sub-command: each has ``add_parser(subparsers)`` and ``run(args) -> int``."""
