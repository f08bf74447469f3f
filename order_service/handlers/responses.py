"""What the routes of handlers/api.py document that they answer, for the OpenAPI document:
the responses several routes share, and how a route says it needs the caller's ID token.
Plain dicts, read by the route decorators at import; the document itself is built by
handlers/openapi.py when it is first asked for."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from aws_lambda_powertools.event_handler import content_types

from order_service.models.api import ErrorResponse, GatewayError

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

SECURITY_SCHEME = "CognitoIdToken"
NEEDS_ID_TOKEN: list[dict[str, list[str]]] = [{SECURITY_SCHEME: []}]


def documented(description: str, model: Any, **extra: Any) -> OpenAPIResponse:
    response = {"description": description, "content": {content_types.APPLICATION_JSON: {"model": model}}, **extra}
    return cast("OpenAPIResponse", response)


UNAUTHORIZED = documented(
    "No token, or not a valid ID token of the user pool: API Gateway's authorizer answers "
    '`{"message": "Unauthorized"}`; a token without identity claims is an `ErrorResponse` (UNAUTHORIZED)',
    ErrorResponse | GatewayError,
)
BUSY = documented(
    "STORE_BUSY: the order store is busy (a write conflict or throttling); nothing was changed. "
    "Retry after `Retry-After` seconds, with the same Idempotency-Key",
    ErrorResponse,
    headers={"Retry-After": {"description": "Seconds to wait before retrying", "schema": {"type": "string"}}},
)
UNVERIFIED = documented(
    "EMAIL_NOT_VERIFIED: the ID token's `email_verified` claim is not true (confirm the address first)",
    ErrorResponse,
)
INVALID = documented(
    "VALIDATION_ERROR: the request does not match the schema; `details` names the fields", ErrorResponse
)
NOT_FOUND = documented("ORDER_NOT_FOUND: no such order, or another customer's", ErrorResponse)
