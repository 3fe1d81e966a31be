"""The manifest of a run's gated outputs (``manifest.json``), and its optional keyed signature.

``rhbench run`` writes ``manifest.json`` last, into the staging folder, so it lands with the
outputs it describes. It lists :data:`GATED_OUTPUTS` (the one list of the files ``rhbench
check`` trusts) with each file's size in bytes and SHA-256:

``{"rhbench_version": str, "files": {name: {"bytes": int, "sha256": hex}}, "signature": null | {...}}``

With a gate key (:func:`rhbench.report.gatekey.gate_key`: environment variable :data:`KEY_ENV`, or a key file named by
:data:`KEY_FILE_ENV`, readable by its owner only), ``signature`` is ``{"algorithm":
"HMAC-SHA256", "key_id": hex, "files": {name: hex}, "index": hex}``: an HMAC-SHA256 over the
exact bytes of every listed file, one over the list itself (names, sizes and SHA-256, so that
no entry can be dropped or renamed), and a key id (an HMAC of a fixed text: it tells which key
signed without revealing it). The key itself is never written nor logged.

:func:`verify` is what ``rhbench check`` runs on the folder of each scorecard it reads. Without a
key the manifest's SHA-256s are checked (a file edited, truncated or swapped after the run fails)
and the gate says plainly "digest only, not signed": whoever edits a file can recompute its
digest. With a key every listed HMAC must match (:func:`hmac.compare_digest`): the outputs were
written by a run holding the same key and not changed since. It protects the outputs between
``rhbench run`` and ``rhbench check`` from whoever lacks the key, not from a compromised run.
A baseline is read for its scorecard only: listed files not beside it (results.nc is rarely
committed) are named, not failed. A scorecard.json or scores.csv whose only change is CRLF line
ends (a git checkout with core.autocrlf) is the file the run wrote, and the note says so.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from dataclasses import dataclass, field, replace
from pathlib import Path

import rhbench
from rhbench.fileops import write_text_atomic
from rhbench.outdir import MANIFEST_JSON, MARKER
from rhbench.report.gatekey import CONTEXT_ENV, KEY_ENV, KEY_FILE_ENV, gate_context, gate_key
from rhbench.report.tables import SCORECARD_JSON, SCORES_CSV

__all__ = ["CONTEXT_ENV", "KEY_ENV", "KEY_FILE_ENV", "gate_context", "gate_key"]  # defined in rhbench.report.gatekey

#: The files of a run the gate trusts, in the order the run finishes them; written by
#: :mod:`rhbench.report.tables`, :mod:`rhbench.report.cfnetcdf`, :mod:`rhbench.report.cmec`,
#: :mod:`rhbench.provenance` and :mod:`rhbench.report.html` (whose file-name constants are these).
#: The page is finished (its sections collected from the page workers and written by the run
#: itself) after every other writer and before the manifest (:func:`rhbench.outputs.write_all`).
RESULTS_NC, CMEC_JSON, RUN_JSON, INDEX_HTML = "results.nc", "cmec.json", "run.json", "index.html"
GATED_OUTPUTS = (SCORECARD_JSON, SCORES_CSV, RESULTS_NC, CMEC_JSON, RUN_JSON, INDEX_HTML)
ALGORITHM = "HMAC-SHA256"
_KEY_ID_TEXT = b"rhbench gate key id v1"
_BLOCK = 1 << 20


def key_id(key: bytes) -> str:
    """A short public name of ``key`` (an HMAC of a fixed text): equal ids, same key; never the key."""
    return hmac.new(key, _KEY_ID_TEXT, hashlib.sha256).hexdigest()[:16]


def _hashes(path: Path, key: bytes | None) -> tuple[int, str, str | None]:
    """Size (bytes), SHA-256 and, with ``key``, HMAC-SHA256 (hex) of a file's exact bytes."""
    plain, keyed, size = hashlib.sha256(), (hmac.new(key, digestmod=hashlib.sha256) if key else None), 0
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(_BLOCK), b""):
            plain.update(block)
            size += len(block)
            if keyed is not None:
                keyed.update(block)
    return size, plain.hexdigest(), keyed.hexdigest() if keyed is not None else None


def _index(files: dict[str, dict], context: str | None) -> bytes:
    """The canonical text of the manifest's file list (names, sizes, SHA-256) and run context, signed as a whole."""
    payload = files if context is None else {"files": files, "context": context}
    return json.dumps(payload, sort_keys=True, separators=(",", ":")).encode("ascii")


