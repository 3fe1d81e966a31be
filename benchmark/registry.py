"""The plugin registry: built-in and third-party plugins, found through entry points.

Every plugin, built-in or not, is a module named by an entry point of the ``rhbench``
group. Loading a plugin, calling its hook and validating what it returns are each
guarded: a plugin that fails is recorded as broken, with the reason, and the others go on.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from importlib.metadata import EntryPoint, entry_points
from types import ModuleType

import pluggy

from rhbench import hookspecs
from rhbench.errors import PluginError, RhbenchError
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


def _package_of(entry_point: EntryPoint) -> str:
    dist = getattr(entry_point, "dist", None)
    return f"{dist.name} {dist.version}" if dist is not None else "unknown"


def _new_manager() -> pluggy.PluginManager:
    manager = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    manager.add_hookspecs(hookspecs)
    return manager


def _sources_of(plugin_name: str, plugin: object, manager: pluggy.PluginManager) -> list[Source]:
    """Call one plugin's hook and validate the descriptors it returns."""
    impls = [i for i in manager.hook.rhbench_sources.get_hookimpls() if i.plugin is plugin]
    if not impls:
        raise PluginError("plugin implements no rhbench_sources hook", source=plugin_name)
    try:
        declared = impls[0].function()
    except Exception as exc:  # a third-party hook may raise anything
        raise PluginError(f"rhbench_sources() raised {type(exc).__name__}: {exc}", source=plugin_name) from exc
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


def build_registry(extra_plugins: dict[str, object] | None = None, *, use_entry_points: bool = True) -> Registry:
    """Discover plugins and collect their sources.

    Parameters
    ----------
    extra_plugins: name -> module/object registered in addition to the entry points
        (for tests and programmatic use).
    use_entry_points: also load every entry point of the ``rhbench`` group.
    """
    registry = Registry()
    manager = _new_manager()
    candidates: list[tuple[str, str, object]] = []
    if use_entry_points:
        for entry_point in sorted(entry_points(group=hookspecs.PROJECT_NAME), key=lambda e: e.name):
            package = _package_of(entry_point)
            try:
                candidates.append((entry_point.name, package, entry_point.load()))
            except Exception as exc:  # import errors of any kind in third-party code
                reason = f"import of {entry_point.value!r} failed: {type(exc).__name__}: {exc}"
                registry.broken.append(BrokenPlugin(entry_point.name, package, reason))
                log.warning("plugin %s is broken: %s", entry_point.name, reason)
    for name, plugin in (extra_plugins or {}).items():
        candidates.append((name, "extra", plugin))
    for name, package, plugin in candidates:
        _register_one(registry, manager, name, package, plugin)
    return registry


def _register_one(registry: Registry, manager: pluggy.PluginManager, name: str, package: str, plugin: object) -> None:
    try:
        manager.register(plugin, name=name)
        sources = _sources_of(name, plugin, manager)
        clashes = [s.name for s in sources if s.name in registry.sources]
        if clashes:
            raise PluginError("source names already declared by another plugin", source=name, found=clashes)
    except (RhbenchError, ValueError) as exc:
        registry.broken.append(BrokenPlugin(name, package, str(exc)))
        log.warning("plugin %s is broken: %s", name, exc)
        if manager.is_registered(plugin):
            manager.unregister(plugin)
        return
    for source in sources:
        registry.sources[source.name] = source
        registry.packages[source.name] = package


def load_module_plugin(module: ModuleType) -> Registry:
    """A registry holding only one module's sources (no entry points)."""
    return build_registry({module.__name__: module}, use_entry_points=False)
