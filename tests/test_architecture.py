"""The package's shape: folders in data-flow order, no import cycles, modules of a readable size.

Every import counts, function-level ones included: a late import that hides a cycle is
still a cycle. A folder may import only from folders before it in ``ORDER``.
"""

import ast
import re
from pathlib import Path

import xlsheets

PACKAGE = Path(xlsheets.__file__).parent

# The data flow: what the workbook is, the pure core, then the shells that read and write it.
ORDER = ("errors", "workbook", "core", "definitions", "ooxml", "disk", "writer", "files",
         "online", "town", "excel", "addin", "demo", "cli")
MAX_LINES = 800


def _modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        name = ".".join(("xlsheets", *parts[:-1])) if parts[-1] == "__init__" else \
            ".".join(("xlsheets", *parts))
        yield name, path


def _imports(name, path):
    """Every xlsheets module ``path`` imports, wherever the import statement sits."""
    is_pkg = path.name == "__init__.py"
    package = name if is_pkg else name.rsplit(".", 1)[0]
    known = dict(_modules())
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("xlsheets")}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                src = ".".join(base + ([node.module] if node.module else []))
            else:
                src = node.module or ""
            if not src.startswith("xlsheets"):
                continue
            for a in node.names:
                full = f"{src}.{a.name}"
                found.add(full if full in known else src)
    return {m for m in found if m != name and m != "xlsheets"}


def _folder(module):
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def test_folders_follow_the_data_flow():
    wrong = []
    for name, path in _modules():
        here = _folder(name)
        if here not in ORDER:
            assert name in ("xlsheets", "xlsheets.__main__"), f"{name} sits outside the folders"
            continue
        for dep in _imports(name, path):
            there = _folder(dep)
            if there != here and ORDER.index(there) > ORDER.index(here):
                wrong.append(f"{name} -> {dep}")
    assert wrong == []


def test_no_import_cycle():
    graph = {name: _imports(name, path) for name, path in _modules()}
    # A package's __init__ importing its own modules is not a cycle of ideas; skip that edge.
    for name in graph:
        graph[name] = {d for d in graph[name] if not d.startswith(name + ".")}
    cycles, state = [], {}

    def visit(node, stack):
        state[node] = "open"
        for dep in sorted(graph.get(node, ())):
            if state.get(dep) == "open":
                cycles.append(" -> ".join(stack[stack.index(dep):] + [dep]))
            elif dep not in state:
                visit(dep, stack + [dep])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert cycles == []


def test_modules_stay_readable():
    long = []
    for name, path in _modules():
        text = path.read_text(encoding="utf-8")
        lines = text.count("\n")
        doc = ast.get_docstring(ast.parse(text)) or ""
        if lines > MAX_LINES and not re.search(r"\blong because\b", doc):
            long.append(f"{name}: {lines} lines")
    assert long == []


def test_every_folder_says_what_it_holds():
    for folder in ORDER:
        init = PACKAGE / folder / "__init__.py"
        if init.exists():
            doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8"))) or ""
            assert len(doc) > 40 and "TODO" not in doc, folder
