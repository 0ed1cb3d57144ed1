"""Portal sign-up, the authentication pages (Django's own views, our templates) and the
user's API tokens."""

from typing import cast

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.mixins import LoginRequiredMixin
from django.contrib.auth.models import User
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.views import View
from django.views.generic import FormView

from lendcore.errors import ValidationFailed

from .forms import ApiTokenForm, SignUpForm, TwoFactorCodeForm
from .models import ApiToken
from .permissions import StaffRequiredMixin
from .selectors import api_tokens_of, user_is_staff_member
from .services import (
    api_token_issue,
    api_token_revoke,
    api_tokens_revoke_all,
    borrower_sign_up_confirm,
    borrower_sign_up_request,
)
from .two_factor import (
    code_verify,
    enrolment_confirm,
    enrolment_device,
    enrolment_qr_svg,
    enrolment_secret,
)


class SignUpView(FormView):
    template_name = "registration/signup.html"
    form_class = SignUpForm

    def form_valid(self, form):
        data = form.cleaned_data
        request = self.request
        try:
            borrower_sign_up_request(
                email=data["email"],
                password=data["password"],
                first_name=data["first_name"],
                last_name=data["last_name"],
                phone=data["phone"],
                confirm_url=lambda token: request.build_absolute_uri(
                    reverse("accounts:signup-confirm", args=[token])
                ),
                sign_in_url=request.build_absolute_uri(reverse("accounts:login")),
            )
        except ValidationFailed as exc:
            for field, messages in exc.extra.get("fields", {}).items():
                for message in messages:
                    form.add_error(field if field in form.fields else None, message)
            return self.form_invalid(form)
        # the same page whether or not the e-mail had an account
        return render(request, "registration/signup_sent.html", {"email": data["email"]})


class SignUpConfirmView(View):
    """The link in the sign-up e-mail: opens the account and signs the borrower in."""

    def get(self, request, token: str):
        try:
            user = borrower_sign_up_confirm(token=token)
        except ValidationFailed as exc:
            return render(request, "registration/signup_link.html", {"message": exc.message})
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        return redirect("web:portal-home")


class ApiTokensView(LoginRequiredMixin, FormView):
    """The user's API tokens: issue one (its key shown once), revoke one, or revoke all."""

    template_name = "registration/api_tokens.html"
    form_class = ApiTokenForm

    def get_context_data(self, **kwargs):
        user = cast(User, self.request.user)  # LoginRequiredMixin
        return super().get_context_data(
            tokens=api_tokens_of(user),
            now=timezone.now(),
            base_template="staff/base.html" if user_is_staff_member(user) else "portal/base.html",
            **kwargs,
        )

    def form_valid(self, form):
        data = form.cleaned_data
        try:
            issued = api_token_issue(
                user=cast(User, self.request.user),
                scope=data["scope"],
                name=data["name"],
                days=data["expires_in_days"],
                request=self.request,
            )
        except ValidationFailed as exc:
            for field, messages in exc.extra.get("fields", {}).items():
                for message in messages:
                    form.add_error(field if field in form.fields else None, message)
            return self.form_invalid(form)
        # the key is rendered in this response only, never stored nor put in a redirect
        context = self.get_context_data(form=self.form_class(), issued=issued)
        return self.render_to_response(context)


class ApiTokenRevokeView(LoginRequiredMixin, View):
    def post(self, request, token_id: int):
        token = get_object_or_404(ApiToken, pk=token_id, user=request.user)
        api_token_revoke(token=token, acting_user=request.user, request=request)
        messages.success(request, f"Token {token.prefix}… revoked.")
        return redirect("accounts:api-tokens")


class ApiTokensRevokeAllView(LoginRequiredMixin, View):
    def post(self, request):
        count = api_tokens_revoke_all(user=request.user, request=request)
        messages.success(request, f"{count} token{'s' if count != 1 else ''} revoked.")
        return redirect("accounts:api-tokens")


class TwoFactorSetupView(StaffRequiredMixin, FormView):
    """Enrol an authenticator app: scan the code, type what it shows."""

    template_name = "registration/two_factor_setup.html"
    form_class = TwoFactorCodeForm

    def get_context_data(self, **kwargs):
        device = enrolment_device(self.request.user)
        return super().get_context_data(
            qr_svg=mark_safe(enrolment_qr_svg(device)),  # noqa: S308  # segno's own markup
            secret=enrolment_secret(device),
            **kwargs,
        )

    def form_valid(self, form):
        device = enrolment_device(self.request.user)
        if not enrolment_confirm(self.request, device, form.cleaned_data["code"]):
            form.add_error("code", "That code does not match: check the app and try again.")
            return self.form_invalid(form)
        messages.success(self.request, "Two-factor sign-in is on for your account.")
        return redirect(_next_url(self.request))


class TwoFactorVerifyView(LoginRequiredMixin, FormView):
    """The second step of a staff sign-in."""

    template_name = "registration/two_factor_verify.html"
    form_class = TwoFactorCodeForm

    def form_valid(self, form):
        if not code_verify(self.request, form.cleaned_data["code"]):
            form.add_error("code", "That code does not match: check the app and try again.")
            return self.form_invalid(form)
        return redirect(_next_url(self.request))


def _next_url(request) -> str:
    target = request.GET.get("next", "")
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return reverse("web:after-login")
