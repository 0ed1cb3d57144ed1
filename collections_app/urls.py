"""Collections' staff pages (included at the site root by lendcore.urls)."""

urlpatterns: list = []
