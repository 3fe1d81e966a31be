"""The gate key and run context of ``rhbench run`` and ``rhbench check`` (:mod:`rhbench.report.manifest`).

The key signs a run's gated outputs (HMAC-SHA256): from the environment variable :data:`KEY_ENV`,
or a file named by :data:`KEY_FILE_ENV`, readable by its owner only. The key is never quoted in
an error, written nor logged. :data:`CONTEXT_ENV` names the CI run (recorded and signed in the
manifest, required by the check).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from rhbench.errors import ConfigError

KEY_ENV, KEY_FILE_ENV = "RHBENCH_GATE_KEY", "RHBENCH_GATE_KEY_FILE"
#: A name of the CI run (e.g. ``$GITHUB_RUN_ID``, ``$CI_PIPELINE_ID``) recorded, and signed, in the
#: manifest and required by the check: outputs of an earlier (signed) run copied in do not pass.
CONTEXT_ENV = "RHBENCH_GATE_CONTEXT"
MAX_CONTEXT_CHARS = 200
#: Shortest key accepted (bytes): a CI secret from ``secrets.token_hex(32)`` has 64.
MIN_KEY_BYTES = 16
NEW_KEY_HINT = "a long random secret, e.g. python -c 'import secrets; print(secrets.token_hex(32))'"


def gate_key(environ: dict[str, str] | None = None) -> bytes | None:
    """The gate key from :data:`KEY_ENV` or the file named by :data:`KEY_FILE_ENV`; None when neither is set.

    Raises :class:`ConfigError` (never quoting the key) when both are set, the key is empty (a
    CI secret this job cannot see) or shorter than :data:`MIN_KEY_BYTES`, or the key file is
    missing, not a regular file, or readable or writable by its group or others.
    """
    env = os.environ if environ is None else environ
    text, path = env.get(KEY_ENV), env.get(KEY_FILE_ENV)
    if text is not None and path is not None:
        raise ConfigError(f"both {KEY_ENV} and {KEY_FILE_ENV} are set", expected="one of them")
    if path is not None:
        key, where = _key_file(Path(path)), f"the key file {path}"
    elif text is not None:
        key, where = text.encode("utf-8", "surrogateescape"), KEY_ENV
    else:
        return None
    if not key:
        raise ConfigError(
            f"{where} is set but empty (a CI secret this job cannot read?)",
            variable=KEY_FILE_ENV if path is not None else KEY_ENV,
            expected=NEW_KEY_HINT,
        )
    if len(key) < MIN_KEY_BYTES:
        raise ConfigError(
            f"the gate key in {where} is too short to sign with",
            found=f"{len(key)} bytes",
            expected=f">= {MIN_KEY_BYTES} bytes: {NEW_KEY_HINT}",
        )
    return key


def _key_file(path: Path) -> bytes:
    """The key file's bytes without a final line break, refusing a file others may read or write.

    The file is opened first and the checks are made on the open file (``fstat``): a file swapped
    for another between a check by name and the read cannot lend the other file's key its check."""
    try:
        handle = os.open(path, os.O_RDONLY | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise _unreadable(path, exc) from None
    with os.fdopen(handle, "rb") as file:
        info = os.fstat(file.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise ConfigError("the gate key file is not a regular file", file=str(path), variable=KEY_FILE_ENV)
        mode = stat.S_IMODE(info.st_mode)
        if mode & 0o077:
            raise ConfigError(
                "the gate key file is readable or writable by its group or others",
                file=str(path),
                variable=KEY_FILE_ENV,
                found=f"mode {mode:04o}",
                expected=f"mode 0600 or 0400 (chmod 600 {path})",
            )
        try:
            key = file.read()
        except OSError as exc:
            raise _unreadable(path, exc) from None
    return key.removesuffix(b"\n").removesuffix(b"\r")


def gate_context(environ: dict[str, str] | None = None) -> str | None:
    """The run context from :data:`CONTEXT_ENV` (None when unset); :class:`ConfigError` when it is set
    but empty, longer than :data:`MAX_CONTEXT_CHARS` or not printable text."""
    text = (os.environ if environ is None else environ).get(CONTEXT_ENV)
    if text is None:
        return None
    if not text.strip() or len(text) > MAX_CONTEXT_CHARS or not text.isprintable():
        raise ConfigError(
            f"{CONTEXT_ENV} must name the CI run in 1 to {MAX_CONTEXT_CHARS} printable characters",
            found=f"{len(text)} characters" + ("" if text.isprintable() else ", not printable"),
            expected="e.g. the CI run id: ${{ github.run_id }} or $CI_PIPELINE_ID",
        )
    return text.strip()


def _unreadable(path: Path, exc: OSError) -> ConfigError:
    return ConfigError(f"cannot read the gate key file ({exc.strerror})", file=str(path), variable=KEY_FILE_ENV)
