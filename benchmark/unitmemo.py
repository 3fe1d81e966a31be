"""A memo of what rhbench asks pint about unit strings, so a run need not build pint's registry.

Building rhbench's pint registry (:func:`rhbench.units.registry`: pint's default
definitions parsed, plus the CF spellings) costs ~0.1 s and importing pint another
~0.05 s, in every run, for a handful of answers that never change: a unit string's
dimensions, whether it is multiplicative (not an offset unit such as degC), and the factor
converting one unit string into another. This module keeps those answers in a small JSON
file in the cache folder (``RHBENCH_CACHE/units/``), like matplotlib's font cache: it is
derived from code only (pint's version and the source of :mod:`rhbench.units` and of this
module, which name the file), never from data, so it applies whether or not the products
cache is on. Each answer is pint's own, computed once by pint and stored as JSON (a float
round-trips exactly); nothing is unpickled. A file whose recorded SHA-256 does not match its
content, or that does not parse, is ignored (and rewritten); a cache folder that cannot be
written leaves the memo in memory only. Errors (an unparseable string) are never memoised:
they are raised by pint every time.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rhbench.fileops import cache_dir, write_text_atomic

log = logging.getLogger(__name__)

#: Version of the memo's file layout (part of its key).
MEMO_FORMAT = 1


@dataclass(frozen=True)
class UnitFacts:
    """What rhbench needs to know about one unit string.

    ``dimensions``: the unit's dimensionality as sorted (dimension, exponent) pairs (equal
    for units of the same dimension); ``text``: pint's spelling of it, for messages
    (``[mass] / [length] ** 2``); ``multiplicative``: False for offset units (degC).
    """

    dimensions: tuple[tuple[str, float], ...]
    text: str
    multiplicative: bool

    def to_json(self) -> list:
        return [[list(pair) for pair in self.dimensions], self.text, self.multiplicative]

    @classmethod
    def from_json(cls, value: list) -> UnitFacts:
        dimensions, text, multiplicative = value
        pairs = tuple((str(name), float(power)) for name, power in dimensions)
        if not isinstance(text, str) or not isinstance(multiplicative, bool):
            raise ValueError(f"malformed unit facts: {value!r}")
        return cls(pairs, text, multiplicative)


def memo_key(*sources: Path) -> str:
    """The memo's key: the memo format, pint's installed version and the bytes of ``sources``."""
    from importlib.metadata import version

    digest = hashlib.sha256(f"{MEMO_FORMAT}|pint {version('pint')}".encode())
    for source in sources:
        digest.update(Path(source).read_bytes())
    return digest.hexdigest()


class UnitMemo:
    """Unit facts and conversion factors by unit string, loaded from and saved to one JSON file.

    ``key`` (see :func:`memo_key`) names the file; ``folder`` defaults to
    ``cache_dir() / "units"`` and is resolved when the memo is first read.
    """

    def __init__(self, key: Callable[[], str], folder: Path | None = None) -> None:
        self._key, self._folder = key, folder
        self._path: Path | None = None
        self._facts: dict[str, UnitFacts] | None = None
        self._factors: dict[str, float] = {}

    def facts(self, text: str, compute: Callable[[str], UnitFacts]) -> UnitFacts:
        """The facts of unit string ``text``: memoised, else ``compute(text)`` (then saved)."""
        known = self._loaded()
        if text not in known:
            known[text] = compute(text)
            self._save()
        return known[text]

    def factor(self, source: str, target: str, compute: Callable[[str, str], float]) -> float:
        """The factor converting ``source`` into ``target`` units: memoised, else ``compute``."""
        self._loaded()
        pair = f"{source}\n{target}"
        if pair not in self._factors:
            self._factors[pair] = float(compute(source, target))
            self._save()
        return self._factors[pair]

    def _loaded(self) -> dict[str, UnitFacts]:
        """The memo's facts, read from its file on first use (an unusable file reads as empty)."""
        if self._facts is None:
            self._facts = {}
            try:
                folder = self._folder or cache_dir() / "units"
                self._path = folder / f"facts-{self._key()[:24]}.json"
                if self._path.is_file():
                    self._read(self._path)
            except (OSError, ValueError, TypeError, KeyError) as exc:  # ignored: pint answers again
                log.debug("unit memo not used: %s", exc)
                self._facts, self._factors = {}, {}
        return self._facts

    def _read(self, path: Path) -> None:
        document = json.loads(path.read_text(encoding="utf-8"))
        payload = document["payload"]
        if document["sha256"] != _digest(payload):
            raise ValueError(f"{path}: content does not match its recorded SHA-256")
        self._facts = {str(text): UnitFacts.from_json(value) for text, value in payload["units"].items()}
        self._factors = {str(pair): float(value) for pair, value in payload["factors"].items()}

    def _save(self) -> None:
        """Write the memo (atomically); a folder that cannot be written keeps it in memory only."""
        if self._path is None:
            return
        payload = {"units": {t: f.to_json() for t, f in sorted(self._facts.items())}, "factors": self._factors}
        try:
            write_text_atomic(self._path, json.dumps({"payload": payload, "sha256": _digest(payload)}))
        except OSError as exc:
            log.debug("unit memo not saved: %s", exc)
            self._path = None


def _digest(payload: dict) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
