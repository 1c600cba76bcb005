"""The API reference is built from the docstrings: every public module opens with a real
docstring, and the number of public functions without a numpydoc ``Parameters`` (or
``Returns``) section may only go down.

"Public function": a function of a public module (no underscore in its dotted name) or a
method of a public class there, whose name has no leading underscore; properties and
``@overload`` stubs are left out. It needs ``Parameters`` when it takes an argument besides
``self`` / ``cls``, and ``Returns`` (or ``Yields``) when it is annotated to return
something other than ``None``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "apgeo"

#: Ceilings: every public function has both sections; they stay at 0.
MAX_MISSING_PARAMETERS = 0
MAX_MISSING_RETURNS = 0


def _public_modules() -> Iterator[tuple[str, ast.Module]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if any(p.startswith("_") and p != "__init__" for p in parts):
            continue
        yield ".".join(parts), ast.parse(path.read_text(encoding="utf-8"))


def _decorators(node: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
    names = set()
    for d in node.decorator_list:
        target = d.func if isinstance(d, ast.Call) else d
        names.add(target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", ""))
    return names


def public_functions() -> Iterator[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]]:
    """``(qualified name, node)`` of every public function and method."""
    for module, tree in _public_modules():
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and not node.name.startswith("_"):
                if "overload" not in _decorators(node):
                    yield f"{module}.{node.name}", node
            if isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
                for item in node.body:
                    if not isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                        continue
                    if item.name.startswith("_") or _decorators(item) & {"property", "overload", "setter"}:
                        continue
                    yield f"{module}.{node.name}.{item.name}", item


def _takes_arguments(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    a = node.args
    names = [x.arg for x in (*a.posonlyargs, *a.args, *a.kwonlyargs)]
    names = [n for n in names if n not in ("self", "cls")]
    return bool(names or a.vararg or a.kwarg)


def _returns_something(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    r = node.returns
    if r is None:
        return False
    return not (isinstance(r, ast.Constant) and r.value in (None, "None"))


def _has_section(doc: str, *names: str) -> bool:
    lines = [line.strip() for line in doc.splitlines()]
    return any(
        line in names and i + 1 < len(lines) and set(lines[i + 1]) == {"-"}
        for i, line in enumerate(lines)
    )


def missing_sections() -> tuple[list[str], list[str]]:
    """Qualified names lacking ``Parameters`` and lacking ``Returns``."""
    no_params, no_returns = [], []
    for name, node in public_functions():
        doc = ast.get_docstring(node) or ""
        if _takes_arguments(node) and not _has_section(doc, "Parameters"):
            no_params.append(name)
        if _returns_something(node) and not _has_section(doc, "Returns", "Yields"):
            no_returns.append(name)
    return no_params, no_returns


def test_every_public_module_opens_with_a_real_docstring():
    bad = []
    for module, tree in _public_modules():
        doc = (ast.get_docstring(tree) or "").strip()
        if len(doc) < 20 or "PLACEHOLDER" in doc.upper() or doc.upper().startswith("TODO"):
            bad.append(module)
    assert bad == [], f"modules without a real opening docstring: {bad}"


def test_public_api_documents_its_parameters():
    """The functions a notebook imports from ``apgeo`` itself have both sections."""
    import apgeo

    no_params, no_returns = missing_sections()
    top = {f"{module}.{name}" for name, module in apgeo._LAZY.items()}
    assert sorted(top & set(no_params)) == []
    assert sorted(top & set(no_returns)) == []


@pytest.mark.parametrize(
    ("which", "ceiling"), [("Parameters", MAX_MISSING_PARAMETERS), ("Returns", MAX_MISSING_RETURNS)]
)
def test_missing_sections_only_go_down(which, ceiling):
    no_params, no_returns = missing_sections()
    missing = no_params if which == "Parameters" else no_returns
    total = sum(1 for _ in public_functions())
    assert len(missing) <= ceiling, (
        f"{len(missing)} of {total} public functions lack a {which} section (ceiling "
        f"{ceiling}); add it to the new ones: {missing[:20]}"
    )
