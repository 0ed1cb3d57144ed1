"""Portal sign-up and the authentication pages (Django's own views, our templates)."""

from django.contrib.auth import login
from django.shortcuts import redirect
from django.views.generic import FormView

from lendcore.errors import ValidationFailed

from .forms import SignUpForm
from .services import borrower_sign_up


class SignUpView(FormView):
    template_name = "registration/signup.html"
    form_class = SignUpForm

    def form_valid(self, form):
        data = form.cleaned_data
        try:
            borrower = borrower_sign_up(
                email=data["email"],
                password=data["password"],
                first_name=data["first_name"],
                last_name=data["last_name"],
                phone=data["phone"],
            )
        except ValidationFailed as exc:
            for field, messages in exc.extra.get("fields", {}).items():
                for message in messages:
                    form.add_error(field if field in form.fields else None, message)
            return self.form_invalid(form)
        login(self.request, borrower.user, backend="django.contrib.auth.backends.ModelBackend")
        return redirect("web:portal-home")