def write_manifest(folder: Path, key: bytes | None, context: str | None = None) -> dict:
    """Write ``manifest.json`` into ``folder`` for the :data:`GATED_OUTPUTS` it holds; returns the manifest.

    ``key``: the gate key (:func:`gate_key`), or None for a manifest of digests only;
    ``context``: the CI run's name (:func:`gate_context`), recorded and signed.
    """
    folder = Path(folder)
    files, signed = {}, {}
    for name in GATED_OUTPUTS:
        if (folder / name).is_file():
            size, sha, mac = _hashes(folder / name, key)
            files[name] = {"bytes": size, "sha256": sha}
            signed[name] = mac
    signature = None
    if key is not None:
        index = hmac.new(key, _index(files, context), hashlib.sha256).hexdigest()
        signature = {"algorithm": ALGORITHM, "key_id": key_id(key), "files": signed, "index": index}
    manifest = {"rhbench_version": rhbench.__version__, "context": context, "files": files, "signature": signature}
    write_text_atomic(folder / MANIFEST_JSON, json.dumps(manifest, indent=2))
    return manifest


@dataclass
class Verdict:
    """What :func:`verify` found in one folder: ``problems`` fail the gate; ``note`` says how far
    the outputs were verified (e.g. ``"digest only, not signed"``)."""

    problems: list[str] = field(default_factory=list)
    note: str = ""
    signed: bool = False
    #: no manifest.json beside the scorecard (a copy outside a run folder): nothing but the
    #: scorecard's own sha256, if it has one, tells an edit
    outside: bool = False


def verify(
    scorecard: Path, key: bytes | None, *, role: str = "current scorecard", context: str | None = None
) -> Verdict:
    """Check the run folder of ``scorecard`` (the file the gate reads) against its ``manifest.json``.

    ``key``: the gate key, or None (digests only). ``role``: ``"current scorecard"`` or
    ``"baseline"``. With a key, a current scorecard outside a signed run folder (no manifest,
    a manifest without signature, another key) fails; a baseline outside a run folder (a copy
    committed for review) or from a run without a key is compared on its digests, saying so;
    a signed baseline is verified like the current scorecard. ``context``: the CI run's name
    (:func:`gate_context`); the current scorecard's manifest must record the same (outputs of
    an earlier run copied in fail). A computed HMAC is never printed (it would let whoever reads
    the log sign an edited file).
    """
    path = Path(scorecard)
    manifest_path = path.parent / MANIFEST_JSON
    if not manifest_path.is_file() or path.name not in GATED_OUTPUTS:
        verdict = _outside_a_run_folder(path, key, role)
        return replace(verdict, problems=_incomplete(path, role) + verdict.problems, outside=True)
    manifest, problem = _read_manifest(manifest_path)
    if problem:
        return Verdict([f"the {role}'s {problem}"], "not verified")
    files, signature = manifest["files"], manifest.get("signature")
    problems = _links(path.parent, role) + _coverage(path, files, role)
    older = [p for p in problems if p.startswith(_UNLISTED_PAGE.format(role=role))] if role == "baseline" else []
    problems = [p for p in problems if p not in older]  # a baseline is read for its scorecard only
    if role != "baseline" and context is not None and manifest.get("context") != context:
        problems.append(_another_run(role, manifest.get("context"), context, path.parent))
    absent = _absent_siblings(path, files) if role == "baseline" else []  # a baseline is read for its scorecard
    said = _said(absent, [], older)
    if key is None or (role == "baseline" and not signature):  # an unsigned baseline: under review, not a run's
        found, converted = _digest_problems(path.parent, files, role, absent)
        signer = f"{signature.get('key_id')!s:.16}" if signature else ""
        extra = f" (signed with key id {signer}, but no gate key was given here)" if signer else ""
        extra = extra or (" (its run had no gate key: a baseline under review)" if key is not None else "")
        return Verdict(problems + found, f"digest only, not signed{extra}{_said(absent, converted, older)}")
    recorded = manifest.get("context")
    found, converted = _signature_problems(path.parent, files, signature, key, role, manifest_path, recorded, absent)
    if problems or found:
        return Verdict(problems + found, f"signature NOT verified{said}")
    count = len(files) - len(absent)
    verified = f"HMAC-SHA256 of {count} file{'' if count == 1 else 's'} verified (key id {key_id(key)})"
    return Verdict([], f"signed: {verified}{_said(absent, converted, older)}", signed=True)


def _absent_siblings(path: Path, files: dict) -> list[str]:
    """The files a manifest lists beside the scorecard ``path`` that are not there (a baseline committed
    without results.nc and the like: only its scorecard is read)."""
    return sorted(name for name in files if name != path.name and not (path.parent / name).exists())


def _said(absent: list[str], converted: list[str], older: list[str] = ()) -> str:
    """What a verdict's note adds on listed files not present, files whose line endings changed and
    (``older``) a baseline's page its manifest does not list."""
    notes = [f"not present beside it, not compared: {', '.join(absent)}"] if absent else []
    if older:
        notes.append(f"{INDEX_HTML} not listed in its {MANIFEST_JSON} ({_OLDER_RHBENCH}), not compared")
    if converted:
        notes.append(
            f"line endings of {', '.join(converted)} converted to CRLF since the run (git core.autocrlf?); "
            "content as the run wrote it"
        )
    return f"; {'; '.join(notes)}" if notes else ""


