from __future__ import annotations

from events.settings import Settings


class OrderSettings(Settings):
    orders_table: str
    products_table: str
    outbox_table: str = ""
    idempotency_table: str = ""  # also remembers POST /orders Idempotency-Keys
    order_events_topic_arn: str = ""
    payment_token_key_id: str = ""  # KMS key sealing payment tokens in the outbox
    invoice_bucket: str = ""  # where the invoice service stores invoices (the API hands out links)
    invoice_link_seconds: int = 3600
    console_origin: str = ""  # the web console's origin, the only one CORS allows ("" = no CORS)
    outbox_sweep_after_seconds: int = 300  # the sweeper republishes outbox entries older than this
