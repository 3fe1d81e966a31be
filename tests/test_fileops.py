"""Shared file operations: atomic writes leave no partial files; existing outputs are protected."""

from __future__ import annotations

import hashlib

import pytest

from rhbench.errors import OutputExistsError
from rhbench.fileops import refuse_to_overwrite, sha256_of, write_atomic, write_text_atomic


def test_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "scorecard.json"
    write_text_atomic(target, "old")

    def broken(temp):
        temp.write_text("half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        write_atomic(target, broken)
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["scorecard.json"]


def test_sha256_of_matches_hashlib(tmp_path):
    path = tmp_path / "data.bin"
    path.write_bytes(b"x" * 3_000_000)
    assert sha256_of(path) == hashlib.sha256(b"x" * 3_000_000).hexdigest()


def test_refuse_to_overwrite_non_empty_folder_unless_forced_and_never_a_file(tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "mine.txt").write_text("keep")
    with pytest.raises(OutputExistsError, match="pass --force"):
        refuse_to_overwrite(tmp_path / "out", force=False)
    refuse_to_overwrite(tmp_path / "out", force=True)
    refuse_to_overwrite(tmp_path / "new", force=False)
    (tmp_path / "afile").write_text("x")
    with pytest.raises(OutputExistsError, match="not a folder"):
        refuse_to_overwrite(tmp_path / "afile", force=True)


# --- symbolic links to nothing: one message, each caller's error type -------------------


def test_broken_link_message_names_the_link_its_target_and_what_to_do(tmp_path):
    from rhbench.fileops import broken_link_message

    (tmp_path / "rh.nc").symlink_to(tmp_path / "unmounted" / "rh.nc")
    message = broken_link_message(tmp_path / "rh.nc")
    assert message == (
        f"broken symbolic link {tmp_path / 'rh.nc'} -> {tmp_path / 'unmounted' / 'rh.nc'}: its target is missing "
        "(an unmounted share?); restore its target or remove the link"
    )
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    assert ": it loops;" in broken_link_message(tmp_path / "a")


def test_one_broken_link_gets_the_same_message_from_fetch_run_loader_and_data_each_with_its_type(tmp_path):
    """The message was built twice (fetch: OutputExistsError, run: DataError; the loader said only
    "broken or looping symbolic link", without the target). Now one function builds it; fetch
    keeps OutputExistsError (a destination the user made), the run and loader DataError (an input)."""
    from rhbench import inventory, loader
    from rhbench.errors import DataError
    from rhbench.fetch import download_specs
    from rhbench.fetch import fetch as fetch_file
    from rhbench.fileops import broken_link_message
    from rhbench.observations import absence
    from rhbench.registry import build_registry

    registry = build_registry()
    source = registry.sources["SRDB-V5"]
    spec = download_specs(source)[0]
    link = tmp_path / spec.relative_path
    link.parent.mkdir(parents=True)
    link.symlink_to(tmp_path / "unmounted" / link.name)
    expected = broken_link_message(link)
    with pytest.raises(OutputExistsError) as fetched:
        fetch_file(spec, tmp_path, url="file:///nonexistent", force=True)
    with pytest.raises(DataError) as run:
        absence(source, tmp_path, None)
    with pytest.raises(DataError) as read:
        loader.open_dataset(link, source="SRDB-V5")
    for err in (fetched.value, run.value, read.value):
        assert err.message == expected and str(link) in str(err) and "expected:" in str(err)
    assert not isinstance(fetched.value, DataError)
    assert link.is_symlink()  # never replaced
    rows = [r for r in inventory.inventory(registry, tmp_path) if r.source == "SRDB-V5"]
    assert rows and rows[0].get == expected


def test_prefetched_checksums_are_hashed_on_another_thread_and_equal(tmp_path, monkeypatch):
    """Issue 18: a run's inputs are hashed in the background; file_checksum waits for that result."""
    import hashlib
    import threading

    from rhbench import fileops

    threads = []
    plain = fileops.sha256_of

    def recording(path):
        threads.append(threading.current_thread().name)
        return plain(path)

    monkeypatch.setattr(fileops, "sha256_of", recording)
    files = [tmp_path / f"f{i}.nc" for i in range(3)]
    for i, path in enumerate(files):
        path.write_bytes(bytes([i]) * (1 << 20))
    fileops.prefetch_checksums([*files, tmp_path / "absent.nc"])  # a missing file is skipped
    checksums = [fileops.file_checksum(path) for path in files]
    assert checksums == [f"sha256:{hashlib.sha256(p.read_bytes()).hexdigest()}" for p in files]
    assert len(threads) == 3 and all(name.startswith("rhbench-checksums") for name in threads)
    assert [fileops.file_checksum(path) for path in files] == checksums and len(threads) == 3  # memoised


def test_a_file_changed_after_its_prefetch_gets_its_new_checksum(tmp_path):
    import hashlib

    from rhbench import fileops

    path = tmp_path / "input.nc"
    path.write_bytes(b"before")
    fileops.prefetch_checksums([path])
    path.write_bytes(b"after, longer")
    assert fileops.file_checksum(path) == f"sha256:{hashlib.sha256(b'after, longer').hexdigest()}"


def test_a_same_size_rewrite_after_its_prefetch_gets_its_new_checksum(tmp_path):
    """Same size, maybe the same modification time: the change time still tells them apart."""
    import hashlib

    from rhbench import fileops

    path = tmp_path / "input.nc"
    path.write_bytes(b"before")
    fileops.prefetch_checksums([path])
    first = fileops.file_checksum(path)
    path.write_bytes(b"BEFORE")
    assert first == f"sha256:{hashlib.sha256(b'before').hexdigest()}"
    assert fileops.file_checksum(path) == f"sha256:{hashlib.sha256(b'BEFORE').hexdigest()}"


def test_a_prefetch_error_is_raised_by_the_reader(tmp_path, monkeypatch):
    from rhbench import fileops

    def unreadable(path):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(fileops, "sha256_of", unreadable)
    path = tmp_path / "locked.nc"
    path.write_bytes(b"data")
    fileops.prefetch_checksums([path])
    with pytest.raises(PermissionError, match="locked.nc"):
        fileops.file_checksum(path)


def test_a_run_ending_early_does_not_wait_for_prefetched_checksums(tmp_path):
    """The hashing thread is a daemon: a failed or interrupted run exits at once (the
    console's fast exit) instead of hashing every input nobody will record."""
    import subprocess
    import sys
    import time

    script = (
        "import time\n"
        "from pathlib import Path\n"
        "from rhbench import fileops\n"
        "from rhbench.cli import exit_without_teardown\n"
        "fileops.sha256_of = lambda path: time.sleep(30)\n"
        f"paths = [Path({str(tmp_path)!r}) / f'in{{i}}.nc' for i in range(3)]\n"
        "for path in paths:\n"
        "    path.write_bytes(b'x')\n"
        "fileops.prefetch_checksums(paths)\n"
        "exit_without_teardown(3)\n"
    )
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 3, done.stderr
    assert time.perf_counter() - start < 20  # not 3 x 30 s of hashing
