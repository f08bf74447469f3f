"""Invoice service: ORDER_CREATED -> an HTML invoice in S3 -> INVOICE_CREATED."""
