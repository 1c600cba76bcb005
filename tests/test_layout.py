"""The package layout: subpackages by pipeline stage, no import cycles, no oversized module."""

from __future__ import annotations

import ast
import importlib
import warnings
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "apgeo"
#: The largest a module may grow before it is split along its seams.
MAX_MODULE_LINES = 850


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(node: ast.If) -> bool:
    return "TYPE_CHECKING" in ast.unparse(node.test)


def _imports(tree: ast.Module, module: str, is_package: bool) -> set[str]:
    """apgeo modules imported anywhere in a module (also inside functions), except under
    ``if TYPE_CHECKING:`` (annotations only, never run)."""
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "apgeo")
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".") if is_package else module.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                name = ".".join([*base, node.module] if node.module else base)
            else:
                name = node.module or ""
            if name.split(".")[0] == "apgeo":
                found.add(name)
                # ``from apgeo.x import y`` may import the submodule ``apgeo.x.y``
                found.update(f"{name}.{a.name}" for a in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def import_graph(root: Path = PACKAGE) -> dict[str, set[str]]:
    """Module -> the apgeo modules it imports (only names that are modules of ``root``)."""
    files = {_module_name(p, root): p for p in root.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        targets = _imports(tree, name, path.name == "__init__.py")
        graph[name] = {t for t in targets if t in files and t != name}
    return graph


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    counter = [0]

    def strongconnect(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                strongconnect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            strongconnect(v)
    return sorted(cycles)


def test_no_import_cycles_between_apgeo_modules() -> None:
    cycles = find_cycles(import_graph())
    assert cycles == [], "import cycles between apgeo modules: " + "; ".join(
        " <-> ".join(c) for c in cycles
    )


def test_the_cycle_check_finds_a_cycle(tmp_path: Path) -> None:
    pkg = tmp_path / "apgeo"
    (pkg / "stage").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "stage" / "__init__.py").write_text("")
    (pkg / "stage" / "a.py").write_text("from apgeo.stage.b import g\n")
    (pkg / "stage" / "b.py").write_text("def g():\n    from apgeo.stage import a\n")
    (pkg / "c.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import apgeo.d\n")
    (pkg / "d.py").write_text("import apgeo.c\n")
    assert find_cycles(import_graph(pkg)) == [["apgeo.stage.a", "apgeo.stage.b"]]


def test_no_module_over_the_size_limit() -> None:
    sizes = {
        _module_name(p, PACKAGE): len(p.read_text(encoding="utf-8").splitlines())
        for p in PACKAGE.rglob("*.py")
    }
    big = {m: n for m, n in sizes.items() if n > MAX_MODULE_LINES}
    assert big == {}, f"split these along their seams: {big}"


def test_every_subpackage_says_what_comes_in_and_goes_out() -> None:
    for init in sorted(PACKAGE.rglob("__init__.py")):
        module = importlib.import_module(_module_name(init, PACKAGE))
        doc = module.__doc__ or ""
        assert len(doc.splitlines()) >= 3, f"{module.__name__} needs a docstring"


@pytest.mark.parametrize(
    ("old", "name"),
    [("apgeo.recommend", "recommend_sites"), ("apgeo.coverage", "coverage_summary"),
     ("apgeo.placements", "publish_placement_tables"), ("apgeo.transit", "TransitFeed")],
)
def test_old_module_paths_still_work_with_a_deprecation_warning(old: str, name: str) -> None:
    import sys

    sys.modules.pop(old, None)
    with pytest.warns(DeprecationWarning, match="moved to apgeo"):
        module = importlib.import_module(old)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert callable(getattr(module, name))


def test_public_api_names_resolve() -> None:
    import apgeo

    for name in apgeo._LAZY:
        assert getattr(apgeo, name) is not None, name
