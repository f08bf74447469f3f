"""The payments table on DynamoDB: one row per order (key `order_id`), written once.

The row never holds the payment token (Payment has no field for it).
"""

from __future__ import annotations

from typing import Any

from billing_service.domain.model import Payment
from events.records import OncePerOrderTable


class DynamoDBPaymentStore(OncePerOrderTable[Payment]):
    def __init__(self, table: str, client: Any = None) -> None:
        super().__init__(table, Payment, client)
