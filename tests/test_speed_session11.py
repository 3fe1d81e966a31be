"""Session 11 cuts of the confrontation's fixed cost (issue 18): each keeps what it checks."""

from __future__ import annotations

import pytest

from rhbench import catalog, runscope
from rhbench.errors import CatalogError
from rhbench.sources import Source, Var

CATALOG = """version: 2
aliases: {{}}
metadata: {{}}
user_parameters: {{}}
data: {{}}
entries:
  Tiny:
    reader: intake.readers.readers:XArrayDatasetReader
    output_instance: xarray:Dataset
    kwargs: {{args: ['{{data_root}}/tiny.nc']}}
    user_parameters: {{}}
    metadata:
      kind: rh
      files: {{rh: {path}}}
"""


def _source(tmp_path, path: str = "tiny.nc", name: str = "Tiny") -> Source:
    folder = tmp_path / "catalogs"
    folder.mkdir(exist_ok=True)
    (folder / "tiny.yaml").write_text(CATALOG.format(path=path))
    catalog._load_catalog.cache_clear()
    return Source(name, "rh", "tiny.Tiny", {"rh": Var("rh", "g C m-2 d-1")}, "test", catalog_dir=folder)


def _counted(monkeypatch) -> list[str]:
    reads: list[str] = []
    real = catalog._entry_of
    monkeypatch.setattr(catalog, "_entry_of", lambda source, path: reads.append(source.name) or real(source, path))
    return reads


def test_a_run_reads_each_sources_catalog_entry_once_and_a_call_outside_a_run_each_time(tmp_path, monkeypatch):
    reads = _counted(monkeypatch)
    source, other = _source(tmp_path), _source(tmp_path, name="Other")
    with runscope.scope():
        first = catalog.entry_for(source)
        assert catalog.entry_for(source) is first and first.files == {"rh": "tiny.nc"}
        catalog.entry_for(other)  # another source object: its own read, even of the same entry
        catalog.entry_for(other)
    assert reads == ["Tiny", "Other"]
    catalog.entry_for(source)
    catalog.entry_for(source)
    assert reads == ["Tiny", "Other", "Tiny", "Tiny"]  # no run: every call reads
    with runscope.scope():
        catalog.entry_for(source)
    assert reads[-1] == "Tiny" and len(reads) == 5  # a new run reads again (an edited catalog is seen)


@pytest.mark.parametrize("path", ["/etc/passwd", "../escape.nc", "C:\\data\\rh.nc", "a/../../b.nc"])
def test_a_bad_entry_is_refused_on_every_call_within_a_run(tmp_path, monkeypatch, path):
    """Errors are never kept: every caller gets its own, naming the source, the variable and the path."""
    reads = _counted(monkeypatch)
    source = _source(tmp_path, path)
    with runscope.scope():
        for _ in range(2):
            with pytest.raises(CatalogError, match="catalog path escapes the data root") as info:
                catalog.entry_for(source)
            error = info.value
            assert (error.source, error.variable) == ("Tiny", "rh")
            assert error.file == path  # the offending path (as before the memo)
    assert len(reads) == 2


def test_the_path_check_parsed_once_per_text_refuses_and_accepts_what_it_did():
    for relative in ("/abs/rh.nc", "\\\\server\\share\\rh.nc", "C:rh.nc", "D:\\rh.nc"):
        for _ in range(2):  # the second answer comes from the kept parse
            with pytest.raises(CatalogError, match="it is absolute") as info:
                catalog.check_relative(relative, source="S", variable="rh")
            assert (info.value.file, info.value.source, info.value.variable) == (relative, "S", "rh")
    for relative in ("../x.nc", "a/../b.nc", "a\\..\\b.nc"):
        for _ in range(2):
            with pytest.raises(CatalogError, match="contains '..'"):
                catalog.check_relative(relative)
    for bad in ("", "  ", "a\x00b", 12345, None):
        with pytest.raises(CatalogError, match="not a file path"):
            catalog.check_relative(bad)
    for _ in range(2):
        assert str(catalog.check_relative("obs/rh/x..y.nc")) == "obs/rh/x..y.nc"  # '..' inside a name is fine
