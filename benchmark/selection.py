"""Which models and products a run benchmarks: the ``models`` / ``products`` selections, checked.

A run's models come from two sources, the DGVM plugins and the CMIP6 folders or catalogs
(``--cmip6`` / ``cmip6 = [...]``, :mod:`rhbench.cmip6`), and ``--models`` / ``models = [...]``
selects across both by the names the run reports (``CLM5.0``, ``CanESM5.r1i1p1f1``). A name
that matches no model is a configuration error (exit 2) with a did-you-mean
(:func:`rhbench.registry.unknown_names_hint`); a CMIP6 model found but left out of an explicit
selection is said in a warning, never dropped without a word. Without a selection, a DGVM
plugin none of whose files is in the data root is ``absent`` (not a failure), as an
observation product is (:func:`model_absence`); a selected one is read, and fails when its
files are missing.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

from rhbench import catalog, cmip6, fileops
from rhbench.config import RunConfig
from rhbench.errors import ConfigError, DataError
from rhbench.registry import Registry, unknown_names_hint
from rhbench.sources import Source

__all__ = ["check_models", "check_products", "cmip6_models", "model_absence", "model_count"]

log = logging.getLogger(__name__)


def cmip6_models(config: RunConfig, discovered: list[Source]) -> RunConfig:
    """With CMIP6 folders or catalogs and no ``models`` selection, the models are the CMIP6
    ones found (not also every TRENDY plugin, whose files a CMIP6 user does not have).

    Raises
    ------
    ConfigError
        When the folders and catalogs hold no model with a variable rhbench benchmarks.
    """
    if not config.cmip6:
        return config
    if not discovered:
        raise ConfigError(
            "no CMIP6 model with a benchmarked variable found (the log names what each folder holds)",
            variable="cmip6",
            found=[str(p) for p in config.cmip6],
            expected=f"CMOR-named files of at least one of {', '.join(cmip6.VARIABLES)}",
        )
    return config if config.models is not None else replace(config, models=tuple(s.name for s in discovered))


def check_models(config: RunConfig, registry: Registry, discovered: list[Source] = ()) -> None:
    """Refuse a ``models`` selection naming no model, or a name neither a DGVM plugin nor a CMIP6
    folder or catalog provides (with a did-you-mean); warn of CMIP6 models found but not selected.

    ``discovered``: the CMIP6 sources the run found (already in ``registry``, kind ``dgvm``).
    """
    if config.models is None:
        return
    known = [s.name for s in registry.of_kind("dgvm")]
    unknown = [name for name in config.models if name not in known]
    if not config.models or unknown:
        raise ConfigError(
            "unknown model names in models" if unknown else "models is empty",
            variable="models",
            found=unknown or "[]",
            expected=known,
            hint=unknown_names_hint(unknown, known, registry, cmip6_given=bool(config.cmip6)) if unknown else None,
        )
    left_out = [s.name for s in discovered if s.name not in config.models]
    if left_out:
        log.warning(
            "%d CMIP6 model(s) found but not in models, not benchmarked: %s (name them in --models or "
            "models = [...] to benchmark them)",
            len(left_out),
            ", ".join(left_out),
        )


def check_products(config: RunConfig, registry: Registry) -> None:
    """Refuse ``csoil_products`` / ``products`` naming no such source (a typo benchmarked without it, exit 0)."""
    choices = {
        "csoil_products": [s.name for s in registry.of_kind("csoil")],
        "products": sorted(name for name, s in registry.sources.items() if s.kind != "dgvm"),
    }
    for key, known in choices.items():
        unknown = [name for name in getattr(config, key) or () if name not in known]
        if unknown:
            raise ConfigError(f"unknown product names in {key}", variable=key, found=unknown, expected=known)


def model_count(config: RunConfig, registry: Registry) -> int | None:
    """How many models the run will read, for a progress bar, before CMIP6 folders are scanned:
    the selection's size, else the DGVM plugins' count; None (unknown) for CMIP6 folders without
    a selection (every model found is read)."""
    if config.models is not None:
        return len(config.models)
    return None if config.cmip6 else len(registry.of_kind("dgvm"))


def model_absence(config: RunConfig, source: Source, root: Path, *, builtin: bool = True) -> str | None:
    """Why the run leaves DGVM ``source`` out as ``absent``, or None when it reads it.

    Only without a ``models`` selection, and only for rhbench's own plugins (``builtin``: the
    TRENDY ones a model team has no files of): one none of whose files is in the data root is
    absent, like an observation product. An installed third-party plugin (the user's own model:
    a misspelt folder must fail, naming the path), a model with some of its files, a selected
    model, a model whose catalog entry cannot be read, or a file that is a link to a missing path
    is read, and fails saying why.
    """
    if config.models is not None or source.files is not None or not builtin:
        return None
    paths = catalog.declared_paths(source, root)
    if paths is None:  # a broken entry is a failure, reported by the loader
        return None
    for path in paths:  # a link to nothing: the user set the model up, so it fails
        try:
            fileops.refuse_broken_link(path, DataError, source=source.name, expected="a link to the model's file")
        except DataError:
            return None
    if any(path.exists() for path in paths):
        return None
    return f"none of its files is in the data root (e.g. {paths[0]}); name it in --models to require them"
