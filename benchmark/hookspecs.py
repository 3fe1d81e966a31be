"""The rhbench plugin contract.

A plugin is a Python module (or any object) with functions marked ``@hookimpl``. rhbench
finds plugins through the ``rhbench`` entry-point group, built-in and third-party alike::

    [project.entry-points.rhbench]
    mymodel = "mymodel_rhbench"

The module then implements the hook below. Plugins are declarative: they say *what* a
source is; the core opens, checks, converts and benchmarks it.
"""

from __future__ import annotations

import pluggy

PROJECT_NAME = "rhbench"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


@hookspec
def rhbench_sources() -> list:
    """Return the data sources this plugin provides.

    Called once per run, when the registry is built, before any data is opened.
    Must be cheap and must not touch the file system or the network.

    :return: a list of :class:`rhbench.sources.Source` descriptors. Each one names
        the source, its kind (``dgvm``, ``rh``, ``csoil``, ``clitter``, ``landcover``,
        ``ndvi``, ``sites``, ``predictors``), its intake catalog entry, the variables it
        provides with their names and declared units *in the file*, its citation,
        period and quirks, and optionally one small ``preprocess`` function for quirks
        that declarations cannot express.

    A plugin that raises here, or returns something that is not a list of valid
    ``Source`` objects, is reported by ``rhbench plugins`` as broken and skipped; the
    other plugins are unaffected.
    """
