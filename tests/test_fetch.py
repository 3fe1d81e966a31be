"""``rhbench fetch``: pooch downloads from file:// and a local HTTP server, hash checks, overwrite rules.

No test needs the network: catalog URLs are replaced by file:// mirrors or by a server on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import http.server
import os
import threading
from pathlib import Path

import pytest

from rhbench.commands import fetch as fetch_command
from rhbench.errors import ChecksumError, ConfigError, DataError, OutputExistsError
from rhbench.fetch import Download, download_spec, download_specs, fetch, find_source
from rhbench.fileops import sha256_of
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


@pytest.fixture
def http_mirror(tmp_path: Path):
    """A file server on 127.0.0.1 serving ``tmp_path/served``; yields its base URL."""
    served = tmp_path / "served"
    served.mkdir()
    (served / "table.csv").write_bytes(PAYLOAD)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    handler.log_message = lambda *args, **kwargs: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _spec(known_hash: str = "sha256:" + hashlib.sha256(PAYLOAD).hexdigest()) -> Download:
    return Download("TOY", "rh", "https://example.invalid/table.csv", known_hash, "sites/table.csv")


def _args(**values) -> argparse.Namespace:
    defaults = {"name": "srdb", "all": False, "dest": None, "url": None, "force": False, "quiet": True}
    return argparse.Namespace(**{**defaults, "ilamb_root": None, **values})


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
    assert sorted(p.name for p in placed.parent.iterdir()) == ["srdb-data.csv"]


@pytest.mark.shared_data
def test_fetch_defaults_to_rhbench_data_and_accepts_a_plain_path(tmp_path: Path, monkeypatch) -> None:
    _require_shared_srdb()
    monkeypatch.setenv("RHBENCH_DATA", str(tmp_path / "root"))
    assert fetch_command.run(_args(name="SRDB-V5", url=str(SHARED_SRDB))) == 0
    assert sha256_of(tmp_path / "root" / "srdb" / "srdb-data.csv") == SRDB_SHA256


def test_srdb_catalog_entry_records_release_url_and_hash(registry) -> None:
    spec = download_spec(find_source(registry, "srdb"))
    assert spec == Download(
        "SRDB-V5",
        "rh",
        "https://raw.githubusercontent.com/bpbond/srdb/v20200511/srdb-data.csv",
        f"sha256:{SRDB_SHA256}",
        "srdb/srdb-data.csv",
    )


def test_hwsd_is_pinned_to_ilambs_published_file_in_ilamb_layout(registry) -> None:
    (spec,) = download_specs(find_source(registry, "HWSD"))
    assert spec.url == "https://www.ilamb.org/ILAMB-Data/DATA/cSoil/HWSD/soilc_0.5x0.5.nc"
    assert spec.known_hash == "sha1:5dd084a66a7e0d0b4ca6125db47af0eb0c119377"
    assert spec.relative_path == "ILAMB/DATA/cSoil/HWSD/soilc_0.5x0.5.nc"
    assert find_source(registry, "HWSD").variables["cSoil"].file_name == "cSoil"


def test_fetch_over_http_with_pooch_reports_progress(tmp_path: Path, http_mirror: str) -> None:
    seen: list[tuple[int, int | None]] = []
    path = fetch(_spec(), tmp_path, url=f"{http_mirror}/table.csv", progress=lambda d, t: seen.append((d, t)))
    assert path == tmp_path / "sites" / "table.csv"
    assert path.read_bytes() == PAYLOAD
    assert seen and seen[-1][0] == len(PAYLOAD)


def test_fetch_from_file_url_reports_progress_up_to_the_file_size(tmp_path: Path, payload_url: str) -> None:
    seen: list[tuple[int, int | None]] = []
    path = fetch(_spec(), tmp_path, url=payload_url, progress=lambda done, total: seen.append((done, total)))
    assert path.read_bytes() == PAYLOAD
    assert seen[-1] == (len(PAYLOAD), len(PAYLOAD)) == (40, 40)


def test_sha1_pins_are_checked_too(tmp_path: Path, payload_url: str) -> None:
    path = fetch(_spec("sha1:" + hashlib.sha1(PAYLOAD).hexdigest()), tmp_path, url=payload_url)
    assert path.read_bytes() == PAYLOAD


@pytest.mark.parametrize("scheme", ["file", "http"])
def test_hash_mismatch_raises_and_keeps_nothing(tmp_path: Path, payload_url: str, http_mirror: str, scheme) -> None:
    url = payload_url if scheme == "file" else f"{http_mirror}/table.csv"
    with pytest.raises(ChecksumError, match="does not match"):
        fetch(_spec("sha256:" + "0" * 64), tmp_path, url=url)
    assert list((tmp_path / "sites").iterdir()) == []


def test_a_missing_file_is_a_data_error_naming_the_url(tmp_path: Path, http_mirror: str) -> None:
    with pytest.raises(DataError, match="download failed") as info:
        fetch(_spec(), tmp_path, url=f"{http_mirror}/absent.csv")
    assert "absent.csv" in info.value.file


def test_existing_different_file_is_refused_without_force(tmp_path: Path, payload_url: str) -> None:
    target = tmp_path / "sites" / "table.csv"
    target.parent.mkdir()
    target.write_bytes(b"local edits\n")
    with pytest.raises(OutputExistsError, match="--force"):
        fetch(_spec(), tmp_path, url=payload_url)
    assert target.read_bytes() == b"local edits\n"
    fetch(_spec(), tmp_path, url=payload_url, force=True)
    assert target.read_bytes() == PAYLOAD


def test_a_link_to_a_users_different_file_is_never_written_through(tmp_path: Path, payload_url: str) -> None:
    """The destination is a symbolic link to the user's own file: refused without --force;
    with --force the link is replaced and the user's file is left as it was."""
    mine = tmp_path / "elsewhere" / "my-table.csv"
    mine.parent.mkdir()
    mine.write_bytes(b"my own table\n")
    target = tmp_path / "root" / "sites" / "table.csv"
    target.parent.mkdir(parents=True)
    target.symlink_to(mine)
    with pytest.raises(OutputExistsError, match="--force"):
        fetch(_spec(), tmp_path / "root", url=payload_url)
    fetch(_spec(), tmp_path / "root", url=payload_url, force=True)
    assert mine.read_bytes() == b"my own table\n"
    assert target.read_bytes() == PAYLOAD and not target.is_symlink()


