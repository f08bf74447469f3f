"""The shipments table on DynamoDB: one item per order, keyed by order_id."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from shipment_service.domain.model import Shipment


class DynamoDBShipmentStore:
    def __init__(self, table: str, client: Any = None) -> None:
        self.table = table
        if client is None:
            from events.aws import client as make_client

            client = make_client("dynamodb")
        self.client = client

    def get(self, order_id: str) -> Shipment | None:
        response = self.client.get_item(TableName=self.table, Key={"order_id": {"S": order_id}}, ConsistentRead=True)
        item = response.get("Item")
        if not item:
            return None
        return Shipment.model_validate({name: value["S"] for name, value in item.items()})

    def add(self, shipment: Shipment) -> bool:
        try:
            self.client.put_item(
                TableName=self.table,
                Item=_to_item(shipment),
                # The first outcome stands: a late retry must not replace a booking
                # the customer was already told about.
                ConditionExpression="attribute_not_exists(order_id)",
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True


def _to_item(shipment: Shipment) -> dict[str, Any]:
    values = shipment.model_dump(mode="json", exclude_none=True)
    return {name: {"S": str(value)} for name, value in values.items()}
