"""Run configuration from a TOML file (data, not code: read with tomllib, unknown keys refused).

Example::

    data_root = "/data/rhbench"          # catalog paths are relative to this
    ilamb_root = "/data/ILAMB"           # an existing ILAMB data folder for ILAMB/ paths (default DATA_ROOT/ILAMB)
    models = ["CLM5.0", "JSBACH"]        # default: every DGVM plugin found
    reference = "RF-Rh"                  # the reference Rh product (an rh plugin)
    csoil_products = ["WISE30sec", "Bloom2016", "SoilGrids", "HWSD", "Sanderman2017"]
    products = ["Hashimoto2015", "WISE30sec", "MCD12C1"]  # observation products used (default: all present)
    resolution = 0.5                     # common grid, degrees
    period = [1982, 2018]                # benchmark period, inclusive
    seed = 0
    n_draws = 100                        # Monte Carlo draws per observed turnover time
    use_cache = true                     # reuse reduced model products and the built reference (RHBENCH_CACHE)
"""

from __future__ import annotations

import argparse
import json
import os
import tomllib
from dataclasses import dataclass, fields, replace
from pathlib import Path

from rhbench.errors import ConfigError

#: The benchmark period and the years whose mean turnover time the 2-box constraint matches to
#: the observation (inclusive; the paper's 1982-2018).
REFERENCE_PERIOD: tuple[int, int] = (1982, 2018)
#: Environment variable naming the data root when neither the command line nor the config does.
DATA_ROOT_ENV = "RHBENCH_DATA"
#: The default reference Rh product (an rh plugin).
DEFAULT_REFERENCE = "RF-Rh"
#: Common grid of the no-argument (SYNTHETIC demo) run, degrees.
DEMO_RESOLUTION = 2.0


@dataclass
class RunConfig:
    """What a run does.

    ``data_root`` is where the catalogs' relative paths point; the pipeline needs one.
    ``demo=True`` means the command line prepared the SYNTHETIC demo at ``data_root``
    (``data_root=None`` then asks it to use the cached demo for these settings).
    ``products`` names the observation products the run uses (the reference always is):
    None uses every product whose files are in the data root and reports the others
    ``absent``; a named product that is absent or fails is a failure (exit 3).
    ``resolution`` is the common grid spacing in degrees; ``period`` the first and last
    year (inclusive) of the benchmark; ``n_draws`` the Monte Carlo draws of the 2-box.
    ``cmip6`` lists folders of CMOR-named files and intake-esm catalog JSON files whose
    models are benchmarked as DGVMs (:mod:`rhbench.cmip6`).
    """

    data_root: Path | None = None
    out: Path | None = None
    models: tuple[str, ...] | None = None
    reference: str = DEFAULT_REFERENCE
    csoil_products: tuple[str, ...] | None = None
    products: tuple[str, ...] | None = None
    resolution: float = 0.5
    period: tuple[int, int] = REFERENCE_PERIOD
    seed: int = 0
    n_draws: int = 100
    quick_upscaling: bool = False
    force: bool = False
    demo: bool = False
    demo_monthly: bool = False
    scheduler: str | None = None
    use_cache: bool = True
    cmip6: tuple[Path, ...] = ()
    ilamb_root: Path | None = None


#: Accepted common-grid spacings, degrees: finer than 0.05 deg is a grid of over 25 million
#: cells (no product is benchmarked at that size), coarser than 10 deg leaves no regions.
RESOLUTION_RANGE = (0.05, 10.0)
#: Largest seed numpy's legacy RandomState accepts.
SEED_MAX = 2**32 - 1


def validate(config: RunConfig, *, file: str | None = None) -> RunConfig:
    """Refuse settings no run can use, with a :class:`ConfigError` naming the key; returns ``config``.

    ``resolution`` finite within :data:`RESOLUTION_RANGE`; ``seed`` a non-negative integer
    (numpy refuses negative seeds); ``n_draws`` at least 1; ``models`` not an empty list.
    """
    low, high = RESOLUTION_RANGE
    resolution = config.resolution
    if isinstance(resolution, bool) or not isinstance(resolution, int | float) or not low <= resolution <= high:
        raise ConfigError(
            "resolution must be a finite number of degrees",
            file=file,
            variable="resolution",
            found=repr(resolution),
            expected=f"{low:g} to {high:g}",
        )
    if isinstance(config.seed, bool) or not isinstance(config.seed, int) or not 0 <= config.seed <= SEED_MAX:
        raise ConfigError(
            "seed must be a non-negative integer",
            file=file,
            variable="seed",
            found=repr(config.seed),
            expected=f"0 to {SEED_MAX}",
        )
    if isinstance(config.n_draws, bool) or not isinstance(config.n_draws, int) or config.n_draws < 1:
        raise ConfigError("n_draws must be an integer >= 1", file=file, variable="n_draws", found=repr(config.n_draws))
    if config.models is not None and not config.models:
        raise ConfigError(
            "models is empty: name at least one DGVM, or leave models out to benchmark every DGVM found",
            file=file,
            variable="models",
            found="[]",
        )
    if config.csoil_products is not None and not config.csoil_products:
        raise ConfigError(
            "csoil_products is empty: name at least one cSoil product, or leave it out to use the default mean",
            file=file,
            variable="csoil_products",
            found="[]",
        )
    return config


