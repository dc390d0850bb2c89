from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api.auth import request_user_id
from config.api.schema import problem_responses
from config.api.throttling import throttle
from users import selectors, services
from users.api.serializers import TokenObtainInput, TokenOutput, UserOutput, UserRegisterInput


class UserRegisterView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [throttle("register", per="address")]

    @extend_schema(
        request=UserRegisterInput,
        responses={
            201: UserOutput,
            **problem_responses(
                (400, "`invalid`: a weak password, a bad email or a missing field"),
                (409, "`email_taken`"),
                415,
                429,
                503,
            ),
        },
        operation_id="users_register",
    )
    def post(self, request: Request) -> Response:
        data = UserRegisterInput(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.user_register(**data.validated_data)
        return Response(UserOutput(user).data, status=status.HTTP_201_CREATED)


class TokenObtainView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [throttle("login", per="address")]

    @extend_schema(
        request=TokenObtainInput,
        responses={
            200: TokenOutput,
            **problem_responses(
                400,
                (401, "`authentication_failed`: wrong email or password"),
                415,
                (
                    429,
                    "`throttled`: too many logins from this address, or too many failures for this "
                    "email (the account is locked for LOGIN_LOCKOUT_SECONDS); `Retry-After` says when",
                ),
                503,
            ),
        },
        operation_id="auth_token",
    )
    def post(self, request: Request) -> Response:
        data = TokenObtainInput(data=request.data)
        data.is_valid(raise_exception=True)
        token = services.user_issue_access_token(**data.validated_data)
        return Response(TokenOutput({"access_token": token, "token_type": "Bearer"}).data)


class UserMeView(APIView):
    @extend_schema(
        responses={200: UserOutput, **problem_responses(401, (404, "`not_found`: the account is gone"), 503)},
        operation_id="users_me",
    )
    def get(self, request: Request) -> Response:
        user = selectors.user_get(user_id=request_user_id(request))
        return Response(UserOutput(user).data)
