"""Every error the shipment domain can raise."""

from __future__ import annotations


class Undeliverable(Exception):
    """The carrier refuses the parcel for good: retrying the booking cannot help.

    Any other exception from a carrier (timeout, outage) is transient and fails the
    record, so SQS retries it.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class BookingInProgress(Exception):
    """A cancellation met a booking still in flight (status BOOKING).

    Transient: the record fails and SQS delivers the cancellation again after the
    visibility timeout, when the booking has become BOOKED (then it is cancelled with
    the carrier) or FAILED (nothing to cancel).
    """

    def __init__(self, order_id: str) -> None:
        super().__init__(f"the shipment of order {order_id} is being booked; retry the cancellation later")
        self.order_id = order_id


class ShipmentNotFound(Exception):
    """A carrier report for an order the shipments table does not know. Fails the record."""

    def __init__(self, order_id: str) -> None:
        super().__init__(f"no shipment stored for order {order_id}")
        self.order_id = order_id


class ShipmentContention(Exception):
    """The shipment kept changing under our conditional writes; fails the record, SQS retries."""

    def __init__(self, order_id: str) -> None:
        super().__init__(f"the shipment of order {order_id} kept changing; retry later")
        self.order_id = order_id
