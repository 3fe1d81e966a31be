"""Which known model names a name no plugin or CMIP6 folder provides probably means (the did-you-mean).

CMIP6 sources are named ``source_id.member[.experiment]`` (:mod:`rhbench.cmip6`); a member is the variant
label (``r1i1p1f1``), prefixed by its sub-experiment when it has one (DCPP's hindcasts:
``s1960-r1i1p1f1``). :func:`close_names` matches such names part by part before any spelling match.
"""

from __future__ import annotations

import difflib
import re

#: A CMIP6 source name, ``source_id.member[.experiment]`` (:mod:`rhbench.cmip6`), e.g. ``CanESM5.r1i1p1f1``;
#: the member is the variant label, prefixed by the sub-experiment when there is one (DCPP's hindcasts:
#: ``CanESM5.s1960-r1i1p1f1``, member_id = sub_experiment_id-variant_label).
CMIP6_NAME = re.compile(
    r"^(?P<source>[A-Za-z0-9-]+)\.(?:(?P<sub>[A-Za-z0-9]+)-)?(?P<variant>r\d+i\d+p\d+f\d+)"
    r"(?:\.(?P<experiment>[A-Za-z0-9-]+))?$"
)


def _cmip6_matches(name: str, known: list[str]) -> list[str]:
    """The known CMIP6 names ``name`` (a CMIP6 name itself) may mean: same source_id and variant label
    (case-insensitively), the same sub-experiment and experiment where both name one. So
    ``CanESM5.r1i1p1f1`` -> every ``CanESM5.sYYYY-r1i1p1f1``, and ``CanESM5.s1960-r1i1p1f1.dcppA-hindcast``
    -> ``CanESM5.s1960-r1i1p1f1`` (a member with one experiment is named without it)."""
    wanted = CMIP6_NAME.match(name)
    if wanted is None:
        return []
    out = []
    for candidate in known:
        found = CMIP6_NAME.match(candidate)
        if found is None:
            continue
        same = all(
            (wanted[part] or "").casefold() == (found[part] or "").casefold() for part in ("source", "variant")
        ) and all(
            wanted[part] is None or found[part] is None or wanted[part].casefold() == found[part].casefold()
            for part in ("sub", "experiment")
        )
        if same:
            out.append(candidate)
    return out


def close_names(name: str, known: list[str]) -> list[str]:
    """The known names ``name`` probably means (compared case-insensitively): the CMIP6 members it names
    but for a sub-experiment or experiment (:func:`_cmip6_matches`), else one close spelling (difflib,
    cutoff 0.75), else every CMIP6 name whose source_id it is (``CanESM5`` -> ``CanESM5.r1i1p1f1``,
    ``CanESM5.r2i1p1f1``)."""
    members = _cmip6_matches(name, known)
    if members:
        return members
    folded = {k.casefold(): k for k in known}
    close = difflib.get_close_matches(name.casefold(), list(folded), n=1, cutoff=0.75)
    if close:
        return [folded[close[0]]]
    typed = name.casefold()
    # '-' continues a typed source_id.sub_experiment (CanESM5.s1960 -> CanESM5.s1960-r1i1p1f1), never a
    # bare source_id (CanESM5 is not CanESM5-CanOE, another model)
    prefixes = (typed + ".", typed + "-") if "." in typed else (typed + ".",)
    return [k for k in known if k.casefold().startswith(prefixes)]
