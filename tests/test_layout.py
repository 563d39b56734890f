"""The package's folders are its architecture: each imports only from the layers below it, and
no module imports itself back through another."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "tui" / "fetchviz"
# What each folder may import from, besides itself: core is the bottom, the UI and the command
# line the top; a recording is played by the UI, never the other way round.
MAY_IMPORT = {
    "core": set(),
    "runs": {"core"},
    "records": {"core", "runs"},
    "trace": {"core", "runs", "records"},
    "ui": {"core", "runs", "records", "trace"},
    "cli": {"core", "runs", "records", "trace", "ui"},
}


def modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def imports(path: Path, top_level_only: bool, known: set[str]) -> set[str]:
    """The fetchviz modules a file imports: at its top level (what an import circle is made
    of), or anywhere (what its layer may use)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    names: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.If):  # `if TYPE_CHECKING:` imports nothing when run
            continue
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("fetchviz"):
            # `from fetchviz.cli import keymap` is the module cli.keymap; a name, the module's
            submodules = {f"{node.module}.{alias.name}" for alias in node.names} & known
            names |= submodules or {node.module}
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names if a.name.startswith("fetchviz"))
    return names


def layer(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and parts[1] in MAY_IMPORT) else None


def test_each_folder_imports_only_from_the_layers_below_it():
    known = modules()
    wrong = []
    for module, path in known.items():
        mine = layer(module)
        if mine is None:
            continue
        for imported in imports(path, False, set(known)) & known.keys():
            theirs = layer(imported)
            if theirs not in (None, mine) and theirs not in MAY_IMPORT[mine]:
                wrong.append(f"{module} imports {imported}")
    assert wrong == []


def test_no_module_imports_itself_back():
    known = modules()
    graph = {m: imports(p, True, set(known)) & known.keys() - {m} for m, p in known.items()}
    circles = []

    def visit(module: str, path: list[str]) -> None:
        for imported in graph[module]:
            if imported in path:
                circles.append(" → ".join([*path[path.index(imported) :], imported]))
            elif len(path) < 12:
                visit(imported, [*path, imported])

    for module in graph:
        visit(module, [module])
    assert circles == []
