"""The plugin registry: built-in and third-party plugins, found through entry points.

Every plugin, built-in or not, is a module named by an entry point of the ``rhbench``
group. Loading a plugin, calling its hook and validating what it returns are each
guarded: a plugin that fails is recorded as broken, with the reason, and the others go on.
Third-party plugins are also time-limited (each call in its own thread); the built-in ones,
rhbench's own code, run in the calling thread (a thread per call cost ~0.4 s per run on a
loaded machine).
"""

from __future__ import annotations

import contextlib
import difflib
import logging
import math
import os
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from importlib import metadata
from importlib.metadata import EntryPoint, EntryPoints
from types import ModuleType

import pluggy

from rhbench import hookspecs
from rhbench.errors import PluginError, RhbenchError
from rhbench.names import CMIP6_NAME, close_names  # noqa: F401  (re-exported: the did-you-mean is names' job)
from rhbench.sources import Source

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BrokenPlugin:
    """A plugin that could not be used, and why."""

    name: str
    package: str
    reason: str


@dataclass
class Registry:
    """The sources declared by all healthy plugins, and the plugins that are broken."""

    sources: dict[str, Source] = field(default_factory=dict)
    broken: list[BrokenPlugin] = field(default_factory=list)
    packages: dict[str, str] = field(default_factory=dict)

    def of_kind(self, kind: str) -> list[Source]:
        """The sources of one kind, in name order."""
        return sorted((s for s in self.sources.values() if s.kind == kind), key=lambda s: s.name)


def _package_of(entry_point: EntryPoint, known: dict[str, str] | None = None) -> str:
    """``"name version"`` of the entry point's distribution; ``known`` memoises it per
    distribution folder (reading a distribution's metadata parses its METADATA file)."""
    dist = getattr(entry_point, "dist", None)
    if dist is None:
        return "unknown"
    where = str(getattr(dist, "_path", "")) or None
    if known is not None and where in known:
        return known[where]
    meta = dist.metadata  # parsed once (dist.name and dist.version would parse METADATA each)
    package = f"{meta['Name']} {meta['Version']}"
    if known is not None and where is not None:
        known[where] = package
    return package


def _new_manager() -> pluggy.PluginManager:
    manager = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    manager.add_hookspecs(hookspecs)
    return manager


def _sources_of(
    plugin_name: str, plugin: object, manager: pluggy.PluginManager, timeout: float, *, trusted: bool = False
) -> list[Source]:
    """Call one plugin's hook (time-limited unless ``trusted``) and validate the descriptors it returns."""
    impls = [i for i in manager.hook.rhbench_sources.get_hookimpls() if i.plugin is plugin]
    if not impls:
        raise PluginError("plugin implements no rhbench_sources hook", source=plugin_name)
    declared = _guarded(impls[0].function, "rhbench_sources()", plugin_name, timeout, trusted=trusted)
    if not isinstance(declared, list | tuple):
        raise PluginError(
            "rhbench_sources() must return a list of Source",
            source=plugin_name,
            found=type(declared).__name__,
            expected="list[rhbench.sources.Source]",
        )
    sources = []
    for item in declared:
        if not isinstance(item, Source):
            raise PluginError(
                "rhbench_sources() returned a non-Source item",
                source=plugin_name,
                found=type(item).__name__,
                expected="rhbench.sources.Source",
            )
        item.validate()
        sources.append(replace(item, plugin=plugin_name))
    return sources


#: Seconds one plugin may take to import or to answer its hook (``RHBENCH_PLUGIN_TIMEOUT``).
DEFAULT_PLUGIN_TIMEOUT = 30.0
PLUGIN_TIMEOUT_ENV = "RHBENCH_PLUGIN_TIMEOUT"


@dataclass
class _Candidate:
    name: str
    package: str
    plugin: object
    builtin: bool
    check_catalogs: bool


def plugin_timeout() -> float:
    """Seconds allowed per plugin import or hook call (env ``RHBENCH_PLUGIN_TIMEOUT``, default 30)."""
    text = os.environ.get(PLUGIN_TIMEOUT_ENV, "")
    try:
        value = float(text) if text else DEFAULT_PLUGIN_TIMEOUT
    except ValueError:
        value = DEFAULT_PLUGIN_TIMEOUT
    return value if math.isfinite(value) and value > 0 else DEFAULT_PLUGIN_TIMEOUT


