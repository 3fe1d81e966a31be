"""One module per ``rhbench`` sub-command: each has ``add_parser(subparsers)`` and ``run(args) -> int``.

The command line (:mod:`rhbench.cli`) imports a module only when its command runs, so a module
may import what its command needs at the top; heavy stages (the pipeline, plotting) are imported
inside ``run``.
"""
