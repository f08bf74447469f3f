"""The deployed invoice function prints every customer's name exactly, in every script:
orders placed through the API with names and addresses in Latin, Cyrillic, Greek,
Arabic, Japanese, Chinese and Korean; their invoice PDFs downloaded from the link the
API gives, read back with pypdf. This proves the function's own package (fpdf2, its
native wheels for the target platform, the fonts) works where it runs."""

from __future__ import annotations

import io
import urllib.request

from pypdf import PdfReader

from tests.builders import SCRIPTS
from tests.e2e.flows import order_body


def test_the_invoice_pdf_prints_the_customers_name_and_address_in_every_script(stack, customer):
    orders = {}
    for script, values in SCRIPTS.items():
        shipping_address = {key: values[key] for key in ("name", "line1", "city", "postal_code", "country")}
        response = customer.post_order(order_body(shipping_address=shipping_address))
        assert response.status == 201, response.body
        orders[script] = response.body["order_id"]

    for script, order_id in orders.items():
        values = SCRIPTS[script]

        def invoice_link(order_id: str = order_id) -> object:
            link = stack.request("GET", f"/orders/{order_id}/invoice", token=customer.token)
            return link if link.status == 200 else None

        link = stack.wait_for(invoice_link, timeout=90)
        assert link, f"no invoice for the {script} order {order_id}"
        with urllib.request.urlopen(link.body["url"], timeout=10) as response:  # noqa: S310 - our own bucket
            pdf = response.read()
        text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
        assert text.count(values["name"]) == 2, (script, text)  # bill to and ship to
        assert text.count(values["line1"]) == 2, (script, text)
        assert text.count(values["city"]) == 2, (script, text)
        assert "?" not in text, (script, text)
        assert link.body["invoice_number"] in text and order_id in text
