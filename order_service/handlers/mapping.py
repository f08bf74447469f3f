"""Between the API's wire format (order_service.models.api) and the domain: request bodies
become domain commands, domain models become response bodies. The only module that knows
both, so neither layer imports the other."""

from __future__ import annotations

from events.models import Address
from order_service.domain.commands import OrderItem, PlaceOrder
from order_service.domain.lifecycle import OrderStatus as DomainStatus
from order_service.domain.model import Order, Product
from order_service.domain.model import TimelineEntry as DomainTimelineEntry
from order_service.models.api import (
    OrderLineView,
    OrderStatus,
    OrderSummary,
    OrderView,
    PaymentState,
    PaymentView,
    PlaceOrderRequest,
    ProductView,
    RefundView,
    TimelineEntry,
    money,
)


def place_order_command(request: PlaceOrderRequest) -> PlaceOrder:
    return PlaceOrder(
        items=[OrderItem(sku=item.sku, quantity=item.quantity) for item in request.items],
        shipping_address=Address.model_validate(request.shipping_address.model_dump()),
        payment_token=request.payment_token,
    )


def product_view(product: Product) -> ProductView:
    return ProductView(
        sku=product.sku,
        name=product.name,
        price=money(product.price_cents),
        currency=product.currency,
        stock=product.stock,
    )


def _status(status: DomainStatus) -> OrderStatus:
    return OrderStatus(status.value)


def _timeline_entry(entry: DomainTimelineEntry) -> TimelineEntry:
    return TimelineEntry(
        event_id=entry.event_id,
        event_type=entry.event_type,
        occurred_at=entry.occurred_at,
        status=_status(entry.status) if entry.status is not None else None,
    )


def order_view(order: Order) -> OrderView:
    return OrderView(
        order_id=order.order_id,
        status=_status(order.status),
        lines=[
            OrderLineView(
                sku=line.sku,
                name=line.name,
                quantity=line.quantity,
                unit_price=money(line.unit_price_cents),
                line_total=money(line.line_total_cents),
            )
            for line in order.lines
        ],
        total=money(order.total_cents),
        currency=order.currency,
        shipping_address=order.shipping_address,
        created_at=order.created_at,
        timeline=[_timeline_entry(entry) for entry in sorted(order.timeline, key=lambda entry: entry.occurred_at)],
        invoice_number=order.invoice_number,
        carrier=order.carrier,
        tracking_number=order.tracking_number,
        failure_reason=order.failure_reason,
        cancelled_at=order.cancelled_at,
        delivered_at=order.delivered_at,
    )


def order_summary(order: Order) -> OrderSummary:
    return OrderSummary(
        order_id=order.order_id,
        status=_status(order.status),
        total=money(order.total_cents),
        currency=order.currency,
        items=sum(line.quantity for line in order.lines),
        created_at=order.created_at,
    )


def payment_view(order: Order) -> PaymentView:
    if order.refund_id:
        state = PaymentState.REFUNDED
    elif order.charge_id:
        state = PaymentState.CONFIRMED
    elif order.status == DomainStatus.PAYMENT_FAILED:
        state = PaymentState.FAILED
    elif order.status in (DomainStatus.CANCELLED, DomainStatus.REFUNDED):
        state = PaymentState.NOT_CHARGED
    else:
        state = PaymentState.PENDING
    refunds = (
        [RefundView(refund_id=order.refund_id, amount=money(order.refunded_cents or 0), reason=order.refund_reason)]
        if order.refund_id
        else []
    )
    return PaymentView(
        order_id=order.order_id,
        state=state,
        amount=money(order.paid_cents if order.paid_cents is not None else order.total_cents),
        currency=order.currency,
        charge_id=order.charge_id,
        decline_code=order.decline_code,
        failure_reason=order.failure_reason if state == PaymentState.FAILED else None,
        refunds=refunds,
    )
