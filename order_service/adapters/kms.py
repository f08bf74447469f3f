"""Sealing the payment token while an order waits in the outbox.

The token must reach billing, which learns it only from ORDER_CREATED; between the
order's transaction and the relay's publish the event sits in the outbox table (and
its stream). There the token is encrypted under a KMS key that only the API may
encrypt with and only the relay may decrypt with, bound to its order id, so neither
the table, its stream nor its backups ever hold it in clear.
"""

from __future__ import annotations

import base64
from typing import Any


class TokenSealer:
    def __init__(self, key_id: str, client: Any = None) -> None:
        self.key_id = key_id
        if client is None:
            from events.aws import client as make_client

            client = make_client("kms")
        self.client = client

    def seal(self, token: str, order_id: str) -> str:
        blob = self.client.encrypt(
            KeyId=self.key_id, Plaintext=token.encode(), EncryptionContext={"order_id": order_id}
        )["CiphertextBlob"]
        return base64.b64encode(blob).decode()

    def unseal(self, sealed: str, order_id: str) -> str:
        return str(
            self.client.decrypt(
                KeyId=self.key_id, CiphertextBlob=base64.b64decode(sealed), EncryptionContext={"order_id": order_id}
            )["Plaintext"].decode()
        )
