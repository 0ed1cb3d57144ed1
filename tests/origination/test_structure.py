"""The shape issue 14 gives origination, kept by tests: small modules, every lock in
lock_objects.py, no function-local import hiding a cycle, no service importing the tasks."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import origination

ROOT = Path(origination.__file__).parent
MODULES = sorted(p for p in ROOT.rglob("*.py") if "migrations" not in p.parts)
# Imported late on purpose, not to break a cycle: the app registers its Celery tasks and its
# loan page panel once Django is ready.
LATE_IMPORTS_ALLOWED = {
    ("apps.py", ""),
    ("apps.py", "panels"),
    ("apps.py", "lendcore.core"),
}


def _name(path: Path) -> str:
    return str(path.relative_to(ROOT))


@pytest.mark.parametrize("path", MODULES, ids=_name)
def test_no_module_over_600_lines(path):
    assert len(path.read_text().splitlines()) <= 600


@pytest.mark.parametrize("path", MODULES, ids=_name)
def test_select_for_update_only_in_lock_objects(path):
    if path.name != "lock_objects.py":
        assert "select_for_update(" not in path.read_text()


@pytest.mark.parametrize("path", MODULES, ids=_name)
def test_no_function_local_import(path):
    tree = ast.parse(path.read_text())
    late = []
    for func in ast.walk(tree):
        if isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
            for node in ast.walk(func):
                if isinstance(node, ast.Import | ast.ImportFrom):
                    module = getattr(node, "module", None) or ""
                    if (path.name, module) not in LATE_IMPORTS_ALLOWED:
                        late.append((node.lineno, module))
    assert late == []


def test_services_never_import_the_tasks():
    for path in sorted((ROOT / "services").glob("*.py")):
        imports = {
            alias.name
            for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, ast.ImportFrom)
            for alias in node.names
        }
        assert "tasks" not in imports, path.name
