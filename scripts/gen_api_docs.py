"""Write the API reference pages of the documentation site (docs/api/*.md, git-ignored):
one page per stage subpackage, one section per public module, each rendered from the
docstrings by mkdocstrings. Run by `make docs` before `mkdocs build --strict`.

Usage: python scripts/gen_api_docs.py [OUT_DIR]   (default: docs/api)
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "apgeo"

#: The stages in pipeline order, then the study and the top-level modules.
ORDER = ["inputs", "network", "routing", "analysis", "planning", "privacy", "outputs", "study"]


def _first_line(path: Path) -> str:
    doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
    return doc.strip().splitlines()[0] if doc.strip() else ""


def public_modules(package: Path = PACKAGE) -> dict[str, list[str]]:
    """Public modules (no underscore in their dotted name) by page: a stage subpackage, or
    ``"apgeo"`` for the top level."""
    pages: dict[str, list[str]] = {}
    for path in sorted(package.rglob("*.py")):
        parts = path.relative_to(package.parent).with_suffix("").parts
        if any(p.startswith("_") and p != "__init__" for p in parts):
            continue
        if parts[-1] == "__init__":
            parts = parts[:-1]
        page = parts[1] if len(parts) > 2 or (len(parts) == 2 and (package / parts[1]).is_dir()) else "apgeo"
        pages.setdefault(page, []).append(".".join(parts))
    return pages


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.md"):
        old.unlink()
    pages = public_modules()
    names = ["apgeo", *[p for p in ORDER if p in pages], *sorted(set(pages) - {"apgeo", *ORDER})]
    for page in names:
        lines = [f"# `{'apgeo' if page == 'apgeo' else 'apgeo.' + page}`", ""]
        for module in pages[page]:
            lines += [f"::: {module}", ""]
        (out / f"{page}.md").write_text("\n".join(lines), encoding="utf-8")
    print(f"gen_api_docs: {sum(map(len, pages.values()))} modules on {len(names)} pages in {out}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "api")
