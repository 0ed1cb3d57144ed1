"""Demo data, found through Django's app registry so that `lendcore` imports no domain app.

An installed app that has demo data defines `<app>/demo.py` with `seed_demo() -> list[str]`
(the lines to print) and `DEMO_ORDER` (lower seeds first: loans need a business date before
origination can hand applications over, say).

The demo book has a history: servicing walks the business date from the past to today,
running the real close of business each day. An app that acts on that history (collections
logs contacts and promises on the days they happen) defines
`on_demo_day(*, day: date, today: date) -> list[str]` in its `demo.py`; servicing calls each
one on every business date of the walk, after its own payments of the day and before the
day is closed.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from importlib.util import find_spec
from types import ModuleType

from django.apps import apps

DemoSeeder = Callable[[], list[str]]
DemoDayHook = Callable[..., list[str]]


def _demo_modules() -> list[tuple[int, str, ModuleType]]:
    found: list[tuple[int, str, ModuleType]] = []
    for config in apps.get_app_configs():
        name = f"{config.name}.demo"
        if find_spec(name) is None:
            continue
        module = import_module(name)
        found.append((getattr(module, "DEMO_ORDER", 100), config.name, module))
    return sorted(found, key=lambda item: item[:2])


def demo_seeders() -> list[DemoSeeder]:
    """Every installed app's `demo.seed_demo`, in `DEMO_ORDER`."""
    seeds = (getattr(module, "seed_demo", None) for _order, _name, module in _demo_modules())
    return [seed for seed in seeds if callable(seed)]


def demo_day_hooks() -> list[DemoDayHook]:
    """Every installed app's `demo.on_demo_day`, in `DEMO_ORDER`."""
    hooks = (getattr(module, "on_demo_day", None) for _order, _name, module in _demo_modules())
    return [hook for hook in hooks if callable(hook)]
