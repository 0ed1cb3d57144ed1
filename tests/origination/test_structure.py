"""Origination's services never import its tasks: side effects go by task name through
`effects.py` (issue 14). Module size, locks and late imports of every domain app are held by
tests/core/test_house_structure.py."""

from __future__ import annotations

import ast
from pathlib import Path

import origination

ROOT = Path(origination.__file__).parent


def test_services_never_import_the_tasks():
    for path in sorted((ROOT / "services").glob("*.py")):
        imports = {
            alias.name
            for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, ast.ImportFrom)
            for alias in node.names
        }
        assert "tasks" not in imports, path.name