@pytest.mark.parametrize("force", [False, True])
def test_a_dangling_link_at_the_destination_is_refused_and_kept(tmp_path: Path, payload_url: str, force) -> None:
    """A link to a missing file (an unmounted share?) is not silently replaced by a download,
    even with --force; the error names the link and where it points."""
    target = tmp_path / "root" / "sites" / "table.csv"
    target.parent.mkdir(parents=True)
    target.symlink_to(tmp_path / "unmounted" / "table.csv")
    with pytest.raises(OutputExistsError) as info:
        fetch(_spec(), tmp_path / "root", url=payload_url, force=force)
    assert "table.csv" in str(info.value) and "unmounted" in str(info.value)
    assert target.is_symlink() and not (tmp_path / "unmounted").exists()


def test_a_dangling_folder_link_on_the_way_is_a_typed_error_naming_it(tmp_path: Path, payload_url: str) -> None:
    (tmp_path / "root").mkdir()
    (tmp_path / "root" / "sites").symlink_to(tmp_path / "unmounted")
    with pytest.raises(OutputExistsError) as info:
        fetch(_spec(), tmp_path / "root", url=payload_url)
    assert "sites" in str(info.value) and "unmounted" in str(info.value)


def test_fetched_file_respects_the_umask(tmp_path: Path, payload_url: str) -> None:
    """pooch downloads into a 0600 temporary file; a shared data root needs 0666 minus the umask."""
    old = os.umask(0o022)
    try:
        path = fetch(_spec(), tmp_path, url=payload_url)
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o644


def test_existing_identical_file_is_kept_without_download(tmp_path: Path) -> None:
    target = tmp_path / "sites" / "table.csv"
    target.parent.mkdir()
    target.write_bytes(PAYLOAD)
    before = target.stat().st_mtime_ns
    assert fetch(_spec(), tmp_path, url="file:///nonexistent/never-read.csv") == target
    assert target.stat().st_mtime_ns == before


def test_ilamb_hosted_files_go_to_the_ilamb_folder(tmp_path: Path, payload_url: str) -> None:
    spec = Download("TOY", "cSoil", "https://example.invalid/x.nc", _spec().known_hash, "ILAMB/DATA/cSoil/TOY/x.nc")
    assert fetch(spec, tmp_path, url=payload_url) == tmp_path / "ILAMB" / "DATA" / "cSoil" / "TOY" / "x.nc"
    ilamb = tmp_path / "elsewhere"
    assert fetch(spec, tmp_path, url=payload_url, ilamb_root=ilamb) == ilamb / "DATA" / "cSoil" / "TOY" / "x.nc"


