"""Walk every URL pattern and probe it (dump helper while building the matrix)."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, get_resolver


def url_patterns(patterns=None, prefix: str = "", namespace: str = ""):
    """(route, name, pattern) for every URL pattern, names with their namespaces."""
    for p in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(p, URLResolver):
            ns = namespace
            if p.namespace:
                ns = f"{namespace}:{p.namespace}" if namespace else p.namespace
            yield from url_patterns(p.url_patterns, prefix + str(p.pattern), ns)
        elif isinstance(p, URLPattern):
            name = f"{namespace}:{p.name}" if namespace and p.name else (p.name or "")
            yield prefix + str(p.pattern), name, p
