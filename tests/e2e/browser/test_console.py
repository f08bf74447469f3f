"""The web console in a real browser, against the deployed stack: what a customer and an
admin do, the way they do it (clicks, typing, reading the page).

Every assertion reads what the page shows; the API and the stack are only asked to set
up data (a product of the test's own, a customer, a few more orders) or to confirm an
effect the page claims (one order, not two; the new stock)."""

from __future__ import annotations

import re
import urllib.request
import uuid

import pytest
from playwright.sync_api import Page, expect

from scripts.stack import DEMO_PASSWORD, Stack
from tests.e2e.browser.conftest import PHONE, shot
from tests.e2e.conftest import Customer
from tests.e2e.flows import new_product, order_body, stock_of
from tests.e2e.infra import payment_parked_in_the_shipment_dlq

ORDER_TIMEOUT = 90_000  # ms: placing to delivered on a busy machine (delivery delay 2 s)
RAW_JSON = re.compile(r'[{}]|"error"|"code"')


def sign_in(page: Page, console: str, email: str, password: str = DEMO_PASSWORD) -> None:
    page.goto(console + "#/account")
    page.get_by_label("Email", exact=True).first.fill(email)
    page.locator("#in-password").fill(password)
    page.locator("#sign-in").get_by_role("button", name="Sign in").click()
    expect(page.locator("#who-email")).to_have_text(f"Signed in as {email}")


def fill_checkout(page: Page, card: str = "Visa (test card)") -> None:
    page.get_by_label("Full name").fill("Ada Lovelace")
    page.get_by_label("Address", exact=True).fill("12 Analytical Row")
    page.get_by_label("City").fill("London")
    page.get_by_label("Postal code").fill("N1 9GU")
    page.get_by_label("Country code").fill("GB")
    page.get_by_label("Card").select_option(label=card)


def add_to_cart(page: Page, product_name: str, quantity: int = 1) -> None:
    card = page.locator(".product", has=page.get_by_role("heading", name=product_name))
    card.get_by_label("Quantity").fill(str(quantity))
    card.get_by_role("button", name=f"Add {product_name} to cart").click()
    expect(page.locator("#cart-lines")).to_contain_text(f"{quantity} \u00d7 {product_name}")  # "2 (times) Mug"


def order_id_of(page: Page) -> str:
    page.wait_for_url(re.compile(r"#/order/"))
    return page.url.rsplit("/", 1)[1]


def assert_no_raw_json(page: Page) -> None:
    for box in ("#alert", "#notice", "#order-body"):
        text = page.locator(box).inner_text() if page.locator(box).is_visible() else ""
        assert not RAW_JSON.search(text), f"{box} shows raw JSON: {text!r}"


def product_name(stack: Stack, sku: str) -> str:
    return str(stack.request("GET", f"/products/{sku}").body["name"])


