"""The README's account steps, as plain HTTP calls to Cognito: register, confirm with
the emailed code, log in, refresh, and use the token on the API. And the API's refusal
of a token whose email is not verified."""

from __future__ import annotations

import base64
import json
import urllib.request
import uuid

import pytest

from scripts.mailbox import confirmation_code
from scripts.stack import DEMO_PASSWORD

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


def test_a_customer_registers_confirms_logs_in_and_refreshes_over_plain_http(stack, needs_inbox):
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


def _claims(id_token: str) -> dict:
    payload = id_token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def test_a_token_whose_email_is_not_verified_is_refused_until_it_is(stack):
    cognito = stack.client("cognito-idp")
    pool = stack.outputs["UserPoolId"]
    email = f"e2e-unverified-{uuid.uuid4().hex[:8]}@example.com"
    cognito.admin_create_user(
        UserPoolId=pool,
        Username=email,
        UserAttributes=[{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "false"}],
        MessageAction="SUPPRESS",
    )
    cognito.admin_set_user_password(UserPoolId=pool, Username=email, Password=DEMO_PASSWORD, Permanent=True)
    token = stack.login(email)["IdToken"]
    assert _claims(token)["email_verified"] is False  # Cognito signs what it knows

    body = {
        "items": [{"sku": "MUG-001", "quantity": 1}],
        "shipping_address": {"name": "M", "line1": "1 Road", "city": "London", "postal_code": "N1", "country": "GB"},
        "payment_token": "tok_visa",
    }
    answers = [
        stack.request("POST", "/orders", body, token=token),
        stack.request("GET", "/orders", token=token),
        stack.request("GET", f"/orders/{uuid.uuid4()}", token=token),
        stack.request("POST", f"/orders/{uuid.uuid4()}/cancel", token=token),
    ]

    assert [(a.status, a.body["error"]["code"]) for a in answers] == [(403, "EMAIL_NOT_VERIFIED")] * 4, [
        a.body for a in answers
    ]
    if stack.is_local:
        assert stack.emails(to=email) == []  # nothing was placed, nothing mailed

    cognito.admin_update_user_attributes(
        UserPoolId=pool, Username=email, UserAttributes=[{"Name": "email_verified", "Value": "true"}]
    )
    verified = stack.login(email)["IdToken"]
    mine = stack.request("GET", "/orders", token=verified)
    assert mine.status == 200 and mine.body == {"orders": [], "next": None}


def test_the_user_pool_keeps_the_verified_email_until_a_new_one_is_verified(stack):
    pool = stack.client("cognito-idp").describe_user_pool(UserPoolId=stack.outputs["UserPoolId"])["UserPool"]

    assert pool["UserAttributeUpdateSettings"]["AttributesRequireVerificationBeforeUpdate"] == ["email"]
    assert "email" in pool["AutoVerifiedAttributes"]
