"""Panels one app adds to another app's page, so that neither imports the other.

A page (`"loan"`, the staff loan page) draws whatever panels are registered under its name, in
the order of registration. An app registers its panels in its `AppConfig.ready()`:

    panels.register("loan", name="documents", title="Documents", render=loan_documents_panel)

`render(obj, request)` returns the panel's HTML (a rendered template fragment, already safe).
The page gets `Panel` rows: `name` (the section's id, for the page's "On this page" links),
`title` and `html`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from django.utils.safestring import SafeString, mark_safe

PanelRender = Callable[[Any, HttpRequest], str]


@dataclass(frozen=True)
class PanelSpec:
    name: str
    title: str
    render: PanelRender


@dataclass(frozen=True)
class Panel:
    name: str
    title: str
    html: SafeString


_REGISTRY: dict[str, list[PanelSpec]] = {}


def register(page: str, *, name: str, title: str, render: PanelRender) -> None:
    """Add a panel to `page`; registering the same name again replaces it (ready() may run
    twice in tests)."""
    specs = [spec for spec in _REGISTRY.get(page, []) if spec.name != name]
    specs.append(PanelSpec(name=name, title=title, render=render))
    _REGISTRY[page] = specs


def unregister(page: str, *, name: str) -> None:
    _REGISTRY[page] = [spec for spec in _REGISTRY.get(page, []) if spec.name != name]


def registered(page: str) -> list[PanelSpec]:
    return list(_REGISTRY.get(page, []))


def panels_for(page: str, obj: Any, request: HttpRequest) -> list[Panel]:
    """The panels of `page` drawn for `obj` (the loan, say), in registration order."""
    return [
        Panel(
            name=spec.name,
            title=spec.title,
            html=mark_safe(spec.render(obj, request)),  # noqa: S308 - a rendered template
        )
        for spec in _REGISTRY.get(page, [])
    ]