def test_fetch_all_fetches_every_pinned_file_and_reports_failures(tmp_path: Path, monkeypatch, payload_url) -> None:
    toy = [_spec(), Download("BAD", "rh", payload_url, "sha256:" + "0" * 64, "sites/bad.csv")]
    good_url = payload_url
    monkeypatch.setattr(fetch_command, "_wanted", lambda args: toy)
    monkeypatch.setattr(
        fetch_command, "fetch", lambda spec, root, **kw: fetch(spec, root, **{**kw, "url": kw["url"] or good_url})
    )
    code = fetch_command.run(_args(name=None, all=True, dest=tmp_path))
    assert code == 1
    assert (tmp_path / "sites" / "table.csv").read_bytes() == PAYLOAD
    assert not (tmp_path / "sites" / "bad.csv").exists()


def test_fetch_all_lists_exactly_the_pinned_sources(registry) -> None:
    specs = fetch_command._wanted(_args(name=None, all=True))
    assert {s.source for s in specs} >= {"SRDB-V5", "HWSD"}
    assert "CLM5.0" not in {s.source for s in specs}


def test_trendy_model_is_not_downloadable(registry) -> None:
    with pytest.raises(ConfigError, match="not downloadable") as info:
        download_spec(find_source(registry, "CLM5.0"))
    assert "TRENDY v9 data policy" in str(info.value.found)


def test_name_and_all_are_exclusive() -> None:
    with pytest.raises(ConfigError, match="--all"):
        fetch_command._wanted(_args(name="srdb", all=True))
    with pytest.raises(ConfigError, match="--all"):
        fetch_command._wanted(_args(name=None, all=False))


def test_unknown_name_lists_known_sources(registry) -> None:
    with pytest.raises(ConfigError) as info:
        find_source(registry, "no-such-product")
    assert "SRDB-V5" in info.value.expected


def test_fetch_command_without_destination_is_a_config_error(monkeypatch) -> None:
    monkeypatch.delenv("RHBENCH_DATA", raising=False)
    with pytest.raises(ConfigError, match="no destination"):
        fetch_command.run(_args())


@pytest.mark.parametrize(
    ("name", "key", "sha1"),
    [
        ("HWSD2", "cSoil/HWSD2/hwsd2_cSoil.nc", "9a6377e4c5ff457c08c194d2c376c46e003a4f84"),
        ("NCSCDV22", "cSoil/NCSCDV22/soilc_0.5x0.5.nc", "605efa69f547277309eca87cb581374dd3a76000"),
        ("SoilGrids2", "cSoil/SoilGrids2/soilgrids2_cSoil.nc", "ce2e2e5cd323c57fbc81bcefd3c72d77544ddddd"),
    ],
)
def test_ilamb_hosted_csoil_products_are_pinned_and_not_in_the_default_mean(registry, name, key, sha1) -> None:
    from rhbench import catalog

    source = find_source(registry, name)
    (spec,) = download_specs(source)
    assert (spec.url, spec.known_hash) == (f"https://www.ilamb.org/ILAMB-Data/DATA/{key}", f"sha1:{sha1}")
    assert spec.relative_path == f"ILAMB/DATA/{key}"
    assert catalog.entry_for(source).metadata["observed_mean"] is False


def test_a_download_prints_nothing_of_pooch_s_own(tmp_path: Path, payload_url: str) -> None:
    """pooch's logger printed "Downloading data from '...' to file '...'" on stderr on its own
    (under ``rhbench -q`` too), beside rhbench's "downloading ... from ..." line. A fresh
    interpreter: pooch's handler holds the stderr of the process that imported it."""
    import subprocess
    import sys

    code = (
        "import sys; from pathlib import Path; from rhbench.fetch import Download, fetch; "
        f"fetch(Download('TOY', 'rh', 'https://example.invalid/t.csv', {_spec().known_hash!r}, 'sites/t.csv'), "
        "Path(sys.argv[1]), url=sys.argv[2])"
    )
    done = subprocess.run([sys.executable, "-c", code, str(tmp_path), payload_url], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "sites" / "t.csv").read_bytes() == PAYLOAD
    assert "Downloading data from" not in done.stderr, done.stderr
