"""The one lookup of a variable's name in a data file, used by the loader and by ``rhbench data``.

A file may spell the variable ``RH`` or ``Rh`` where rhbench expects ``rh``: the one name
that differs only in case is read, with a warning naming the file and both names (a user
running with ``-q`` still sees it). Several such names are an error naming them all,
never a guess.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from rhbench.errors import MissingVariableError

log = logging.getLogger(__name__)


def find_variable(names: Iterable[object], wanted: str, *, file: str, source: str | None = None) -> str | None:
    """The name among ``names`` (a file's variables) that holds ``wanted``: ``wanted`` itself, else
    the one name equal to it but for case; None when there is none.

    Raises :class:`MissingVariableError` naming the file and the candidates when several
    names differ from ``wanted`` only in case.
    """
    names = [str(n) for n in names]
    if wanted in names:
        return wanted
    matches = sorted(n for n in names if n.lower() == wanted.lower())
    if len(matches) > 1:
        raise MissingVariableError(
            "several variables differ from the expected name only in case: which one to read is not clear",
            source=source,
            file=file,
            variable=wanted,
            found=matches,
            expected=f"{wanted!r}, or exactly one name differing from it only in case",
        )
    if matches:
        log.warning("%s: reading variable %r as %r (the names differ only in case)", file, matches[0], wanted)
        return matches[0]
    return None
