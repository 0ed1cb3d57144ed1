"""This app's staff UI and portal pages (included at the site root by lendcore.urls)."""

urlpatterns: list = []
