"""The house rules of the code base (issue 17, STYLE.md), kept by a test rather than by a scan once.

Modules <= 400 lines, functions <= 60 lines, type hints on every parameter and the return of public
functions, and no import cycle between the package's modules at import time (imports inside functions
are the lazy ones the CLI relies on and are left out).
A teammate's one-line addition took benchmark/uptake.py to 401 lines unnoticed (session 11).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: Import name -> folder (pyproject.toml's package-dir).
PACKAGES = {"rhbench": ROOT / "benchmark", "rhbench.plugins": ROOT / "plugins", "rhbench.catalogs": ROOT / "catalogs"}
MODULE_LINES_MAX = 400
FUNCTION_LINES_MAX = 60


def _modules() -> dict[str, Path]:
    """Module import name -> file, for every .py file of the package (plugins and catalogs included)."""
    out = {}
    for name, folder in sorted(PACKAGES.items(), key=lambda item: -len(item[0])):
        for path in sorted(folder.rglob("*.py")):
            parts = list(path.relative_to(folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out.setdefault(".".join([name, *parts]), path)
    return out


MODULES = _modules()


def test_the_scan_sees_the_package():
    assert {"rhbench.pipeline", "rhbench.uptake", "rhbench.metrics.definitions"} <= set(MODULES)
    assert any(name.startswith("rhbench.plugins.dgvms.") for name in MODULES)


def test_every_module_is_at_most_400_lines():
    long = {name: n for name, path in MODULES.items() if (n := len(path.read_text().splitlines())) > MODULE_LINES_MAX}
    assert long == {}, f"split these modules along their seams: {long}"


def test_every_function_is_at_most_60_lines():
    long = {}
    for name, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                size = node.end_lineno - node.lineno + 1
                if size > FUNCTION_LINES_MAX:
                    long[f"{name}.{node.name}"] = size
    assert long == {}, f"split these functions: {long}"


def _top_level_imports(name: str, path: Path) -> set[str]:
    """The package's modules ``name`` imports when it is imported (not inside functions)."""
    tree = ast.parse(path.read_text())
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in tree.body:
        if isinstance(node, ast.If | ast.Try):  # `if TYPE_CHECKING:` is not run; try/except imports are
            nodes = [n for n in ast.walk(node) if isinstance(n, ast.Import | ast.ImportFrom)]
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                nodes = []
        else:
            nodes = [node] if isinstance(node, ast.Import | ast.ImportFrom) else []
        for imp in nodes:
            if isinstance(imp, ast.Import):
                targets = [alias.name for alias in imp.names]
            else:
                base = imp.module or ""
                if imp.level:
                    base = ".".join(
                        package.split(".")[: len(package.split(".")) - imp.level + 1] + ([base] if base else [])
                    )
                # `from pkg import module` depends on that module; `from pkg import name` on pkg itself
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in imp.names]
            found |= {t for t in targets if t in MODULES and t != name}
    return found


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> list[str] | None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return [*trail[trail.index(nxt) :], nxt] if nxt in trail else [node, nxt]
            if nxt not in state and (found := visit(nxt, [*trail, nxt])):
                return found
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start, [start])):
            return found
    return None


def test_no_import_cycle_between_the_packages_modules():
    graph = {name: _top_level_imports(name, path) for name, path in MODULES.items()}
    # a parent package importing its own submodule is how __init__ re-exports; a cycle through it is still a cycle
    assert _cycle(graph) is None, f"import cycle: {' -> '.join(_cycle(graph))}"


def test_the_cycle_finder_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


@pytest.mark.parametrize(
    ("source", "limit"),
    [("x = 1\n" * 401, MODULE_LINES_MAX), ("def f():\n" + "    x = 1\n" * 60, FUNCTION_LINES_MAX)],
)
def test_the_limits_catch_one_line_over(source, limit):
    tree = ast.parse(source)
    funcs = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)]
    size = funcs[0].end_lineno - funcs[0].lineno + 1 if funcs else len(source.splitlines())
    assert size == limit + 1


def _unannotated(body: list[ast.stmt], prefix: str = "", in_class: bool = False) -> dict[str, list[str]]:
    """Public functions (module level, or methods of public classes; dunders count, nested helpers do
    not) -> their parameters without an annotation, and ``return`` when the return has none."""
    out = {}
    for node in body:
        if isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
            out |= _unannotated(node.body, f"{prefix}{node.name}.", in_class=True)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            if node.name.startswith("_") and not (node.name.startswith("__") and node.name.endswith("__")):
                continue
            a = node.args
            params = [*a.posonlyargs, *a.args, *a.kwonlyargs, *(p for p in (a.vararg, a.kwarg) if p)]
            missing = [p.arg for p in params if p.annotation is None and not (in_class and p.arg in ("self", "cls"))]
            missing += ["return"] if node.returns is None else []
            if missing:
                out[f"{prefix}{node.name}"] = missing
    return out


def test_every_public_function_has_type_hints():
    """STYLE.md: type hints on public functions, every parameter and the return (session 11, S11-7/S11-8)."""
    bare = {}
    for name, path in MODULES.items():
        bare |= {f"{name}.{func}": miss for func, miss in _unannotated(ast.parse(path.read_text()).body).items()}
    assert bare == {}, f"annotate every parameter and the return of these public functions: {bare}"


def test_the_hint_check_finds_a_missing_hint():
    source = (
        "def f(a: int, b) -> int: ...\n"
        "def g(a: int): ...\n"
        "def _private(a): ...\n"
        "def __getattr__(name): ...\n"
        "class C:\n"
        "    def m(self, x: int) -> None: ...\n"
        "    def n(self, *args, **kw) -> None: ...\n"
        "    def __init__(self, y) -> None:\n"
        "        def nested(z): ...\n"
        "class _Hidden:\n"
        "    def m(self, x): ...\n"
        "def ok(self, x: int) -> None: ...\n"
    )
    assert _unannotated(ast.parse(source).body) == {
        "f": ["b"],
        "g": ["return"],
        "__getattr__": ["name", "return"],
        "C.n": ["args", "kw"],
        "C.__init__": ["y"],
        "ok": ["self"],
    }
