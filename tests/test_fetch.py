"""``rhbench fetch``: downloads via file:// URLs, checksum checks, overwrite rules (no network)."""

from __future__ import annotations

import argparse
import hashlib
import os
from pathlib import Path

import pytest

from rhbench.commands import fetch as fetch_command
from rhbench.errors import ChecksumError, ConfigError, OutputExistsError
from rhbench.fetch import PARTIAL_DIR, Download, download_spec, fetch, find_source, sha256_of
from rhbench.registry import build_registry

SHARED_SRDB = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "srdb" / "srdb-data.csv"
SRDB_SHA256 = "3695124acf2744cff2720eb923ec12da3e436aba67e2ab58b48fca754a54b361"
PAYLOAD = b"Record_number,Rh_annual\n1,420.5\n2,180.0\n"


@pytest.fixture(scope="module")
def registry():
    return build_registry()


@pytest.fixture
def payload_url(tmp_path: Path) -> str:
    source = tmp_path / "mirror" / "table.csv"
    source.parent.mkdir()
    source.write_bytes(PAYLOAD)
    return source.as_uri()


def _spec(sha256: str = hashlib.sha256(PAYLOAD).hexdigest()) -> Download:
    return Download("TOY", "https://example.invalid/table.csv", sha256, "sites/table.csv")


def _args(**values) -> argparse.Namespace:
    defaults = {"name": "srdb", "dest": None, "url": None, "force": False, "quiet": True}
    return argparse.Namespace(**{**defaults, **values})


def _require_shared_srdb() -> None:
    if not SHARED_SRDB.is_file():
        if os.environ.get("CI"):
            pytest.fail(f"shared data missing in CI: {SHARED_SRDB}")
        pytest.skip(f"shared SRDB copy not found at {SHARED_SRDB}")


@pytest.mark.shared_data
def test_fetch_srdb_from_file_url_places_verified_copy_at_catalog_path(tmp_path: Path) -> None:
    _require_shared_srdb()
    dest = tmp_path / "data"
    code = fetch_command.run(_args(dest=dest, url=SHARED_SRDB.as_uri()))
    placed = dest / "srdb" / "srdb-data.csv"
    assert code == 0
    assert sha256_of(placed) == SRDB_SHA256
    assert placed.stat().st_size == SHARED_SRDB.stat().st_size == 3245853
    assert list((dest / PARTIAL_DIR).iterdir()) == []


@pytest.mark.shared_data
def test_fetch_defaults_to_rhbench_data_and_accepts_a_plain_path(tmp_path: Path, monkeypatch) -> None:
    _require_shared_srdb()
    monkeypatch.setenv("RHBENCH_DATA", str(tmp_path / "root"))
    assert fetch_command.run(_args(name="SRDB-V5", url=str(SHARED_SRDB))) == 0
    assert sha256_of(tmp_path / "root" / "srdb" / "srdb-data.csv") == SRDB_SHA256


def test_srdb_catalog_entry_records_release_url_and_checksum(registry) -> None:
    spec = download_spec(find_source(registry, "srdb"))
    assert spec == Download(
        "SRDB-V5",
        "https://raw.githubusercontent.com/bpbond/srdb/v20200511/srdb-data.csv",
        SRDB_SHA256,
        "srdb/srdb-data.csv",
    )


def test_fetch_reports_progress_up_to_the_file_size(tmp_path: Path, payload_url: str) -> None:
    seen: list[tuple[int, int | None]] = []
    path = fetch(_spec(), tmp_path, url=payload_url, progress=lambda done, total: seen.append((done, total)))
    assert path == tmp_path / "sites" / "table.csv"
    assert path.read_bytes() == PAYLOAD
    assert seen[-1] == (len(PAYLOAD), len(PAYLOAD)) == (40, 40)


def test_checksum_mismatch_raises_and_keeps_nothing(tmp_path: Path, payload_url: str) -> None:
    with pytest.raises(ChecksumError, match="sha256 0000") as info:
        fetch(_spec("0" * 64), tmp_path, url=payload_url)
    assert info.value.found == f"sha256 {hashlib.sha256(PAYLOAD).hexdigest()}"
    assert not (tmp_path / "sites" / "table.csv").exists()
    assert list((tmp_path / PARTIAL_DIR).iterdir()) == []


def test_existing_different_file_is_refused_without_force(tmp_path: Path, payload_url: str) -> None:
    target = tmp_path / "sites" / "table.csv"
    target.parent.mkdir()
    target.write_bytes(b"local edits\n")
    with pytest.raises(OutputExistsError, match="--force"):
        fetch(_spec(), tmp_path, url=payload_url)
    assert target.read_bytes() == b"local edits\n"
    fetch(_spec(), tmp_path, url=payload_url, force=True)
    assert target.read_bytes() == PAYLOAD


def test_existing_identical_file_is_kept_without_download(tmp_path: Path) -> None:
    target = tmp_path / "sites" / "table.csv"
    target.parent.mkdir()
    target.write_bytes(PAYLOAD)
    before = target.stat().st_mtime_ns
    assert fetch(_spec(), tmp_path, url="file:///nonexistent/never-read.csv") == target
    assert target.stat().st_mtime_ns == before


def test_trendy_model_is_not_downloadable(registry) -> None:
    with pytest.raises(ConfigError, match="not downloadable") as info:
        download_spec(find_source(registry, "CLM5.0"))
    assert "TRENDY v9 data policy" in str(info.value.found)


def test_unknown_name_lists_known_sources(registry) -> None:
    with pytest.raises(ConfigError) as info:
        find_source(registry, "no-such-product")
    assert "SRDB-V5" in info.value.expected


def test_fetch_command_without_destination_is_a_config_error(monkeypatch) -> None:
    monkeypatch.delenv("RHBENCH_DATA", raising=False)
    with pytest.raises(ConfigError, match="no destination"):
        fetch_command.run(_args())
