"""Demo data for this app, loaded by `manage.py seed_demo` after the demo users. Idempotent."""


def seed_demo() -> list[str]:
    """Create this app's demo rows; return a line per thing created."""
    return []
