"""Demo data, found through Django's app registry so that `lendcore` imports no domain app.

An installed app that has demo data defines `<app>/demo.py` with `seed_demo() -> list[str]`
(the lines to print) and `DEMO_ORDER` (lower seeds first: loans need a business date before
origination can hand applications over, say).
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from importlib.util import find_spec

from django.apps import apps

DemoSeeder = Callable[[], list[str]]


def demo_seeders() -> list[DemoSeeder]:
    """Every installed app's `demo.seed_demo`, in `DEMO_ORDER`."""
    found: list[tuple[int, str, DemoSeeder]] = []
    for config in apps.get_app_configs():
        name = f"{config.name}.demo"
        if find_spec(name) is None:
            continue
        module = import_module(name)
        seed = getattr(module, "seed_demo", None)
        if callable(seed):
            found.append((getattr(module, "DEMO_ORDER", 100), config.name, seed))
    return [seed for _order, _name, seed in sorted(found, key=lambda item: item[:2])]
