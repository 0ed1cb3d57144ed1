"""This app's routes under /api/v1/ (included by lendcore.api.urls)."""

urlpatterns: list = []
