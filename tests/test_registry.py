"""Registry: built-in plugins found through entry points; broken plugins reported and skipped."""

from __future__ import annotations

import types

from rhbench.hookspecs import hookimpl
from rhbench.registry import build_registry
from rhbench.sources import Source, Var

TRENDY_V9_WITH_RH = {
    "CABLE-POP",
    "CLASSIC",
    "CLM5.0",
    "DLEM",
    "IBIS",
    "ISAM",
    "ISBA-CTRIP",
    "JSBACH",
    "JULES-ES",
    "LPJ-GUESS",
    "LPJwsl",
    "LPX-Bern",
    "ORCHIDEE",
    "ORCHIDEE-CNP",
    "SDGVM",
    "VISIT",
    "YIBs",
}


def _plugin(function) -> types.SimpleNamespace:
    return types.SimpleNamespace(rhbench_sources=hookimpl(function))


def test_builtin_plugins_are_the_17_dgvms_and_every_observation_product():
    registry = build_registry()
    assert registry.broken == []
    assert {s.name for s in registry.of_kind("dgvm")} == TRENDY_V9_WITH_RH
    assert {s.name for s in registry.of_kind("csoil")} == {
        "WISE30sec",
        "Bloom2016",
        "SoilGrids",
        "HWSD",
        "Sanderman2017",
        "HWSD2",  # ILAMB-hosted alternatives, outside the default observed mean
        "NCSCDV22",
        "SoilGrids2",
    }
    assert {s.name for s in registry.of_kind("rh")} == {
        "Hashimoto2015",
        "Warner2019",
        "Tang2020",
        "Konings2019",
        "RF-Rh",
    }
    assert {s.name for s in registry.of_kind("clitter")} == {"DALEC2"}
    assert [s.name for s in registry.of_kind("landcover")] == ["MCD12C1"]
    assert [s.name for s in registry.of_kind("ndvi")] == ["GIMMS-NDVI3g"]
    assert [s.name for s in registry.of_kind("sites")] == ["SRDB-V5"]


def test_a_plugin_whose_hook_raises_is_broken_and_others_survive():
    def boom():
        raise RuntimeError("kaput")

    registry = build_registry({"bad": _plugin(boom)})
    assert [b.name for b in registry.broken] == ["bad"]
    assert "RuntimeError: kaput" in registry.broken[0].reason
    assert len(registry.of_kind("dgvm")) == 17


def test_a_plugin_returning_a_wrong_type_is_broken_with_the_reason():
    registry = build_registry({"wrong": _plugin(lambda: "not a list")}, use_entry_points=False)
    assert "must return a list of Source" in registry.broken[0].reason
    assert "found: str" in registry.broken[0].reason


def test_an_invalid_descriptor_is_broken_naming_the_source_and_variable():
    bad = Source(name="X", kind="dgvm", catalog_entry="c.X", variables={"rh": Var("rh", "kg m-2")}, citation="")
    registry = build_registry({"invalid": _plugin(lambda: [bad])}, use_entry_points=False)
    reason = registry.broken[0].reason
    assert "wrong dimension" in reason and "source: X" in reason and "variable: rh" in reason


def test_duplicate_source_names_are_refused():
    dup = Source(
        name="CLM5.0", kind="rh", catalog_entry="c.CLM", variables={"rh": Var("rh", "g C m-2 yr-1")}, citation=""
    )
    registry = build_registry({"zzz-dup": _plugin(lambda: [dup])})
    assert any("already declared" in b.reason for b in registry.broken)
    assert registry.sources["CLM5.0"].kind == "dgvm"
