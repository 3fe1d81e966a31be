"""The TOML run configuration: valid files, refused keys and values, paths relative to the file."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from rhbench.config import load_config
from rhbench.config import resolve as _config
from rhbench.errors import ConfigError

WORKED_EXAMPLE = """
data_root = "data"                       # relative to this file's folder
out = "runs/2024-trendy-v9"
models = ["CLM5.0", "JSBACH", "LPJ-GUESS"]
reference = "RF-Rh"
csoil_products = ["WISE30sec", "SoilGrids", "HWSD"]
resolution = 1.0
period = [1990, 2010]
seed = 7
n_draws = 50
quick_upscaling = true
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "configs" / "rhbench.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_worked_example_sets_every_field(tmp_path: Path) -> None:
    config = load_config(_write(tmp_path, WORKED_EXAMPLE))
    assert config.data_root == tmp_path / "configs" / "data"
    assert config.out == tmp_path / "configs" / "runs" / "2024-trendy-v9"
    assert config.models == ("CLM5.0", "JSBACH", "LPJ-GUESS")
    assert config.reference == "RF-Rh"
    assert config.csoil_products == ("WISE30sec", "SoilGrids", "HWSD")
    assert (config.resolution, config.period, config.seed, config.n_draws) == (1.0, (1990, 2010), 7, 50)
    assert config.quick_upscaling is True
    assert config.demo is False


def test_empty_file_gives_the_defaults(tmp_path: Path) -> None:
    config = load_config(_write(tmp_path, ""))
    assert (config.data_root, config.models, config.resolution, config.period) == (None, None, 0.5, (1982, 2018))


def test_relative_and_absolute_and_home_data_roots(tmp_path: Path, monkeypatch) -> None:
    assert load_config(_write(tmp_path, 'data_root = "../shared"')).data_root == tmp_path / "shared"
    absolute = tmp_path / "elsewhere"
    assert load_config(_write(tmp_path, f'data_root = "{absolute}"')).data_root == absolute
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert load_config(_write(tmp_path, 'data_root = "~/trendy"')).data_root == tmp_path / "home" / "trendy"


def test_unknown_key_is_refused_and_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown config keys") as info:
        load_config(_write(tmp_path, 'data_roots = "data"\nperiod = [1982, 2018]'))
    assert info.value.found == ["data_roots"]
    assert "data_root" in info.value.expected


@pytest.mark.parametrize("period", ["[2018, 1982]", "[1982]", '["1982", "2018"]', "1982", "[1982.0, 2018]"])
def test_bad_period_is_refused(tmp_path: Path, period: str) -> None:
    with pytest.raises(ConfigError, match=r"period must be \[first_year, last_year\]"):
        load_config(_write(tmp_path, f"period = {period}"))


@pytest.mark.parametrize(
    ("line", "key"),
    [
        ('resolution = "half"', "resolution"),
        ("resolution = true", "resolution"),
        ('seed = "zero"', "seed"),
        ("n_draws = 2.5", "n_draws"),
        ('quick_upscaling = "yes"', "quick_upscaling"),
        ("reference = 3", "reference"),
        ('models = "CLM5.0"', "models"),
    ],
)
def test_values_of_the_wrong_type_are_refused(tmp_path: Path, line: str, key: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(_write(tmp_path, line))
    assert info.value.variable == key


def test_invalid_toml_and_missing_file_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(_write(tmp_path, "period = [1982,"))
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "absent.toml")


def test_run_command_takes_data_root_from_config_and_models_from_the_command_line(tmp_path: Path) -> None:
    args = argparse.Namespace(
        config=_write(tmp_path, WORKED_EXAMPLE),
        data_root=None,
        out=None,
        models="CLM5.0",
        seed=None,
        force=False,
        scheduler=None,
    )
    config = _config(args)
    assert config.data_root == tmp_path / "configs" / "data"
    assert config.models == ("CLM5.0",)
    assert (config.resolution, config.demo, config.seed) == (1.0, False, 7)
