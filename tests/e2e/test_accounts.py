"""The README's account steps, as plain HTTP calls to Cognito: register, confirm with
the emailed code, log in, refresh, and use the token on the API."""

from __future__ import annotations

import json
import urllib.request
import uuid

import pytest

from scripts.mailbox import confirmation_code

pytestmark = pytest.mark.usefixtures("needs_inbox")


def _cognito(stack, action: str, body: dict) -> dict:
    request = urllib.request.Request(  # noqa: S310 - the emulator's Cognito endpoint
        stack.endpoint_url.rstrip("/") + "/",
        data=json.dumps(body).encode(),
        headers={
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": f"AWSCognitoIdentityProviderService.{action}",
        },
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return json.loads(response.read() or b"{}")


def test_a_customer_registers_confirms_logs_in_and_refreshes_over_plain_http(stack):
    client = stack.outputs["UserPoolClientId"]
    email = f"e2e-signup-{uuid.uuid4().hex[:8]}@example.com"
    password = "Sup3rSecret!"

    signed_up = _cognito(
        stack,
        "SignUp",
        {
            "ClientId": client,
            "Username": email,
            "Password": password,
            "UserAttributes": [{"Name": "email", "Value": email}],
        },
    )
    assert signed_up["UserConfirmed"] is False
    # Cognito's code comes by SMTP into the local mailbox, like every other email.
    code = stack.wait_for(lambda: confirmation_code(email, stack.maildir), timeout=20)
    assert code, f"no confirmation code for {email} in {stack.maildir}"
    _cognito(stack, "ConfirmSignUp", {"ClientId": client, "Username": email, "ConfirmationCode": code})
    tokens = _cognito(
        stack,
        "InitiateAuth",
        {
            "ClientId": client,
            "AuthFlow": "USER_PASSWORD_AUTH",
            "AuthParameters": {"USERNAME": email, "PASSWORD": password},
        },
    )["AuthenticationResult"]
    refreshed = _cognito(
        stack,
        "InitiateAuth",
        {
            "ClientId": client,
            "AuthFlow": "REFRESH_TOKEN_AUTH",
            "AuthParameters": {"REFRESH_TOKEN": tokens["RefreshToken"]},
        },
    )["AuthenticationResult"]

    for token in (tokens["IdToken"], refreshed["IdToken"]):
        mine = stack.request("GET", "/orders", token=token)
        assert mine.status == 200 and mine.body == {"orders": [], "next": None}