def _guarded(call: Callable[[], object], what: str, plugin: str, timeout: float, *, trusted: bool = False) -> object:
    """Run plugin ``call`` with stdout sent to stderr and the working folder kept; a third-party
    call also with a time limit, in its own thread (``trusted``: a built-in plugin, rhbench's
    own code, called in this thread).

    Raises :class:`PluginError` when it takes longer than ``timeout`` seconds (the hung
    thread is abandoned as a daemon) or raises; re-raises :class:`RhbenchError` as is.
    """
    outcome: dict[str, object] = {}
    cwd = os.getcwd()

    def target() -> None:
        try:
            outcome["value"] = call()
        except BaseException as exc:  # noqa: BLE001 - third-party code may raise anything
            outcome["error"] = exc

    thread = None if trusted else threading.Thread(target=target, name=f"rhbench-plugin-{plugin}", daemon=True)
    with contextlib.redirect_stdout(sys.stderr):
        if thread is None:
            target()
        else:
            thread.start()
            thread.join(timeout)
    if os.getcwd() != cwd:
        log.warning("plugin %s changed the working folder to %s during %s; restored", plugin, os.getcwd(), what)
        os.chdir(cwd)
    if thread is not None and thread.is_alive():
        raise PluginError(f"{what} did not finish within {timeout:g} s (hung?)", source=plugin)
    error = outcome.get("error")
    if isinstance(error, RhbenchError):
        raise error
    if error is not None:
        verb = "failed:" if what.startswith("import") else "raised"
        raise PluginError(f"{what} {verb} {type(error).__name__}: {error}", source=plugin) from error
    return outcome.get("value")


def _is_builtin(entry_point: EntryPoint, package: str | None = None) -> bool:
    """True for rhbench's own entry points; ``package`` is :func:`_package_of`'s answer, if known."""
    dist = getattr(entry_point, "dist", None)
    if dist is not None:
        name = package.rsplit(" ", 1)[0] if package else dist.name
        return name == hookspecs.PROJECT_NAME
    return entry_point.value.startswith(f"{hookspecs.PROJECT_NAME}.")


def entry_points(group: str, installed: EntryPoints | None = None) -> EntryPoints:
    """The installed entry points of ``group``, selected from ``installed`` (every group, as one
    :func:`importlib.metadata.entry_points` scan returned them) when given, else scanned now.

    A scan reads every installed distribution's metadata (5-14 ms here): :func:`build_registry`
    scans once for its plugins and for the misspelt groups (:func:`_misplaced_entry_points`).
    """
    return (metadata.entry_points() if installed is None else installed).select(group=group)


def _entry_point_candidates(
    registry: Registry, timeout: float, installed: EntryPoints | None = None
) -> list[_Candidate]:
    candidates = []
    packages: dict[str, str] = {}
    for entry_point in sorted(entry_points(group=hookspecs.PROJECT_NAME, installed=installed), key=lambda e: e.name):
        package = _package_of(entry_point, packages)
        builtin = _is_builtin(entry_point, package)
        try:
            what = f"import of {entry_point.value!r}"
            plugin = _guarded(entry_point.load, what, entry_point.name, timeout, trusted=builtin)
        except RhbenchError as exc:
            registry.broken.append(BrokenPlugin(entry_point.name, package, str(exc)))
            log.warning("plugin %s is broken: %s", entry_point.name, exc)
            continue
        candidates.append(_Candidate(entry_point.name, package, plugin, builtin, True))
    return candidates


def _misplaced_entry_points(registry: Registry, installed: EntryPoints | None = None) -> None:
    """Record as broken every entry point in a group named almost ``rhbench`` (``rhbnech``,
    ``rhbench.plugins``, ``RHBench``): rhbench does not load it, and would otherwise say nothing.
    ``installed``: every group's entry points, when already scanned."""
    wanted = hookspecs.PROJECT_NAME
    if installed is None:
        installed = metadata.entry_points()  # every group (the module's, not a patched name)
    near = [
        group
        for group in sorted(installed.groups)
        if group != wanted
        and (
            "".join(c for c in group.casefold() if c.isalnum()).startswith(wanted)
            or difflib.SequenceMatcher(None, group.casefold(), wanted).ratio() >= 0.8
        )
    ]
    for entry_point in (ep for group in near for ep in installed.select(group=group)):
        if _is_builtin(entry_point):  # a group of rhbench's own (none today) is meant
            continue
        group = entry_point.group
        reason = str(
            PluginError(
                f"entry point '{entry_point.name} = {entry_point.value}' is in group {group!r}, not {wanted!r}: "
                "rhbench does not load it",
                source=entry_point.name,
                hint=f"name the table [project.entry-points.{wanted}] in the package's pyproject.toml and reinstall it",
            )
        )
        registry.broken.append(BrokenPlugin(entry_point.name, _package_of(entry_point), reason))
        log.warning("plugin %s is broken: %s", entry_point.name, reason)


