"""Lost data (issue 13): --out never overlaps inputs or the cache, --force replaces only rhbench's own
folders, concurrent runs cannot both win, catalog paths never escape, modes respect the umask, and
a read-only or full disk is a clear message, not a traceback."""

from __future__ import annotations

import errno
import json
import os
import shutil
import stat
import tempfile
from pathlib import Path

import pytest

from rhbench import catalog, outdir, provenance
from rhbench.cli import main
from rhbench.errors import CatalogError, OutputError, OutputExistsError
from rhbench.fileops import sha256_of, write_text_atomic
from rhbench.sources import Source, Var


def _config(folder: Path, data_root: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "run.toml"
    path.write_text(
        f'data_root = "{data_root}"\nresolution = 4\nquick_upscaling = true\nn_draws = 10\nmodels = ["CLM5.0"]\n'
    )
    return path


@pytest.fixture
def linked_root(demo_root, tmp_path):
    """A hard-linked copy of the demo root that a buggy run may delete without harm."""
    root = tmp_path / "data"
    shutil.copytree(demo_root, root, copy_function=os.link)
    return root


# --- --out never overlaps the data root or the cache ---------------------------------------


@pytest.mark.parametrize("where", ["equal", "inside", "containing"])
def test_out_overlapping_the_data_root_is_refused_even_with_force(linked_root, tmp_path, monkeypatch, where):
    monkeypatch.setenv("RHBENCH_CACHE", str(tmp_path / "cache"))
    out = {"equal": linked_root, "inside": linked_root / "trendy_v9", "containing": tmp_path}[where]
    before = sorted(p.relative_to(linked_root) for p in linked_root.rglob("*"))
    code = main(["-q", "run", "--config", str(_config(tmp_path / "cfg", linked_root)), "--out", str(out), "--force"])
    assert code == 2
    assert sorted(p.relative_to(linked_root) for p in linked_root.rglob("*")) == before


@pytest.mark.parametrize("where", ["equal", "inside", "containing"])
def test_out_overlapping_the_cache_is_refused(tmp_path, where):
    cache = tmp_path / "cache"
    out = {"equal": cache, "inside": cache / "runs", "containing": tmp_path}[where]
    with pytest.raises(OutputExistsError, match="overlaps the cache") as exc:
        outdir.claim_output_dir(out, force=True, protected={"data root": Path("/nonexistent/data"), "cache": cache})
    assert "refused even with --force" in str(exc.value)
    assert outdir.claim_output_dir(tmp_path / "out", force=True, protected={"cache": cache}) == tmp_path / "out"


# --- --force replaces only rhbench's folders -------------------------------------------------


def test_force_replaces_a_previous_run_but_not_a_user_folder(tmp_path):
    out = tmp_path / "out"
    with outdir.staging_dir(out) as staging:
        write_text_atomic(staging / "scorecard.json", "first")
    assert (out / outdir.MARKER).is_file()
    with outdir.staging_dir(outdir.claim_output_dir(out, force=True), force=True) as staging:
        write_text_atomic(staging / "scorecard.json", "second")
    assert (out / "scorecard.json").read_text() == "second"
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.tex").write_text("years of work")
    with pytest.raises(OutputExistsError, match="only a folder rhbench wrote"):
        outdir.claim_output_dir(mine, force=True)


def test_demo_force_writes_only_into_a_demo_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("RHBENCH_CACHE", str(tmp_path / "cache"))
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("mine")
    assert main(["-q", "demo", "--out", str(mine), "--force", "--resolution", "10", "--models", "1"]) == 2
    assert [p.name for p in mine.iterdir()] == ["notes.txt"]
    assert main(["-q", "demo", "--out", str(tmp_path / "cache" / "d"), "--resolution", "10", "--models", "1"]) == 2


# --- a folder appearing at --out during a run; two runs into one --out ----------------------


@pytest.mark.parametrize("force", [False, True])
def test_folder_created_at_out_during_the_run_is_not_replaced(tmp_path, force):
    out = tmp_path / "out"
    claimed = outdir.claim_output_dir(out, force=force)
    with pytest.raises(OutputExistsError, match="appeared during the run") as exc:
        with outdir.staging_dir(claimed, force=force) as staging:
            write_text_atomic(staging / "scorecard.json", "run")
            out.mkdir()
            (out / "notes.txt").write_text("created meanwhile")
    assert [p.name for p in out.iterdir()] == ["notes.txt"]
    kept = Path(str(exc.value).split("results were kept in ")[1].split(";")[0])
    assert (kept / "scorecard.json").read_text() == "run"  # nothing is lost either


def test_two_runs_into_one_out_cannot_both_succeed(tmp_path):
    out = tmp_path / "out"
    with outdir.staging_dir(out) as first:
        with pytest.raises(OutputExistsError, match="another rhbench run is writing"):
            with outdir.staging_dir(out):
                pass
        write_text_atomic(first / "scorecard.json", "first")
    assert (out / "scorecard.json").read_text() == "first"
    with pytest.raises(OutputExistsError):  # the later run finds the folder taken
        with outdir.staging_dir(out) as second:
            write_text_atomic(second / "scorecard.json", "second")
    assert (out / "scorecard.json").read_text() == "first"
    assert not (tmp_path / ".out.lock").exists()


# --- one resolver for every catalog path ---------------------------------------------------

ESCAPING = """version: 2
aliases: {}
metadata: {}
user_parameters: {}
data: {}
entries:
  Escaper:
    reader: intake.readers.readers:XArrayDatasetReader
    output_instance: xarray:Dataset
    kwargs: {args: ['{data_root}/x.nc']}
    metadata:
      kind: dgvm
      files: {rh: PATH}
    user_parameters: {}
"""


def _escaper(tmp_path: Path, relative: str) -> Source:
    folder = tmp_path / "cat"
    folder.mkdir(exist_ok=True)
    (folder / "esc.yaml").write_text(ESCAPING.replace("PATH", relative))
    catalog._load_catalog.cache_clear()
    return Source(
        name="Escaper",
        kind="dgvm",
        catalog_entry="esc.Escaper",
        variables={"rh": Var("rh", "kg m-2 s-1")},
        citation="test",
        catalog_dir=str(folder),
    )


@pytest.mark.parametrize("escape", ["absolute", "dotdot"])
def test_demo_never_writes_outside_its_out(tmp_path, escape):
    from rhbench.demo import generate_demo
    from rhbench.registry import Registry

    victim = tmp_path / "victim.nc"
    victim.write_text("precious")
    relative = str(victim) if escape == "absolute" else "../victim.nc"
    source = _escaper(tmp_path, relative)
    with pytest.raises(CatalogError, match="escapes the data root"):
        generate_demo(tmp_path / "demo", resolution=20.0, registry=Registry(sources={"Escaper": source}))
    assert victim.read_text() == "precious"


@pytest.mark.parametrize("escape", ["absolute", "dotdot"])
def test_run_json_never_hashes_files_outside_the_data_root(tmp_path, escape):
    from rhbench.registry import Registry

    root = tmp_path / "root"
    root.mkdir()
    secret = tmp_path / "secret.nc"
    secret.write_text("not yours")
    source = _escaper(tmp_path, str(secret) if escape == "absolute" else "../secret.nc")
    inputs = provenance.input_checksums(Registry(sources={"Escaper": source}), root)
    text = json.dumps(inputs)
    assert "escapes the data root" in text
    assert sha256_of(secret) not in text and "sha256:" not in text


# --- modes respect the umask ----------------------------------------------------------------


@pytest.mark.parametrize("umask", [0o022, 0o027, 0o077])
def test_output_files_and_folder_respect_the_umask(tmp_path, umask):
    previous = os.umask(umask)
    try:
        out = tmp_path / "out"
        with outdir.staging_dir(out) as staging:
            write_text_atomic(staging / "scorecard.json", "{}")
    finally:
        os.umask(previous)
    assert stat.S_IMODE(out.stat().st_mode) == 0o777 & ~umask
    assert stat.S_IMODE((out / "scorecard.json").stat().st_mode) == 0o666 & ~umask


def test_a_real_run_output_respects_the_umask(small_demo_run):
    outcome, _ = small_demo_run
    umask = os.umask(0o022)
    os.umask(umask)
    out = outcome.out_dir
    assert stat.S_IMODE(out.stat().st_mode) == 0o777 & ~umask
    for name in ("scorecard.json", "scores.csv", "run.json", "index.html", "results.nc"):
        assert stat.S_IMODE((out / name).stat().st_mode) == 0o666 & ~umask, name


# --- read-only or full disk ------------------------------------------------------------------


@pytest.mark.parametrize(("code", "cause"), [(errno.ENOSPC, "No space left"), (errno.EROFS, "Read-only")])
def test_full_or_read_only_disk_while_writing_names_path_and_cause(tmp_path, code, cause):
    out = tmp_path / "out"
    with pytest.raises(OutputError) as exc:
        with outdir.staging_dir(out) as staging:
            raise OSError(code, os.strerror(code), str(staging / "results.nc"))
    assert cause in str(exc.value) and "results.nc" in str(exc.value)
    assert not out.exists() and not list(tmp_path.glob(".out.*"))


def test_read_only_parent_is_a_clear_cli_error(linked_root, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("RHBENCH_CACHE", str(tmp_path / "cache"))

    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), kwargs.get("dir") or args[-1])

    monkeypatch.setattr(tempfile, "mkdtemp", read_only)
    out = tmp_path / "ro" / "out"
    code = main(["-q", "run", "--config", str(_config(tmp_path, linked_root)), "--out", str(out)])
    assert code == 2
    text = " ".join(capsys.readouterr().err.split())  # the console wraps long lines
    assert "Read-only file system" in text and str(out.parent) in text
    assert "Traceback" not in text


