"""The null choreography's only code: every function republishes the next event, or
does nothing (emails, order status). It is the floor `make load` measures the real
stack against: same emulator, same topic, queues, filters and batch sizes, and no work.

Inlined into bench/null/template.yaml by bench/load/run.py (ZipFile code), so the
null stack deploys without a build. Standard library and boto3 only, clients built
once per process, one publish per record: nothing a real handler could do less.
"""

import json
import os
import uuid
from datetime import UTC, datetime

import boto3

SNS = boto3.client("sns")
TOPIC_ARN = os.environ["TOPIC_ARN"]
# ORDER_CREATED -> INVOICE_CREATED etc.; empty for the no-op consumers.
NEXT = json.loads(os.environ.get("NEXT_EVENT", "{}"))


def _publish(event_type, order_id, cause, data):
    event = {
        "event_id": str(uuid.uuid4()),
        "event_type": event_type,
        "event_version": 1,
        "occurred_at": datetime.now(UTC).isoformat(),
        "order_id": order_id,
        "customer_id": cause.get("customer_id", ""),
        "correlation_id": cause.get("correlation_id", order_id),
        "causation_id": cause.get("event_id"),
        "producer": "null",
        "data": data,
    }
    SNS.publish(
        TopicArn=TOPIC_ARN,
        Message=json.dumps(event),
        MessageAttributes={
            "event_type": {"DataType": "String", "StringValue": event_type},
            "event_version": {"DataType": "Number", "StringValue": "1"},
            "order_id": {"DataType": "String", "StringValue": order_id},
        },
    )
    return event


def consume(event, context):
    records = event.get("Records", [])
    for record in records:
        cause = json.loads(record["body"])
        following = NEXT.get(cause["event_type"])
        if following:
            _publish(following, cause["order_id"], cause, cause.get("data", {}))
    print(json.dumps({"null_records": len(records)}))
    return {"batchItemFailures": []}


def api(event, context):
    claims = (event.get("requestContext") or {}).get("authorizer", {}).get("claims", {})
    order_id = str(uuid.uuid4())
    body = json.loads(event.get("body") or "{}")
    created = _publish(
        "ORDER_CREATED", order_id, {"customer_id": claims.get("sub", ""), "correlation_id": order_id}, body
    )
    return {
        "statusCode": 201,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps({"order_id": order_id, "status": "CREATED", "created_at": created["occurred_at"]}),
    }
