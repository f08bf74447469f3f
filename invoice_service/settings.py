from __future__ import annotations

from decimal import Decimal

from pydantic import Field

from events.settings import Settings
from invoice_service.domain.invoices import MAX_LINK_SECONDS


class InvoiceSettings(Settings):
    invoice_bucket: str
    order_events_topic_arn: str
    idempotency_table: str | None = None
    # Catalogue prices include VAT; the invoice splits it out at this rate.
    tax_rate: Decimal = Field(default=Decimal("0.20"), ge=0, lt=1)
    seller_name: str = "Order Choreography SAS"
    seller_address: str = "1 Rue de l'Exemple, 75001 Paris, FR"
    seller_vat_id: str = "FR00123456789"
    # How long the pre-signed link to the invoice PDF (sent in the invoice email) works.
    # NB: a link signed with temporary credentials (a Lambda role's) stops working when
    # those expire, which can be sooner.
    invoice_link_seconds: int = Field(default=MAX_LINK_SECONDS, gt=0, le=MAX_LINK_SECONDS)
