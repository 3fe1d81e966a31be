"""Session 9's cuts of fixed costs (issue 18): each test fails when its cut is undone.

Timings are reported by the benchmark scripts (``python -m benchmarks.alternate``,
``python -m benchmarks.timeline``), never asserted here; these tests pin the behaviour each cut
changes (how often something is done) and that the results stay the same.
"""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

from rhbench import registry


def test_a_registry_scans_the_installed_entry_points_once(monkeypatch):
    """The plugins' group and the misspelt groups come from one scan of every distribution
    (~5-14 ms a scan), not two; the plugins found are those of two separate scans."""
    scans = []
    real = metadata.entry_points

    def counting(**kwargs):
        scans.append(kwargs)
        return real(**kwargs)

    monkeypatch.setattr(registry.metadata, "entry_points", counting)
    built = registry.build_registry()
    assert scans == [{}]  # one scan of every group
    monkeypatch.setattr(registry.metadata, "entry_points", real)
    again = registry.build_registry()
    assert built.packages == again.packages and len(built.sources) > 30
    assert {ep.name for ep in registry.entry_points("rhbench")} == {ep.name for ep in real(group="rhbench")}
    assert built.broken == again.broken == []


def test_each_catalog_file_is_parsed_once_per_process(monkeypatch):
    """Two registries and every source's entry read again: each catalog YAML parsed once, with
    libyaml's safe loader for rhbench's own catalogs when PyYAML has it (safe_load semantics)."""
    import yaml

    from rhbench import catalog

    parsed = []
    real = catalog._safe_yaml

    def counting(stream, loader_class):
        parsed.append((stream.name, loader_class))
        return real(stream, loader_class)

    monkeypatch.setattr(catalog, "_safe_yaml", counting)
    catalog._load_catalog.cache_clear()
    try:
        for _ in range(2):
            built = registry.build_registry()
            for source in built.sources.values():
                if source.files is None:
                    catalog.entry_for(source)
    finally:
        catalog._load_catalog.cache_clear()
    files = [name for name, _ in parsed]
    assert len(files) == len(set(files)) >= 2  # dgvms.yaml and obs_datasets.yaml, once each
    assert {loader for _, loader in parsed} == {getattr(yaml, "CSafeLoader", yaml.SafeLoader)}
    for name in set(files):  # the fast loader reads what yaml.safe_load reads
        with open(name, encoding="utf-8") as handle:
            assert real(handle, catalog._BUILTIN_LOADER) == yaml.safe_load(Path(name).read_text(encoding="utf-8"))
