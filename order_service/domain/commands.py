"""What the order domain is asked to do, in its own terms.

The REST API maps its request bodies to these (order_service/handlers/mapping.py), so the
API's wire format (field limits, whitespace stripping, ignored client prices) can change
without the domain noticing, and the domain never imports an API model.
"""

from __future__ import annotations

import hashlib

from pydantic import BaseModel, ConfigDict

from events.models import Address


class Customer(BaseModel):
    """Who is asking: the customer the caller's identity names."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    customer_id: str
    email: str


class OrderItem(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)

    sku: str
    quantity: int


class PlaceOrder(BaseModel):
    """Order these items, ship them there, charge this payment token."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    items: list[OrderItem]  # the same sku twice is one line
    shipping_address: Address
    payment_token: str

    def fingerprint(self) -> str:
        """What an Idempotency-Key's record remembers of the request, to tell a retry (the
        same fingerprint) from another request reusing the key. The JSON of these three
        fields, in this order, is byte for byte the JSON of the API body they were mapped
        from, so records written before the command existed still match."""
        return hashlib.sha256(self.model_dump_json().encode()).hexdigest()
