"""The shipments table on DynamoDB: one item per order (key `order_id`).

Every write is conditional: `add` creates the order's item only if it has none (the
BOOKING claim of a PAYMENT_CONFIRMED, or the record of a cancellation that came
first); `update` moves it on only from the state it was read in (same `status`, same
claiming `event_id`). So a late, duplicated or concurrent event can never undo what
another did: a cancellation and a booking, or a cancellation and a delivery, exclude
each other.

Items (mapped by events/items.py) are compatible with the write-once records the table
held before (same names, strings for every value); `delivery_announced` is a DynamoDB boolean.

IAM: dynamodb:GetItem (consistent reads), dynamodb:PutItem (`add`),
dynamodb:UpdateItem (`update`).
"""

from __future__ import annotations

from typing import Any

from events.items import from_item, model_to_item
from shipment_service.domain.model import Shipment, ShipmentStatus


class DynamoDBShipmentStore:
    def __init__(self, table: str, client: Any = None) -> None:
        self.table = table
        if client is None:
            from events.aws import client as make_client

            client = make_client("dynamodb")
        self.client = client

    def get(self, order_id: str) -> Shipment | None:
        item = self.client.get_item(TableName=self.table, Key={"order_id": {"S": order_id}}, ConsistentRead=True).get(
            "Item"
        )
        if not item:
            return None
        return Shipment.model_validate(from_item(item))

    def add(self, shipment: Shipment) -> bool:
        """Store the order's shipment unless it has one already; False if it had."""
        from botocore.exceptions import ClientError

        try:
            self.client.put_item(
                TableName=self.table, Item=model_to_item(shipment), ConditionExpression="attribute_not_exists(order_id)"
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def update(self, shipment: Shipment, *, expected: ShipmentStatus) -> bool:
        """Write `shipment` over the stored one if that still has status `expected` and
        the same event_id; False when it has moved on.

        Attributes are only ever added or changed along the lifecycle, never removed,
        so the update SETs every attribute of the new state."""
        from botocore.exceptions import ClientError

        item = model_to_item(shipment)
        del item["order_id"]
        # Attribute names are the model's field names (identifiers): `#name` / `:name`.
        names = {f"#{name}": name for name in [*item, "status", "event_id"]}
        values = {f":{name}": value for name, value in item.items()}
        values[":expected"] = {"S": expected.value}
        if shipment.event_id is None:
            same_claim = "attribute_not_exists(#event_id)"
        else:
            same_claim = "#event_id = :claimed_by"
            values[":claimed_by"] = {"S": shipment.event_id}
        try:
            self.client.update_item(
                TableName=self.table,
                Key={"order_id": {"S": shipment.order_id}},
                UpdateExpression="SET " + ", ".join(f"#{name} = :{name}" for name in item),
                ConditionExpression=f"attribute_exists(order_id) AND #status = :expected AND {same_claim}",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True
