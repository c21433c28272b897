"""The package's shape: stage packages in layers, imports only pointing down, no cycle between modules.

Every import counts, at the top of a module or inside a function: an import deferred into a function is
still a dependency.
"""
from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "pipeline"
# Bottom up: each layer may import only the layers below it (and modules of its own package).
LAYERS = ["thai", "core", "runtime", "sources", "ingest", "linkage", "week", "store", "outputs"]
COMMANDS = "commands"   # __main__, run, approve, national, templates and the synthetic generator: on top


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """The pipeline modules a file imports (from-imports of a package count as its modules when they are)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("pipeline"):
            for alias in node.names:
                candidate = f"{node.module}.{alias.name}"
                found.add(candidate if candidate in MODULES else node.module)
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.startswith("pipeline")}
    return {name for name in found if name in MODULES}


def layer(module: str) -> int:
    parts = module.split(".")
    return LAYERS.index(parts[1]) if len(parts) > 2 and parts[1] in LAYERS else len(LAYERS)


FILES = {module_name(path): path for path in PACKAGE.rglob("*.py")}
MODULES = set(FILES)
GRAPH = {module: imports_of(path) for module, path in FILES.items()}


def test_every_module_is_in_a_stage_package_or_a_command():
    top = {module for module, path in FILES.items() if path.parent == PACKAGE and path.name != "__init__.py"}
    assert top <= {"pipeline.__main__", "pipeline.run", "pipeline.approve", "pipeline.national",
                   "pipeline.templates", "pipeline.watch"}, top


def test_imports_point_down():
    upward = [(module, target) for module, targets in GRAPH.items() for target in targets
              if layer(target) > layer(module) and not target.startswith("pipeline.synthetic")]
    assert upward == []


def test_no_import_cycle():
    state: dict[str, int] = {}
    cycles = []

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for target in sorted(GRAPH.get(module, ())):
            if target == module or target.endswith(".__init__"):
                continue
            if state.get(target) == 1:
                cycles.append(path[path.index(target):] + [target])
            elif target not in state:
                visit(target, path + [target])
        state[module] = 2

    for module in sorted(GRAPH):
        if module not in state:
            visit(module, [module])
    assert cycles == []
