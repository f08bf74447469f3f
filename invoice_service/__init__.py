"""Invoice service: ORDER_CREATED -> the invoice in S3 (HTML and PDF) -> INVOICE_CREATED
with a pre-signed link to the PDF."""
