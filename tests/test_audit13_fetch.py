"""Thirteenth audit (session 11), part B: `rhbench fetch --force` over a user's file when the
download fails (docs/trust-cases.md, "Thirteenth audit (session 11)"). No network: file:// and a
server on 127.0.0.1 (tests/test_fetch.py's fixtures)."""

from __future__ import annotations

import hashlib
import http.server
import threading
from pathlib import Path

import pytest

from rhbench.errors import ChecksumError, DataError, OutputExistsError
from rhbench.fetch import fetch
from tests.test_fetch import PAYLOAD, _spec, http_mirror, payload_url  # noqa: F401 (fixtures)

MINE = b"my own edited table\n"


def _users_file(root: Path) -> Path:
    target = root / "sites" / "table.csv"
    target.parent.mkdir(parents=True)
    target.write_bytes(MINE)
    return target


@pytest.mark.parametrize("failure", ["hash mismatch", "missing on the server", "cut half way"])
def test_force_keeps_the_users_file_when_the_download_fails(tmp_path, payload_url, http_mirror, cut_url, failure):  # noqa: F811
    """Before: `--force` deleted the different file first, then downloaded: a download that failed left
    **nothing** at the path (the user's own table lost). Now the file is replaced only once the new
    bytes have verified (pooch's temporary file, moved after the hash check); no temporary left."""
    target = _users_file(tmp_path / "root")
    if failure == "hash mismatch":
        spec, url, error = _spec("sha256:" + "0" * 64), payload_url, ChecksumError
    elif failure == "missing on the server":
        spec, url, error = _spec(), f"{http_mirror}/absent.csv", DataError
    else:
        spec, url, error = _spec(), cut_url, (ChecksumError, DataError)
    with pytest.raises(error):
        fetch(spec, tmp_path / "root", url=url, force=True)
    assert target.read_bytes() == MINE
    assert sorted(p.name for p in target.parent.iterdir()) == ["table.csv"]


def test_force_replaces_the_users_file_once_the_download_verifies(tmp_path, payload_url):  # noqa: F811
    target = _users_file(tmp_path / "root")
    assert fetch(_spec(), tmp_path / "root", url=payload_url, force=True) == target
    assert target.read_bytes() == PAYLOAD


@pytest.fixture
def cut_url():
    """The URL of a server announcing the payload's length and closing the connection half way through it."""

    class Cut(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            self.send_response(200)
            self.send_header("Content-Length", str(len(PAYLOAD)))
            self.end_headers()
            self.wfile.write(PAYLOAD[: len(PAYLOAD) // 2])
            self.wfile.flush()
            self.close_connection = True

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Cut)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    assert hashlib.sha256(PAYLOAD[: len(PAYLOAD) // 2]).hexdigest() != hashlib.sha256(PAYLOAD).hexdigest()
    yield f"http://127.0.0.1:{server.server_address[1]}/table.csv"
    server.shutdown()
    server.server_close()


def _linked(root: Path, to: Path) -> Path:
    target = root / "sites" / "table.csv"
    target.parent.mkdir(parents=True)
    target.symlink_to(to)
    return target


@pytest.mark.parametrize("force", [False, True])
@pytest.mark.parametrize("linked", [True, False], ids=["a link to a folder", "a folder"])
def test_fetch_onto_a_folder_or_a_link_to_one_refuses_naming_it_and_deletes_nothing(
    tmp_path,
    payload_url,  # noqa: F811
    force,
    linked,
):
    """B13-22. Before: a raw IsADirectoryError from the hash check ("cannot read or write a file: ...:
    Is a directory"), not saying what was there. Now an OutputExistsError naming the path, what is
    there (the folder a link points to) and what was expected, with or without --force; the folder,
    its files and the link are left as they were."""
    users = tmp_path / "elsewhere"
    users.mkdir()
    (users / "keep.txt").write_bytes(MINE)
    if linked:
        target = _linked(tmp_path / "root", users)
    else:
        target = users = tmp_path / "root" / "sites" / "table.csv"
        users.mkdir(parents=True)
        (users / "keep.txt").write_bytes(MINE)
    with pytest.raises(OutputExistsError) as caught:
        fetch(_spec(), tmp_path / "root", url=payload_url, force=force)
    text = str(caught.value)
    assert f"file: {target}" in text and "a folder is at the destination" in text
    assert caught.value.found == (f"a symbolic link to a folder elsewhere, {users}" if linked else "a folder")
    assert target.is_symlink() is linked
    assert sorted(p.name for p in users.iterdir()) == ["keep.txt"] and (users / "keep.txt").read_bytes() == MINE


@pytest.mark.parametrize("outcome", ["verified", "hash mismatch"])
def test_force_onto_a_link_to_a_users_file_elsewhere_never_writes_through_it(tmp_path, payload_url, outcome):  # noqa: F811
    """B13-22 (pins): a link at the destination to a file outside the data root. With --force the link
    is replaced by the verified download (or kept when the download fails); the user's file it pointed
    to keeps its bytes either way. Without --force: refused, the error says it is a link and to what."""
    users = tmp_path / "elsewhere.csv"
    users.write_bytes(MINE)
    target = _linked(tmp_path / "root", users)
    with pytest.raises(OutputExistsError) as caught:
        fetch(_spec(), tmp_path / "root", url=payload_url)
    assert caught.value.found == f"a symbolic link to a file elsewhere, {users}" and str(target) in str(caught.value)
    if outcome == "verified":
        fetch(_spec(), tmp_path / "root", url=payload_url, force=True)
        assert not target.is_symlink() and target.read_bytes() == PAYLOAD
    else:
        with pytest.raises(ChecksumError):
            fetch(_spec("sha256:" + "0" * 64), tmp_path / "root", url=payload_url, force=True)
        assert target.is_symlink() and target.resolve() == users
    assert users.read_bytes() == MINE
    assert sorted(p.name for p in tmp_path.iterdir()) == ["elsewhere.csv", "mirror", "root"]  # mirror: the URL