def resolve_data_root(cli_value: str | os.PathLike | None = None, config_value: str | None = None) -> Path | None:
    """The data root: command line, then config file, then ``RHBENCH_DATA``; None when unset."""
    for value in (cli_value, config_value, os.environ.get(DATA_ROOT_ENV)):
        if value:
            return Path(value).expanduser().resolve()
    return None


#: How a data root is given (named by the errors about it).
DATA_ROOT_NAMES = "data_root (--data-root, the config's data_root or RHBENCH_DATA)"


def refuse_data_root_not_folder(root: Path | None, *, missing_ok: bool, variable: str = DATA_ROOT_NAMES) -> None:
    """:class:`ConfigError` naming ``root`` when it is a file, or (unless ``missing_ok``: ``rhbench data``
    and ``fetch`` list and fill a root not made yet) when it does not exist; nothing for None or a folder."""
    if root is None or root.is_dir() or (missing_ok and not root.exists()):
        return
    raise ConfigError(
        "the data root is not a folder",
        variable=variable,
        file=str(root),
        found="a file" if root.exists() else "no such folder",
        expected="the folder holding the observations and model files (rhbench data lists what it expects)",
    )


def resolve(args: argparse.Namespace) -> RunConfig:
    """The run configuration of ``rhbench run``: the config file (if any) overridden by the command line.

    The data root is resolved here, once: ``--data-root``, then the config's ``data_root``,
    then ``RHBENCH_DATA``. With none of them the run is the SYNTHETIC demo
    (``demo=True``, :data:`DEMO_RESOLUTION`, quick upscaling).
    """
    config = load_config(args.config) if getattr(args, "config", None) else RunConfig()
    data_root = resolve_data_root(args.data_root, str(config.data_root) if config.data_root else None)
    changes: dict = {"force": args.force, "scheduler": args.scheduler, "data_root": data_root}
    if not getattr(args, "use_cache", True):
        changes["use_cache"] = False
    if args.out:
        changes["out"] = args.out
    if args.models:
        changes["models"] = tuple(m.strip() for m in args.models.split(",") if m.strip())
    if args.seed is not None:
        changes["seed"] = args.seed
    if getattr(args, "cmip6", None):
        changes["cmip6"] = (*config.cmip6, *(Path(p).expanduser().resolve() for p in args.cmip6))
    if getattr(args, "ilamb_root", None):
        changes["ilamb_root"] = Path(args.ilamb_root).expanduser().resolve()
    if data_root is None:  # the SYNTHETIC demo never reads real (ILAMB) files
        changes.update(demo=True, resolution=DEMO_RESOLUTION, quick_upscaling=True, ilamb_root=None)
    return validate(replace(config, **changes))


_ALLOWED = {
    "data_root",
    "ilamb_root",
    "out",
    "models",
    "reference",
    "csoil_products",
    "products",
    "resolution",
    "period",
    "seed",
    "n_draws",
    "quick_upscaling",
    "use_cache",
    "cmip6",
}

#: Scalar keys: accepted TOML types and how to describe them in an error.
_SCALARS: dict[str, tuple[type | tuple[type, ...], str]] = {
    "resolution": ((int, float), "a number of degrees"),
    "seed": (int, "an integer"),
    "n_draws": (int, "an integer"),
    "quick_upscaling": (bool, "true or false"),
    "use_cache": (bool, "true or false"),
    "reference": (str, "a source name"),
}


def load_config(path: Path) -> RunConfig:
    """Read a TOML run configuration; relative paths are relative to the file's folder."""
    try:
        document = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError("config file not found", file=str(path)) from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config is not valid TOML: {exc}", file=str(path)) from exc
    unknown = sorted(set(document) - _ALLOWED)
    if unknown:
        raise ConfigError("unknown config keys", file=str(path), found=unknown, expected=sorted(_ALLOWED))
    values: dict = {}
    base = Path(path).resolve().parent
    for key, value in document.items():
        if key in ("data_root", "out", "ilamb_root"):
            values[key] = (base / Path(str(value)).expanduser()).resolve()
        elif key in ("models", "csoil_products", "products"):
            values[key] = _names(key, value, path)
        elif key == "cmip6":
            values[key] = tuple((base / Path(p).expanduser()).resolve() for p in _names(key, value, path))
        elif key == "period":
            values[key] = _period(value, path)
        else:
            values[key] = value
    types = {f.name: f.type for f in fields(RunConfig)}
    for key, (wanted, label) in _SCALARS.items():
        value = values.get(key)
        if key in values and (not isinstance(value, wanted) or isinstance(value, bool) != (wanted is bool)):
            raise ConfigError(f"must be {label}", file=str(path), variable=key, found=repr(value))
    assert set(values) <= set(types)
    return validate(RunConfig(**values), file=str(path))


def _names(key: str, value, path) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        example = [value] if isinstance(value, str) else ["MyModel", "CLM5.0"]
        hint = f"write {key} = {json.dumps(example)} (a TOML list of quoted names)"
        raise ConfigError("must be a list of names", file=str(path), variable=key, found=value, hint=hint)
    return tuple(value)


def _period(value, path) -> tuple[int, int]:
    if (
        not isinstance(value, list)
        or len(value) != 2
        or not all(isinstance(v, int) for v in value)
        or value[0] > value[1]
    ):
        raise ConfigError("period must be [first_year, last_year]", file=str(path), variable="period", found=value)
    return (value[0], value[1])