def unknown_names_hint(unknown: list[str], known: list[str], registry: Registry, *, cmip6_given: bool = False) -> str:
    """What to do about model names no plugin or CMIP6 folder provides: the close known names,
    the broken plugins (one of them may be the one meant), and how a model gets listed.
    ``cmip6_given``: the run has CMIP6 folders or catalogs (their models are in ``known``)."""
    parts = []
    for name in unknown:
        close = close_names(name, known)
        if close:
            parts.append(f"did you mean {' or '.join(repr(c) for c in close)} for {name!r}?")
    if registry.broken:
        broken = " | ".join(f"{b.name} ({b.package}): {b.reason}" for b in registry.broken)
        parts.append(f"{len(registry.broken)} plugin(s) failed to load: {broken}.")
    if any(CMIP6_NAME.match(name) for name in unknown) and not cmip6_given:
        parts.append("A CMIP6 model is found only through --cmip6 PATH or cmip6 = [...] in the --config TOML.")
    elif cmip6_given:
        parts.append(
            "CMIP6 models are named source_id.member (source_id.member.experiment when a member has several "
            "experiments; a member of a sub-experiment, as DCPP's, is sub_experiment-variant: "
            "CanESM5.s1960-r1i1p1f1), as `rhbench plugins --cmip6 PATH` lists them."
        )
    parts.append(
        "A model is listed once its plugin package is installed (pip install ./PLUGIN) with an entry point "
        f"in the [project.entry-points.{hookspecs.PROJECT_NAME}] table of its pyproject.toml; "
        "`rhbench plugins` lists every plugin found and why a broken one failed"
    )
    return " ".join(parts)


def build_registry(extra_plugins: dict[str, object] | None = None, *, use_entry_points: bool = True) -> Registry:
    """Discover plugins and collect their sources.

    Built-in plugins are registered first and always win a name clash: a third-party
    plugin declaring a source name a built-in has is broken, with the clash named, and
    so is every third-party plugin declaring a name another third-party plugin declares
    (never first-come in alphabetical order). Each third-party import and hook call is
    time-limited (:func:`plugin_timeout`), prints go to stderr, and a plugin that changes the working
    folder has it restored. An entry-point plugin whose catalog entry is unreadable
    (not UTF-8, too deeply nested, ``rh: 12345``) is broken too.

    Parameters
    ----------
    extra_plugins: name -> module/object registered in addition to the entry points
        (for tests and programmatic use; treated as third-party, catalogs not checked).
    use_entry_points: also load every entry point of the ``rhbench`` group.
    """
    registry = Registry()
    manager = _new_manager()
    timeout = plugin_timeout()
    installed = metadata.entry_points() if use_entry_points else None  # one scan serves both
    candidates = _entry_point_candidates(registry, timeout, installed) if use_entry_points else []
    if use_entry_points:
        _misplaced_entry_points(registry, installed)
    candidates += [_Candidate(name, "extra", plugin, False, False) for name, plugin in (extra_plugins or {}).items()]
    declared: list[tuple[_Candidate, list[Source]]] = []
    for candidate in sorted(candidates, key=lambda c: not c.builtin):  # stable: built-ins first
        sources = _collect(registry, manager, candidate, timeout)
        if sources is None:
            continue
        if candidate.builtin:
            _accept(registry, manager, candidate, sources, owners={})
        else:
            declared.append((candidate, sources))
    owners: dict[str, list[str]] = {}
    for candidate, sources in declared:
        for source in sources:
            owners.setdefault(source.name, []).append(candidate.name)
    for candidate, sources in declared:
        _accept(registry, manager, candidate, sources, owners)
    return registry


def _break(registry: Registry, manager: pluggy.PluginManager, candidate: _Candidate, reason: str) -> None:
    registry.broken.append(BrokenPlugin(candidate.name, candidate.package, reason))
    log.warning("plugin %s is broken: %s", candidate.name, reason)
    if manager.is_registered(candidate.plugin):
        manager.unregister(candidate.plugin)


def _collect(
    registry: Registry, manager: pluggy.PluginManager, candidate: _Candidate, timeout: float
) -> list[Source] | None:
    """Register one plugin and return its validated sources; None (and broken) on failure."""
    try:
        manager.register(candidate.plugin, name=candidate.name)
        sources = _sources_of(candidate.name, candidate.plugin, manager, timeout, trusted=candidate.builtin)
        if candidate.check_catalogs:
            from rhbench import catalog

            for source in sources:
                catalog.entry_for(source)
    except (RhbenchError, ValueError) as exc:
        _break(registry, manager, candidate, str(exc))
        return None
    return sources


def _accept(
    registry: Registry,
    manager: pluggy.PluginManager,
    candidate: _Candidate,
    sources: list[Source],
    owners: dict[str, list[str]],
) -> None:
    """Add a plugin's sources, or break it when a name is taken (built-in) or shared (third-party)."""
    clashes = []
    for source in sources:
        if source.name in registry.sources:
            owner = registry.sources[source.name].plugin
            clashes.append(f"{source.name!r} is already declared by built-in plugin {owner}")
        elif len(owners.get(source.name, [])) > 1:
            others = [o for o in owners[source.name] if o != candidate.name]
            clashes.append(f"{source.name!r} is also declared by plugin(s) {', '.join(others)}")
    if clashes:
        reason = str(PluginError("source names clash: " + "; ".join(clashes), source=candidate.name))
        _break(registry, manager, candidate, reason)
        return
    for source in sources:
        registry.sources[source.name] = source
        registry.packages[source.name] = candidate.package


def load_module_plugin(module: ModuleType) -> Registry:
    """A registry holding only one module's sources (no entry points)."""
    return build_registry({module.__name__: module}, use_entry_points=False)
