"""Every problem row is built through core.issues, and every code it names has a severity and a Thai message."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from pipeline.core.issues import cell_problems, problem, registered
from pipeline.core.wording import problems

PACKAGE = Path(__file__).resolve().parent.parent.parent / "pipeline"
CONSTRUCTORS = {"problem", "registered", "_problems", "_file_issue", "header_problem"}


def codes_in_source() -> dict[str, list[str]]:
    """Problem codes written in the code: first arguments of the constructors, "code" entries of dicts, and
    ["code"] * n lists handed to cell_problems. code -> where."""
    found: dict[str, list[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        if "synthetic" in path.parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            texts = []
            if isinstance(node, ast.Call):
                name = getattr(node.func, "id", getattr(node.func, "attr", ""))
                arguments = node.args[2:3] if name == "_problems" else node.args[:1]
                if name in CONSTRUCTORS:
                    texts += [a.value for a in arguments if isinstance(a, ast.Constant) and isinstance(a.value, str)]
            elif isinstance(node, ast.Dict):
                texts += [value.value for key, value in zip(node.keys, node.values)
                          if isinstance(key, ast.Constant) and key.value == "code"
                          and isinstance(value, ast.Constant) and isinstance(value.value, str)]
            elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult) and isinstance(node.left, ast.List):
                texts += [e.value for e in node.left.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
            for text in texts:
                found.setdefault(text, []).append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    return found


def test_every_code_in_the_source_is_worded():
    found = codes_in_source()
    assert len(found) >= 40   # the scan sees the codes (a scan finding nothing would pass for nothing)
    unknown = {code: places for code, places in found.items() if code and code not in problems()
               and not code.startswith("label:")}
    assert unknown == {}


def test_an_unknown_code_is_refused_by_every_constructor():
    with pytest.raises(ValueError):
        registered("no_such_problem")
    with pytest.raises(ValueError):
        problem("no_such_problem", "a.xlsx", "5401")
    with pytest.raises(ValueError):
        cell_problems([2], "phone", ["no_such_problem"])
    assert problem("file_vanished", "a.xlsx", "5401")["code"] == "file_vanished"
