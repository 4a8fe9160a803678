"""Which way imports may point, read from the source (ast), function-level imports included.

`storage/` knows nothing of shuttle or the worker; the domain (`shuttle/`) never imports the
worker; the web layer is imported by no feature; shuttle's modules form no circle, not even one
hidden by an import inside a function. Imports under `if TYPE_CHECKING:` do not run and are not
counted.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("shuttle", "storage", "workers")

#: The processes' entry points: `shuttle worker` and `shuttle serve` (its embedded worker on SQLite)
#: start the worker, so they, and only they, may import `workers/`. The domain never does.
ENTRY_POINTS = frozenset({"shuttle.cli", "shuttle.web.app"})
#: Modules that build or run the web application; every other module may not import `shuttle.web`.
WEB_OUTSIDE_WEB = frozenset({"shuttle.cli"})


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for pkg in PACKAGES for p in sorted((ROOT / pkg).rglob("*.py"))
            if "migrations" not in p.parts}


def _runtime_nodes(tree: ast.AST) -> Iterator[ast.AST]:
    """Every node except what sits under `if TYPE_CHECKING:`."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            yield from (n for child in node.orelse for n in [child, *_runtime_nodes(child)])
            continue
        yield node
        yield from _runtime_nodes(node)


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """The project modules `name` imports anywhere in its body (`from a import b` is a.b when b is a module)."""
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in _runtime_nodes(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".") if is_package else name.split(".")[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names if f"{base}.{alias.name}" in known)
    return {m for m in found if m.split(".")[0] in PACKAGES}


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    return {name: imports_of(name, path, known) for name, path in modules.items()}


def _under(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def test_the_graph_is_read() -> None:
    graph = _graph()
    assert "shuttle.messages.review" in graph and "shuttle.messages.edits" in graph["shuttle.messages.review"]
    assert "storage.store" in graph["shuttle.services"]


def test_storage_imports_neither_shuttle_nor_workers() -> None:
    wrong = {(m, t) for m, targets in _graph().items() if _under(m, "storage")
             for t in targets if _under(t, "shuttle") or _under(t, "workers")}
    assert not wrong, sorted(wrong)


def test_the_domain_never_imports_the_worker() -> None:
    wrong = {(m, t) for m, targets in _graph().items() if _under(m, "shuttle") and m not in ENTRY_POINTS
             for t in targets if _under(t, "workers")}
    assert not wrong, sorted(wrong)


def test_no_feature_imports_the_web_layer() -> None:
    wrong = {(m, t) for m, targets in _graph().items()
             if not _under(m, "shuttle.web") and m not in WEB_OUTSIDE_WEB
             for t in targets if _under(t, "shuttle.web")}
    assert not wrong, sorted(wrong)


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in graph:
                continue
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _is_package(module: str) -> bool:
    return (ROOT / module.replace(".", "/") / "__init__.py").exists()


def test_no_import_cycles_among_shuttle_modules() -> None:
    """A package's `__init__` re-exporting its own submodules is not a circle; anything else is."""
    graph = {m: {t for t in targets if _under(t, "shuttle") and not (_is_package(t) and _under(m, t))}
             for m, targets in _graph().items() if _under(m, "shuttle")}
    found = cycles(graph)
    assert not found, "import cycles (break each, e.g. by moving what both need into a third module): " + \
        "; ".join(" <-> ".join(c) for c in found)


def test_the_cycle_finder_sees_a_function_level_import(tmp_path: Path) -> None:
    source = tmp_path / "mod.py"
    source.write_text("def f():\n    from shuttle.messages.release import reconcile_case\n", encoding="utf-8")
    assert imports_of("shuttle.cases.service", source, set()) == {"shuttle.messages.release"}
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