# ------------------------------------------------------------------ the customer's path
def test_a_customer_signs_up_orders_watches_it_delivered_cancels_and_pages_through_orders(
    stack: Stack, console: str, page: Page
) -> None:
    email = f"browser-{uuid.uuid4().hex[:8]}@example.com"
    password = "Br0wser-Passw0rd"
    sku = new_product(stack, stock=5)
    name = product_name(stack, sku)

    # Sign up, then confirm with the code from the local mailbox panel.
    page.goto(console)
    expect(page.locator(f".product[data-sku='{sku}']")).to_be_visible()
    shot(page, "01-shop-signed-out")
    page.get_by_role("link", name="Sign in", exact=True).click()
    page.locator("#up-email").fill(email)
    page.locator("#up-password").fill(password)
    shot(page, "02-sign-up")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="Confirm your email")).to_be_visible()
    mail = page.locator(".mailbox .mail-text").first
    expect(mail).to_contain_text(re.compile(r"\b\d{6}\b"), timeout=20_000)
    shot(page, "03-confirm-with-mailbox")
    found = re.search(r"\b(\d{6})\b", mail.inner_text())
    assert found is not None
    code = found.group(1)
    page.get_by_label("Code from the email").fill(code)
    page.get_by_role("button", name="Confirm and sign in").click()
    expect(page.locator("#who-email")).to_have_text(f"Signed in as {email}")

    # The catalogue shows live stock: a restock appears without reloading.
    stock = page.locator(f".product[data-sku='{sku}'] .stock")
    expect(stock).to_have_text("Only 5 left")
    stack.seed_catalogue([{"sku": sku, "name": name, "price_cents": 1000, "currency": "EUR", "stock": 12}], reset=True)
    expect(stock).to_have_text("12 in stock", timeout=20_000)

    # Place an order and watch it move by itself until it is delivered.
    add_to_cart(page, name, 2)
    fill_checkout(page)
    shot(page, "04-cart-and-checkout")
    page.get_by_role("button", name="Place order").click()
    order_id = order_id_of(page)
    expect(page.locator("#notice")).to_contain_text("is placed")
    shot(page, "05-order-placed")
    expect(page.locator("[data-status='DELIVERED']")).to_be_visible(timeout=ORDER_TIMEOUT)
    timeline = page.locator("#timeline li[data-event]")
    expect(timeline).to_have_count(5)
    expect(page.locator("#timeline")).to_contain_text("Payment taken")
    expect(page.locator("#payment-state")).to_have_text("Paid")
    invoice = page.get_by_role("link", name=re.compile(r"Download invoice INV-.* \(PDF\)"))
    expect(invoice).to_be_visible()
    shot(page, "06-order-delivered")
    href = invoice.get_attribute("href")
    assert href is not None
    with urllib.request.urlopen(href, timeout=10) as response:  # noqa: S310 - local S3
        assert response.read(5) == b"%PDF-"
    assert stock_of(stack, sku) == 10

    # Stays signed in: a reload signs in again with the refresh token.
    page.reload()
    expect(page.locator("#who-email")).to_have_text(f"Signed in as {email}")
    expect(page.locator("[data-status='DELIVERED']")).to_be_visible()
    expect(page.get_by_role("button", name="Cancel this order")).to_have_count(0)

    # Cancel an order before it ships (its payment waits in the shipment DLQ): the money comes back.
    page.goto(console + "#/shop")
    with payment_parked_in_the_shipment_dlq(stack) as parked:
        add_to_cart(page, name, 1)
        fill_checkout(page)
        page.get_by_role("button", name="Place order").click()
        cancelled_id = order_id_of(page)
        expect(page.locator("[data-status='PAID']")).to_be_visible(timeout=30_000)
        assert parked()
    page.get_by_role("button", name="Cancel this order").click()
    shot(page, "07-cancel-question")
    page.get_by_role("button", name="Yes, cancel it").click()
    expect(page.locator("#notice")).to_contain_text("is being cancelled")
    expect(page.locator("[data-status='REFUNDED']")).to_be_visible(timeout=ORDER_TIMEOUT)
    stack.redrive("ShipmentDLQ")
    expect(page.locator("#payment-state")).to_have_text("Refunded")
    expect(page.locator("#timeline")).to_contain_text("Money refunded")
    shot(page, "08-cancelled-refunded")
    assert_no_raw_json(page)

    # Past orders, page by page (four more placed over the API: six in all).
    token = stack.login(email, password)["IdToken"]
    for _ in range(4):
        assert stack.request("POST", "/orders", order_body(sku, 1), token=token).status == 201
    page.get_by_role("link", name="My orders", exact=True).click()
    page.get_by_label("Orders per page").select_option("5")
    rows = page.locator("#orders-body tr")
    expect(rows).to_have_count(5)
    expect(page.get_by_role("button", name="Previous page")).to_be_disabled()
    shot(page, "09-orders-page-1")
    page.get_by_role("button", name="Next page").click()
    expect(rows).to_have_count(1)
    expect(page.locator("#page-label")).to_have_text("Page 2")
    expect(page.get_by_role("button", name="Next page")).to_be_disabled()
    # Newest first: the oldest order (the delivered one) is alone on the last page.
    expect(rows.first).to_have_attribute("data-order", order_id)
    page.get_by_role("button", name="Previous page").click()
    expect(rows).to_have_count(5)
    expect(page.locator(f"#orders-body tr[data-order='{cancelled_id}']")).to_contain_text("Refunded")

    # The mailbox panel has the order's emails.
    page.get_by_role("link", name="Mailbox", exact=True).click()
    expect(page.locator(".mailbox")).to_contain_text(order_id)
    shot(page, "10-mailbox")


