"""`/api/v1/auth/token/`: issue a token for a username and password; revoke the one in use."""

from django.contrib.auth import authenticate
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle

from lendcore.accounts.models import ApiToken
from lendcore.accounts.permissions import TokenAuthentication
from lendcore.accounts.services import api_token_issue, api_token_revoke
from lendcore.accounts.tokens import DEFAULT_DAYS, MAX_DAYS, SCOPE_LABELS, TokenScope
from lendcore.accounts.two_factor import ENROL, REQUIRED, two_factor_needed, user_code_valid
from lendcore.api.fields import StrictCharField, StrictIntegerField
from lendcore.api.views import ApiView, Idempotency
from lendcore.errors import ApplicationError, Conflict, ValidationFailed


class InvalidCredentials(ApplicationError):
    http_status = 400
    default_code = "invalid_credentials"


class TokenOutputSerializer(serializers.Serializer):
    token = StrictCharField(help_text="The key: shown this once, store it safely.")
    prefix = StrictCharField()
    scope = serializers.ChoiceField(choices=list(SCOPE_LABELS.items()))
    expires_at = serializers.DateTimeField()


class TokenObtainApi(ApiView):
    """Exchange a username and password for a new API token (`Authorization: Token <key>`),
    limited to a scope and valid for a number of days."""

    idempotency = Idempotency.NONE
    idempotency_exempt_reason = (
        "a stored answer would keep the token's secret in clear; a retry gets a second token"
    )

    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth"

    class InputSerializer(serializers.Serializer):
        username = StrictCharField(max_length=150)
        password = StrictCharField(
            max_length=4096, style={"input_type": "password"}, trim_whitespace=False
        )
        scope = serializers.ChoiceField(
            choices=list(SCOPE_LABELS.items()),
            default=TokenScope.ADMIN,
            help_text="What the token may reach; the user's role still applies.",
        )
        expires_in_days = StrictIntegerField(min_value=1, max_value=MAX_DAYS, default=DEFAULT_DAYS)
        name = StrictCharField(max_length=100, required=False, default="")
        otp = StrictCharField(
            max_length=8,
            required=False,
            default="",
            help_text="The code from the authenticator app, for staff who sign in with one.",
        )

    @extend_schema(request=InputSerializer, responses=TokenOutputSerializer, auth=[])
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        user = authenticate(
            request._request,  # the HttpRequest: the lockout marks it for its middleware
            username=values["username"],
            password=values["password"],
        )
        if user is None or not user.is_active:
            raise InvalidCredentials("Unable to log in with the given username and password.")
        # a token must not be a way around the staff member's second factor
        needed = two_factor_needed(user)
        if needed == ENROL:
            raise Conflict("Set up two-factor sign-in in the staff UI before issuing tokens.")
        if needed == REQUIRED and not user_code_valid(user, values["otp"]):
            raise ValidationFailed.for_fields(
                {"otp": ["Enter the current code from your authenticator app."]}
            )
        issued = api_token_issue(
            user=user,
            scope=values["scope"],
            name=values["name"],
            days=values["expires_in_days"],
            request=request._request,
        )
        body = {
            "token": issued.key,
            "prefix": issued.token.prefix,
            "scope": issued.token.scope,
            "expires_at": issued.token.expires_at,
        }
        return Response(TokenOutputSerializer(body).data)


class TokenRevokeApi(ApiView):
    """Revoke the token this request is made with (an integration's "sign out")."""

    authentication_classes = [TokenAuthentication]
    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={204: None})
    def post(self, request):
        if not isinstance(request.auth, ApiToken):
            raise Conflict("Only a request made with a token can revoke it.")
        api_token_revoke(token=request.auth, acting_user=request.user, request=request._request)
        return Response(status=204)
