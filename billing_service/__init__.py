"""Billing service: INVOICE_CREATED -> a charge -> PAYMENT_CONFIRMED | PAYMENT_FAILED."""
