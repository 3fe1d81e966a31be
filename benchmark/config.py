"""Run configuration from a TOML file (data, not code: read with tomllib, unknown keys refused).

Example::

    data_root = "/data/rhbench"          # catalog paths are relative to this
    models = ["CLM5.0", "JSBACH"]        # default: every DGVM plugin found
    reference = "RF-Rh"                  # the reference Rh product (an rh plugin)
    csoil_products = ["WISE30sec", "Bloom2016", "SoilGrids", "HWSD", "Sanderman2017"]
    resolution = 0.5                     # common grid, degrees
    period = [1982, 2018]                # benchmark period, inclusive
    seed = 0
    n_draws = 100                        # Monte Carlo draws per observed turnover time
    use_cache = true                     # reuse reduced model products (RHBENCH_CACHE)
"""

from __future__ import annotations

import tomllib
from dataclasses import fields
from pathlib import Path

from rhbench.errors import ConfigError
from rhbench.pipeline import RunConfig

_ALLOWED = {
    "data_root",
    "out",
    "models",
    "reference",
    "csoil_products",
    "resolution",
    "period",
    "seed",
    "n_draws",
    "quick_upscaling",
    "use_cache",
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
        if key in ("data_root", "out"):
            values[key] = (base / Path(str(value)).expanduser()).resolve()
        elif key in ("models", "csoil_products"):
            values[key] = _names(key, value, path)
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
    return RunConfig(**values)


def _names(key: str, value, path) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError("must be a list of names", file=str(path), variable=key, found=value)
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
