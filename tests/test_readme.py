"""The README tells the truth about the command line and the set-up."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from rhbench.cli import build_parser
from rhbench.commands.new_plugin import install_command

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _section(title: str) -> str:
    start = README.index(f"## {title}\n")
    end = README.find("\n## ", start + 1)
    return README[start : end if end > 0 else None]


def _readme_commands() -> dict[str, set[str]]:
    """Sub-command -> the options its line in the README's Commands block shows."""
    block = _section("Commands").split("```")[1]
    commands: dict[str, set[str]] = {}
    for line in block.splitlines():
        if line.startswith("rhbench "):
            usage = re.split(r"\s{3,}", line)[0]  # the description follows after a wide gap
            commands[usage.split()[1]] = set(re.findall(r"--[a-z][a-z0-9-]*", usage))
    return commands


def _parser_commands() -> dict[str, set[str]]:
    parser = build_parser()
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return {
        name: {opt for action in sub._actions for opt in action.option_strings if opt.startswith("--")} - {"--help"}
        for name, sub in subparsers.choices.items()
    }


def test_readme_commands_block_lists_every_command_with_exactly_its_options():
    readme, parser = _readme_commands(), _parser_commands()
    assert set(readme) == set(parser)
    for name, options in parser.items():
        assert readme[name] == options, f"rhbench {name}: README {sorted(readme[name])} != --help {sorted(options)}"


def test_ci_runs_the_readme_test_command_verbatim():
    setup = _section("Set-up: two commands (fresh machine, Python >= 3.11)")
    test_command = next(line for line in setup.splitlines() if "pytest" in line).split("#")[0].strip()
    assert test_command in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_readme_says_to_use_a_virtual_environment_and_that_plugin_tests_need_the_dev_extra():
    assert "python3 -m venv" in _section("Set-up: two commands (fresh machine, Python >= 3.11)")
    assert "[dev]" in _section("Add a model")


@pytest.mark.parametrize("folder", ["rhbench-mymodel", "plugins/rhbench-mymodel"])
def test_new_plugin_tells_users_to_install_a_path_not_a_package_name(tmp_path, monkeypatch, folder):
    monkeypatch.chdir(tmp_path)
    assert install_command(Path(folder)) == f"pip install ./{folder}"
    assert install_command(tmp_path.parent / "x").startswith("pip install ../")


def test_readme_states_the_demo_generators_targets_as_world_py_has_them():
    """The README separates the demo generator's targets from what a run reports; the targets
    must be those of benchmark/demo/world.py (the run's numbers need a 2-deg demo run, not
    done in the test session: they were read from scorecard.json by hand)."""
    from rhbench.demo import world

    text = README.replace("\n> ", " ")  # the note is a block quote
    pattern = r"generator's targets .{0,40}? are\s+observed Rh ([\d.]+) Pg C/yr and tau_soil ([\d.]+) yr"
    targets = re.search(pattern, text)
    assert targets, "the README no longer states the demo generator's targets"
    assert (float(targets[1]), float(targets[2])) == (world.OBS_RH_PG, world.OBS_TAU_SOIL)