# ------------------------------------------------------------------ failures, as sentences
def test_a_declined_card_reads_as_a_sentence_and_the_stock_comes_back(
    stack: Stack, console: str, page: Page, customer: Customer
) -> None:
    sku = new_product(stack, stock=4)
    name = product_name(stack, sku)
    sign_in(page, console, customer.email)
    add_to_cart(page, name, 3)
    fill_checkout(page, card="Test card that is declined")
    page.get_by_role("button", name="Place order").click()
    order_id_of(page)

    expect(page.locator("[data-status='PAYMENT_FAILED']")).to_be_visible(timeout=ORDER_TIMEOUT)
    outcome = page.locator("#order-outcome")
    expect(outcome).to_contain_text("Your card was declined")
    expect(outcome).to_contain_text("No money was taken")
    expect(page.get_by_role("button", name="Cancel this order")).to_have_count(0)
    shot(page, "11-declined-card")
    assert_no_raw_json(page)
    assert stack.wait_for(lambda: stock_of(stack, sku) == 4, timeout=20)

    # Asking for more than there is: a sentence naming the product, nothing placed.
    page.goto(console + "#/shop")
    add_to_cart(page, name, 4)
    stack.seed_catalogue([{"sku": sku, "name": name, "price_cents": 1000, "currency": "EUR", "stock": 1}], reset=True)
    fill_checkout(page)
    page.get_by_role("button", name="Place order").click()
    expect(page.locator("#alert")).to_have_text(
        f"Sorry, there is not enough stock of {name} for this order. Lower the quantity or remove it from your cart."
    )
    shot(page, "12-out-of-stock")
    assert_no_raw_json(page)
    assert len(customer_orders(stack, customer)) == 1


def customer_orders(stack: Stack, customer: Customer) -> list[dict[str, object]]:
    response = stack.request("GET", "/orders?limit=100", token=customer.token)
    assert response.status == 200, response.body
    return list(response.body["orders"])


def test_a_double_click_and_a_lost_answer_make_one_order(
    stack: Stack, console: str, page: Page, customer: Customer
) -> None:
    sku = new_product(stack, stock=10)
    name = product_name(stack, sku)
    sign_in(page, console, customer.email)
    add_to_cart(page, name, 1)
    fill_checkout(page)

    # The first answer is lost on the way back (the order was placed): the customer sees a
    # sentence, clicks again, twice, and the same Idempotency-Key returns the same order.
    posts: list[str] = []

    def lose_first_answer(route):
        if route.request.method != "POST":
            route.continue_()
            return
        posts.append(route.request.headers.get("idempotency-key", ""))
        response = route.fetch()
        if len(posts) == 1:
            assert response.status == 201
            route.abort("connectionreset")
        else:
            route.fulfill(response=response)

    page.route(re.compile(r".*/orders$"), lose_first_answer)
    page.get_by_role("button", name="Place order").click()
    expect(page.locator("#alert")).to_have_text("Cannot reach the shop. Check your connection and try again.")
    page.get_by_role("button", name="Place order").dblclick()
    order_id = order_id_of(page)

    assert len(posts) == 2, posts  # the double click sent one request
    assert posts[0] and posts[0] == posts[1]
    orders = customer_orders(stack, customer)
    assert [o["order_id"] for o in orders] == [order_id]
    assert stock_of(stack, sku) == 9