def test_marker_is_json_naming_rhbench(tmp_path):
    with outdir.staging_dir(tmp_path / "out"):
        pass
    assert json.loads((tmp_path / "out" / outdir.MARKER).read_text())["written_by"] == "rhbench"


def test_out_inside_a_folder_a_data_root_link_points_to_is_refused_even_with_force(tmp_path):
    """Links in the data root are followed wherever they point, so their targets are inputs too."""
    from rhbench.errors import OutputExistsError
    from rhbench.outdir import claim_output_dir, protected_folders

    shared, root = tmp_path / "mnt" / "obs-rh", tmp_path / "root"
    shared.mkdir(parents=True)
    (root / "obs").mkdir(parents=True)
    (root / "obs" / "rh").symlink_to(shared)
    (root / "loop").symlink_to(root)  # a link back into the root: its target is the root itself
    folders = protected_folders(root)
    assert folders["folder the data root links to (obs/rh)"] == shared.resolve()
    for out in (shared / "out", tmp_path / "mnt"):
        with pytest.raises(OutputExistsError, match=r"obs/rh"):
            claim_output_dir(out, force=True, protected={k: v for k, v in folders.items() if k != "data root"})
    elsewhere = tmp_path / "elsewhere"
    assert claim_output_dir(elsewhere, force=False, protected=folders) == elsewhere.resolve()
