"""A DynamoDB table of records written once per order (payments, shipments).

The first outcome stands: a late retry must never replace a record the customer was
already told about, so `add` is a conditional put that reports whether it wrote.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from pydantic import BaseModel

RecordT = TypeVar("RecordT", bound=BaseModel)


class OncePerOrderTable(Generic[RecordT]):
    def __init__(self, table: str, model: type[RecordT], client: Any = None) -> None:
        self.table = table
        self.model = model
        if client is None:
            from events.aws import client as make_client

            client = make_client("dynamodb")
        self.client = client

    def get(self, order_id: str) -> RecordT | None:
        item = self.client.get_item(TableName=self.table, Key={"order_id": {"S": order_id}}, ConsistentRead=True).get(
            "Item"
        )
        if not item:
            return None
        return self.model.model_validate({name: next(iter(value.values())) for name, value in item.items()})

    def add(self, record: RecordT) -> bool:
        """Store the record unless the order has one already; True when it was stored."""
        from botocore.exceptions import ClientError

        try:
            self.client.put_item(
                TableName=self.table, Item=_to_item(record), ConditionExpression="attribute_not_exists(order_id)"
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True


def _to_item(record: BaseModel) -> dict[str, dict[str, str]]:
    # Numbers stay DynamoDB numbers; everything else is stored as its JSON text form.
    return {
        name: {"N": str(value)} if isinstance(value, int | float) and not isinstance(value, bool) else {"S": str(value)}
        for name, value in record.model_dump(mode="json", exclude_none=True).items()
    }
