"""The shape issue 14 gives every domain app, kept by a test: no module over 600 lines, every
row lock in a `lock_objects.py`, no import inside a function (where cycles hide), except the
registrations Django wants in `AppConfig.ready()`."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOMAIN_APPS = ("origination", "servicing", "collections_app")
MODULES = sorted(
    path
    for app in DOMAIN_APPS
    for path in (ROOT / app).rglob("*.py")
    if "migrations" not in path.parts
)


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
def test_no_import_inside_a_function(path):
    tree = ast.parse(path.read_text())
    late = []
    for func in ast.walk(tree):
        if not isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        if path.name == "apps.py" and func.name == "ready":
            continue  # Django's place for registering signals, tasks and panels
        late += [
            node.lineno for node in ast.walk(func) if isinstance(node, ast.Import | ast.ImportFrom)
        ]
    assert late == []
