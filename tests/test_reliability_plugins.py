"""Plugins cannot sink the registry (issue 13): hangs are time-limited, prints never reach
``--json``, a built-in always wins a name clash, ``os.chdir`` at import changes nothing, and a
plugin with an unreadable catalog is broken while the others run.

Third-party plugins are simulated as real entry points: modules written to a temporary folder
on ``sys.path``, listed beside the installed entry points of the ``rhbench`` group.
"""

from __future__ import annotations

import json
import os
import sys
import textwrap
import time
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest

from rhbench import catalog, registry
from rhbench.cli import main

PLUGIN = """
import os, sys, time
from rhbench.hookspecs import hookimpl
from rhbench.sources import Source, Var
{at_import}

@hookimpl
def rhbench_sources():
    {in_hook}
    return [Source(name={name!r}, kind="dgvm", catalog_entry="thirdparty.{name}",
                   variables={{"rh": Var("rh", "kg m-2 s-1")}}, citation="test"{catalog_dir})]
"""

CATALOG = """version: 2
aliases: {{}}
metadata: {{}}
user_parameters: {{}}
data: {{}}
entries:
  {name}:
    reader: intake.readers.readers:XArrayDatasetReader
    output_instance: xarray:Dataset
    kwargs: {{args: ['{{data_root}}/x.nc']}}
    metadata:
      kind: dgvm
      files: {{rh: {rh}}}
      note: {note}
    user_parameters: {{}}
"""


@pytest.fixture
def third_party(tmp_path, monkeypatch):
    """Add plugin modules as ``rhbench`` entry points: ``add(entry_name, module_text)``."""
    installed_here = list(registry.entry_points(group="rhbench"))
    extra: list[EntryPoint] = []
    folder = tmp_path / "site"
    folder.mkdir()
    monkeypatch.syspath_prepend(str(folder))
    monkeypatch.setattr(registry, "entry_points", lambda group, installed=None: installed_here + extra)
    catalog._load_catalog.cache_clear()

    def add(entry: str, name: str, *, at_import: str = "", in_hook: str = "pass", catalog_text: bytes | None = None):
        module = f"thirdparty_{entry}_{os.getpid()}_{len(extra)}"
        if catalog_text is None:  # a valid catalog of its own
            catalog_text = CATALOG.format(name=name, rh=f"models/{name}.nc", note="plain").encode()
        (tmp_path / entry).mkdir()
        (tmp_path / entry / "thirdparty.yaml").write_bytes(catalog_text)
        catalog_dir = f", catalog_dir={str(tmp_path / entry)!r}"
        text = PLUGIN.format(at_import=at_import, in_hook=in_hook, name=name, catalog_dir=catalog_dir)
        (folder / f"{module}.py").write_text(textwrap.dedent(text))
        extra.append(EntryPoint(entry, module, "rhbench"))
        sys.modules.pop(module, None)

    yield add
    for entry_point in extra:
        sys.modules.pop(entry_point.value, None)


def _builtin_count() -> int:
    return len(registry.build_registry(use_entry_points=True).sources)


@pytest.mark.parametrize("where", ["hook", "import"])
def test_a_hanging_plugin_is_time_limited_and_reported_broken(third_party, monkeypatch, where):
    monkeypatch.setenv(registry.PLUGIN_TIMEOUT_ENV, "0.5")
    hang = "time.sleep(60)"
    third_party("sleepy", "Sleepy", **({"in_hook": hang} if where == "hook" else {"at_import": hang}))
    started = time.monotonic()
    reg = registry.build_registry()
    assert time.monotonic() - started < 15
    assert "Sleepy" not in reg.sources and "CLM5.0" in reg.sources
    (broken,) = [b for b in reg.broken if b.name == "sleepy"]
    assert "did not finish within 0.5 s" in broken.reason


def test_a_plugin_printing_at_import_does_not_pollute_plugins_json(third_party, capsys):
    third_party("chatty", "Chatty", at_import="print('hello from chatty'); print('{not json')",
                in_hook="print('hook says hi')")  # fmt: skip
    assert main(["plugins", "--json"]) == 0
    captured = capsys.readouterr()
    listing = json.loads(captured.out)  # stdout is pure JSON
    assert "Chatty" in {s["name"] for s in listing["sources"]}
    assert "hello from chatty" in captured.err  # not lost: shown on stderr


@pytest.mark.parametrize("entry", ["aaa", "zzz"])  # before and after every built-in, alphabetically
def test_a_builtin_always_wins_a_name_clash(third_party, entry):
    third_party(entry, "CLM5.0")
    reg = registry.build_registry()
    assert reg.sources["CLM5.0"].plugin == "clm5" and reg.packages["CLM5.0"].startswith("rhbench")
    (broken,) = [b for b in reg.broken if b.name == entry]
    assert "'CLM5.0' is already declared by built-in plugin clm5" in broken.reason


def test_two_third_party_plugins_declaring_one_name_are_both_broken(third_party):
    third_party("aaa", "Twin")
    third_party("bbb", "Twin")
    reg = registry.build_registry()
    assert "Twin" not in reg.sources
    reasons = {b.name: b.reason for b in reg.broken}
    assert "also declared by plugin(s) bbb" in reasons["aaa"] and "also declared by plugin(s) aaa" in reasons["bbb"]


def test_a_plugin_calling_chdir_at_import_changes_no_path(third_party, tmp_path, monkeypatch):
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    third_party("wanderer", "Wanderer", at_import="os.chdir('/')", in_hook="os.chdir('/tmp')")
    reg = registry.build_registry()
    assert Path.cwd() == work and "Wanderer" in reg.sources
    monkeypatch.setenv("RHBENCH_CACHE", str(tmp_path / "cache"))
    sys.modules.pop(next(m for m in list(sys.modules) if m.startswith("thirdparty_wanderer")), None)
    assert main(["-q", "demo", "--out", "demo", "--resolution", "20", "--models", "1"]) == 0
    assert (work / "demo" / "demo.json").is_file()


@pytest.mark.parametrize(
    "catalog_text",
    [
        CATALOG.format(name="Odd", rh="12345", note="plain").encode(),
        CATALOG.format(name="Odd", rh="models/odd.nc", note="caf\xe9 \xb5mol").encode("latin-1"),
        CATALOG.format(name="Odd", rh="models/odd.nc", note="[" * 20_000 + "]" * 20_000).encode(),
        CATALOG.format(name="Odd", rh="/etc/passwd", note="plain").encode(),
    ],
    ids=["rh-12345", "latin-1", "20000-deep", "absolute-path"],
)
def test_a_plugin_with_an_unreadable_catalog_is_broken_and_the_others_run(third_party, catalog_text):
    third_party("odd", "Odd", catalog_text=catalog_text)
    reg = registry.build_registry()
    assert "Odd" not in reg.sources and "CLM5.0" in reg.sources
    (broken,) = [b for b in reg.broken if b.name == "odd"]
    assert "catalog" in broken.reason