# ------------------------------------------------------------------ phone width, keyboard, session
def test_the_console_works_at_phone_width_with_the_keyboard_and_says_when_the_session_expired(
    stack: Stack, console: str, page: Page, customer: Customer
) -> None:
    page.set_viewport_size(PHONE)
    sku = new_product(stack, stock=3)
    name = product_name(stack, sku)
    page.goto(console)
    expect(page.locator(f".product[data-sku='{sku}']")).to_be_visible()
    shot(page, "01-shop-signed-out")

    def fits() -> bool:
        return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))

    assert fits(), "the shop scrolls sideways at phone width"
    # Every form control has a label a screen reader reads out.
    unlabelled = page.evaluate(
        """[...document.querySelectorAll('input, select')].filter(e =>
             !(e.labels && e.labels.length) && !e.getAttribute('aria-label')).map(e => e.id)"""
    )
    assert unlabelled == []

    # Sign in with the keyboard alone.
    page.goto(console + "#/account")
    expect(page.locator("#account-title")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.locator("#in-email")).to_be_focused()
    page.keyboard.type(customer.email)
    page.keyboard.press("Tab")
    page.keyboard.type(DEMO_PASSWORD)
    shot(page, "02-sign-in")
    page.keyboard.press("Enter")
    expect(page.locator("#who-email")).to_have_text(f"Signed in as {customer.email}")
    expect(page.locator("#shop-title")).to_be_focused()

    add_to_cart(page, name, 1)
    page.get_by_role("button", name="Go to your cart (1 item)").click()
    expect(page.locator("#cart-title")).to_be_focused()
    # A missing field is named in a sentence and marked for assistive technology.
    page.get_by_role("button", name="Place order").click()
    expect(page.locator("#checkout-errors")).to_have_text(
        "Please fill in the full name, address, city, postal code, country code."
    )
    expect(page.get_by_label("Full name")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Full name")).to_be_focused()
    shot(page, "04-cart-and-checkout")
    fill_checkout(page)
    page.get_by_role("button", name="Place order").click()
    order_id_of(page)
    expect(page.locator("[data-status='DELIVERED']")).to_be_visible(timeout=ORDER_TIMEOUT)
    assert fits(), "the order page scrolls sideways at phone width"
    shot(page, "06-order-delivered")
    page.get_by_role("link", name="My orders", exact=True).click()
    expect(page.locator("#orders-body tr")).to_have_count(1)
    assert fits(), "the orders page scrolls sideways at phone width"
    shot(page, "09-orders-page-1")

    # The session lapsed (its refresh token was revoked): one sentence, then the sign-in form.
    page.evaluate("localStorage.setItem('console.refreshToken', 'revoked')")
    page.reload()
    expect(page.locator("#alert")).to_have_text("Your session has expired. Please sign in again.")
    expect(page.get_by_role("heading", name="Sign in", exact=True)).to_be_visible()
    shot(page, "13-session-expired")


# ------------------------------------------------------------------ the admin
def test_an_admin_changes_stock_and_price_and_a_customer_cannot(
    stack: Stack, console: str, page: Page, customer: Customer
) -> None:
    sku = new_product(stack, stock=2, price_cents=1500)
    name = product_name(stack, sku)
    admin = f"browser-admin-{uuid.uuid4().hex[:8]}@example.com"
    stack.create_customer(admin)
    stack.make_admin(admin)

    # A customer sees no stock page, and is told so in a sentence if they find it.
    sign_in(page, console, customer.email)
    expect(page.get_by_role("link", name="Stock", exact=True)).to_be_hidden()
    page.goto(console + "#/admin")
    row = page.locator(f"#admin-body tr[data-sku='{sku}']")
    row.get_by_label(f"Stock of {name}").fill("99")
    row.get_by_role("button", name=f"Save {name}").click()
    expect(page.locator("#alert")).to_have_text("Only shop administrators can change stock and prices.")
    assert stock_of(stack, sku) == 2
    page.get_by_role("button", name="Sign out").click()

    sign_in(page, console, admin)
    page.get_by_role("link", name="Stock", exact=True).click()
    row = page.locator(f"#admin-body tr[data-sku='{sku}']")
    row.get_by_label(f"Stock of {name}").fill("40")
    row.get_by_label(f"Price of {name} in EUR").fill("12.50")
    row.get_by_role("button", name=f"Save {name}").click()
    expect(page.locator("#notice")).to_have_text(f"{name}: 40 in stock at €12.50.")
    shot(page, "14-admin-stock")
    product = stack.request("GET", f"/products/{sku}").body
    assert (product["stock"], product["price"]) == (40, "12.50")

    # A wrong value is a sentence, not a request.
    row.get_by_label(f"Price of {name} in EUR").fill("twelve")
    row.get_by_role("button", name=f"Save {name}").click()
    expect(page.locator("#alert")).to_contain_text("the price an amount like 12.50")

    # The shop shows the new stock and price.
    page.get_by_role("link", name="Shop", exact=True).click()
    card = page.locator(f".product[data-sku='{sku}']")
    expect(card.locator(".stock")).to_have_text("40 in stock")
    expect(card.locator(".price")).to_have_text("€12.50")


@pytest.fixture
def customer(stack: Stack) -> Customer:
    return Customer(stack, f"browser-{uuid.uuid4().hex[:10]}@example.com")