def _outside_a_run_folder(path: Path, key: bytes | None, role: str) -> Verdict:
    where = f"no {MANIFEST_JSON} beside {path}" if path.name in GATED_OUTPUTS else f"{path} is not a run's output file"
    if key is None:
        return Verdict([], f"digest only, not signed ({where})")
    if role == "baseline":
        return Verdict([], f"digest only, not signed ({where}: a baseline under review, the key signs runs)")
    return Verdict(
        [
            f"the {role} is unsigned ({where}) but a gate key is set ({KEY_ENV} or {KEY_FILE_ENV}): "
            f"expected the {MANIFEST_JSON} of `rhbench run` signed with the same key beside {path.name}"
        ],
        "unsigned",
    )


def _another_run(role: str, recorded: object, context: str, folder: Path) -> str:
    """The problem of outputs recorded for another run than ``context`` (``RHBENCH_GATE_CONTEXT`` here)."""
    if recorded is None:  # the run had no context set: the job's set-up, or an earlier run's outputs
        return (
            f"the {role}'s outputs record no {CONTEXT_ENV} ({MANIFEST_JSON}: the run had none set), {context!r} "
            f"here: set {CONTEXT_ENV} for `rhbench run` too, or were outputs of an earlier run copied in? {folder}"
        )
    return (
        f"the {role}'s outputs were written by another run ({CONTEXT_ENV} {recorded!r} in "
        f"{MANIFEST_JSON}, {context!r} here): outputs of an earlier run copied in? {folder}"
    )


def _read_manifest(path: Path) -> tuple[dict, str]:
    """The manifest, or ``({}, problem)`` when it cannot be what rhbench wrote."""
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"), object_pairs_hook=_no_duplicate_keys)
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        return {}, f"{MANIFEST_JSON} is unreadable ({str(exc)[:120]}): {path}"
    files = manifest.get("files") if isinstance(manifest, dict) else None
    good = isinstance(files, dict) and all(
        isinstance(v, dict) and isinstance(v.get("sha256"), str) and type(v.get("bytes")) is int for v in files.values()
    )
    if (
        not good
        or not isinstance(manifest.get("signature"), dict | None)
        or not isinstance(manifest.get("context"), str | None)
    ):
        return {}, f"{MANIFEST_JSON} is not a manifest rhbench wrote (no file list of sizes and sha256): {path}"
    strangers = sorted(set(files) - set(GATED_OUTPUTS))  # never hashed: "../../x" would read outside the folder
    if strangers:
        return {}, f"{MANIFEST_JSON} lists files that are not gated outputs ({', '.join(strangers)[:200]}): {path}"
    return manifest, ""


def _no_duplicate_keys(pairs: list[tuple[str, object]]) -> dict:
    keys = [key for key, _ in pairs]
    if len(set(keys)) != len(keys):
        raise ValueError(f"duplicate key {next(k for k in keys if keys.count(k) > 1)!r}")
    return dict(pairs)


def _incomplete(path: Path, role: str) -> list[str]:
    """A run folder whose marker says a manifest is written last, without one: outputs lost or
    partly copied after the run (the run itself moves its folder into place whole)."""
    try:
        marker = json.loads((path.parent / MARKER).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError):
        return []
    if not isinstance(marker, dict) or marker.get("manifest") != MANIFEST_JSON or path.name not in GATED_OUTPUTS:
        return []
    return [
        f"the {role}'s run folder lacks its {MANIFEST_JSON} (the run writes it last; its {MARKER} says so): "
        f"outputs partly copied or removed after the run? {path.parent}"
    ]


def _links(folder: Path, role: str) -> list[str]:
    """Gated outputs that are symbolic links: a run writes regular files."""
    return [
        f"the {role}'s {name} is a symbolic link (to {os.readlink(folder / name)}), not a file the run wrote: "
        f"{folder / name}"
        for name in (*GATED_OUTPUTS, MANIFEST_JSON)
        if (folder / name).is_symlink()
    ]


#: A run of an rhbench before the page was gated (a7048c6) lists every gated output but the page.
_OLDER_RHBENCH = "a run of an rhbench before the page was a gated output"
_UNLISTED_PAGE = f"the {{role}}'s folder holds {INDEX_HTML}, which its {MANIFEST_JSON} does not list"


