"""The shipments table on DynamoDB: one item per order (key `order_id`), written once."""

from __future__ import annotations

from typing import Any

from events.records import OncePerOrderTable
from shipment_service.domain.model import Shipment


class DynamoDBShipmentStore(OncePerOrderTable[Shipment]):
    def __init__(self, table: str, client: Any = None) -> None:
        super().__init__(table, Shipment, client)
