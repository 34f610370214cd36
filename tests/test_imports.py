"""No hidden import cycles in leadthe/, counting the imports inside functions too, and few of those."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "leadthe"
# Imports inside functions that remain; each needs a comment on its line saying why it is lazy.
MAX_LAZY_IMPORTS = 4


def _modules() -> dict[str, Path]:
    modules = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def _targets(module: str, path: Path, node: ast.Import | ast.ImportFrom, modules: dict[str, Path]) -> set[str]:
    """The leadthe modules an import statement names: ``from leadthe.x import y`` is ``leadthe.x.y`` when y
    is a module, else ``leadthe.x``."""
    if isinstance(node, ast.Import):
        return {alias.name for alias in node.names}
    base = node.module or ""
    if node.level:
        package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
        package = package[:len(package) - (node.level - 1)]
        base = ".".join(package + ([base] if base else []))
    return {f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names}


def import_graph() -> dict[str, set[str]]:
    """Module -> the leadthe modules it imports, wherever the import statement is (module level or inside a
    function). Importing ``a.b.c`` also runs the packages ``a.b`` on the way, so they count too, except the
    packages that contain the importing module itself (they are already being imported)."""
    modules = _modules()
    graph = {}
    for module, path in modules.items():
        edges = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, (ast.Import, ast.ImportFrom)):
                continue
            for target in _targets(module, path, node, modules):
                parts = target.split(".")
                for end in range(2, len(parts) + 1):
                    package = ".".join(parts[:end])
                    if end == len(parts) or not module.startswith(package + "."):
                        edges.add(package)
        graph[module] = {target for target in edges if target in modules and target != module}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                return path[path.index(target):] + [target]
            if target not in state and (cycle := visit(target)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def lazy_imports() -> list[tuple[str, int, str]]:
    found = []
    for module, path in _modules().items():
        source = path.read_text(encoding="utf-8")
        lines = source.splitlines()
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                found += [(module, sub.lineno, lines[sub.lineno - 1]) for sub in ast.walk(node)
                          if isinstance(sub, (ast.Import, ast.ImportFrom))]
    return sorted(set(found))


def test_the_graph_sees_cycles_the_import_system_would_trip_over():
    modules = {"leadthe.a": Path("a.py"), "leadthe.b": Path("b.py")}
    assert find_cycle({"leadthe.a": {"leadthe.b"}, "leadthe.b": {"leadthe.a"}}) == ["leadthe.a", "leadthe.b", "leadthe.a"]
    assert find_cycle({"leadthe.a": {"leadthe.b"}, "leadthe.b": set()}) is None
    node = ast.parse("from leadthe import a, config").body[0]
    assert _targets("leadthe.b", Path("b.py"), node, modules) == {"leadthe.a", "leadthe"}


def test_no_import_cycles_in_leadthe():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_the_area_packages_only_define_their_blueprint():
    """Views add their routes to the area's blueprint and create_app imports them, so a package never
    imports its own views (the cycle that Flask's "import views at the bottom" pattern makes)."""
    graph = import_graph()
    for package, targets in graph.items():
        inside = {t for t in targets if t.startswith(package + ".")}
        if package != "leadthe" and package != "leadthe.models":
            assert not inside, f"{package}/__init__.py imports {sorted(inside)}"


def test_imports_inside_functions_are_few_and_say_why():
    lazy = lazy_imports()
    assert len(lazy) <= MAX_LAZY_IMPORTS, lazy
    for module, line, text in lazy:
        assert "#" in text and text.split("#", 1)[1].strip(), f"{module}:{line} imports inside a function without saying why"


@pytest.mark.parametrize("kind", ["audit.seal", "audit.verify", "billing.daily", "billing.events", "billing.renewals", "certificates.daily", "literacy.daily",
                                  "progress.daily", "retention.daily"])
def test_recurring_jobs_are_declared_where_they_are_registered(kind):
    import leadthe  # noqa: F401  (create_app's module imports every area, which registers their jobs)
    from leadthe.worker import JOB_HANDLERS, RECURRING

    assert kind in JOB_HANDLERS and kind in RECURRING