def _coverage(path: Path, files: dict, role: str) -> list[str]:
    """The gated outputs in the folder that the manifest does not list (added after the run; the page:
    or a run of an older rhbench, which :func:`verify` only notes of a baseline)."""
    present = [name for name in GATED_OUTPUTS if (path.parent / name).is_file() or name == path.name]
    return [
        (
            f"{_UNLISTED_PAGE.format(role=role)} (added after the run, or {_OLDER_RHBENCH}: run it again): "
            if name == INDEX_HTML
            else f"the {role}'s folder holds {name}, which its {MANIFEST_JSON} does not list (added after the run?): "
        )
        + f"{path.parent / name}"
        for name in present
        if name not in files
    ]


def _digest_problems(folder: Path, files: dict, role: str, absent: list[str]) -> tuple[list[str], list[str]]:
    """(problems, files whose only change is CRLF line endings) of the listed files but ``absent``."""
    problems, converted = [], []
    for name, entry in sorted(files.items()):
        match = "absent" if name in absent else _compare(folder / name, entry, None, None)
        converted += [name] if match == "line endings" else []
        if match == "missing":
            problems.append(f"the {role}'s {name} is listed in {MANIFEST_JSON} but missing: {folder / name}")
        elif match == "differs":
            problems.append(
                f"the {role}'s {name} is not the file the run wrote (its sha256 differs from {MANIFEST_JSON}: "
                f"edited, truncated or swapped after the run; {_size(folder / name)} bytes, the run wrote "
                f"{entry['bytes']}): {folder / name}" + (_REFRESH_HINT if role == "baseline" else "")
            )
    return problems, converted


#: Said of a baseline file that is not the one its manifest lists: a baseline refreshed by hand.
_REFRESH_HINT = f" (a baseline refreshed with a new run's files? copy that run's {MANIFEST_JSON} with them)"


def _compare(path: Path, entry: dict, mac: str | None, key: bytes | None) -> str:
    """``"same"``, ``"line endings"`` (the same text with CRLF line ends: a git checkout with
    core.autocrlf), ``"missing"`` or ``"differs"``: ``path`` against its manifest ``entry`` (size and
    SHA-256) or, with ``key``, its recorded HMAC ``mac`` (compared in constant time)."""

    def agrees(found: tuple[int, str, str | None]) -> bool:
        if key is not None:
            return hmac.compare_digest(str(mac).encode(), str(found[2]).encode())
        return (found[0], found[1]) == (entry["bytes"], entry["sha256"])

    found = _hashes_or_none(path, key)
    if found is None:
        return "missing"
    if agrees(found):
        return "same"
    if path.suffix in (".json", ".csv") and path.stat().st_size <= 2 * entry["bytes"]:
        text = path.read_bytes().replace(b"\r\n", b"\n")
        mac_lf = hmac.new(key, text, hashlib.sha256).hexdigest() if key else None
        if agrees((len(text), hashlib.sha256(text).hexdigest(), mac_lf)):
            return "line endings"
    return "differs"


def _size(path: Path) -> int | str:
    try:
        return path.stat().st_size
    except OSError:
        return "?"


def _hashes_or_none(path: Path, key: bytes | None) -> tuple[int, str, str | None] | None:
    if not path.is_file():
        return None
    try:
        return _hashes(path, key)
    except OSError:
        return None


def _signature_problems(folder, files, signature, key, role, manifest_path, context, absent) -> tuple[list, list]:
    """(problems, files whose only change is CRLF line endings) of a signed folder, checked with ``key``."""
    if not signature:
        return [
            f"the {role}'s outputs are not signed ({manifest_path} records no signature: the run had no gate key) "
            f"but a gate key is set here: run `rhbench run` with the same {KEY_ENV} or {KEY_FILE_ENV}"
        ], []
    recorded = str(signature.get("key_id", ""))
    if signature.get("algorithm") != ALGORITHM or not isinstance(signature.get("files"), dict):
        return [f"the {role}'s {MANIFEST_JSON} has a signature rhbench cannot read: {manifest_path}"], []
    if not hmac.compare_digest(recorded.encode(), key_id(key).encode()):
        return [
            f"the {role}'s outputs were signed with another key (key id {recorded:.16}; this key's id is "
            f"{key_id(key)}): {manifest_path}"
        ], []
    index = hmac.new(key, _index(files, context), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(str(signature.get("index", "")).encode(), index.encode()):
        return [f"the {role}'s {MANIFEST_JSON} file list or run context was edited after signing: {manifest_path}"], []
    problems, converted = [], []
    for name in sorted(set(files) - set(absent)):
        match = _compare(folder / name, files[name], str(signature["files"].get(name, "")), key)
        converted += [name] if match == "line endings" else []
        if match == "missing":
            problems.append(f"the {role}'s {name} is signed but missing: {folder / name}")
        elif match == "differs":
            problems.append(
                f"the {role}'s {name} was changed after the run signed it (its HMAC-SHA256 does not match the "
                f"signature in {MANIFEST_JSON}): {folder / name}"
            )
    return problems, converted
