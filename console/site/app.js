// The shop console: plain JavaScript, no build step, no library.
// It talks to Cognito's own HTTP API (sign up, confirm, sign in, refresh) and to the
// order API with the ID token, exactly as the README's curl examples do.

const STATUS_WORDS = {
  CREATED: "Received",
  INVOICED: "Invoiced",
  PAID: "Paid",
  CANCELLING: "Cancelling",
  SHIPPED: "Shipped",
  DELIVERED: "Delivered",
  PAYMENT_FAILED: "Payment declined",
  SHIPMENT_FAILED: "Could not ship",
  CANCELLED: "Cancelled",
  REFUNDED: "Refunded",
};
const EVENT_WORDS = {
  ORDER_CREATED: "Order received",
  INVOICE_CREATED: "Invoice issued",
  PAYMENT_CONFIRMED: "Payment taken",
  PAYMENT_FAILED: "Payment declined",
  SHIPPED: "Handed to the carrier",
  SHIPMENT_ERROR: "The carrier could not take it",
  DELIVERED: "Delivered",
  ORDER_CANCELLED: "Cancellation requested",
  SHIPMENT_CANCELLED: "Stopped at the warehouse",
  CANCELLATION_REJECTED: "Too late to cancel: already shipped",
  PAYMENT_REFUNDED: "Money refunded",
};
const HAPPY_PATH = ["CREATED", "INVOICED", "PAID", "SHIPPED", "DELIVERED"];
const CANCELLABLE = new Set(["CREATED", "INVOICED", "PAID"]);
const FIELD_LABELS = {
  name: "full name", line1: "address", line2: "address line 2", city: "city",
  postal_code: "postal code", country: "country code", payment_token: "card", items: "cart",
};
const FIELD_INPUTS = {
  name: "ship-name", line1: "ship-line1", line2: "ship-line2", city: "ship-city",
  postal_code: "ship-postal", country: "ship-country", payment_token: "pay-token",
};
const STOCK_REFRESH_MS = 5000;
const ORDER_POLL_MS = 1500;
const STORE = window.localStorage;

const state = {
  config: null,
  session: null, // {email, idToken, accessToken, refreshToken, expiresAt, groups}
  products: [],
  cart: new Map(), // sku -> quantity
  checkoutKey: null, // the Idempotency-Key of the order being placed
  pages: { cursors: [null], index: 0 },
  ordersRequest: 0, // the newest list request: an older answer arriving later is dropped
  timers: [],
  pendingEmail: null, // an account waiting for its code
};

const $ = (id) => document.getElementById(id);

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined && child !== false) {
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
  }
  return node;
}

// ------------------------------------------------------------------ messages
class UserError extends Error {
  constructor(message, { code = null, status = 0, details = [] } = {}) {
    super(message);
    this.code = code;
    this.status = status;
    this.details = details;
  }
}

function notice(message) {
  state.noticeAt = message ? Date.now() : 0;
  const box = $("notice");
  box.textContent = message;
  box.hidden = !message;
}

function alertMessage(message) {
  const box = $("alert");
  box.textContent = message;
  box.hidden = !message;
}

function clearMessages() {
  notice("");
  alertMessage("");
}

function money(amount, currency) {
  const value = Number(amount);
  try {
    return new Intl.NumberFormat(undefined, { style: "currency", currency }).format(value);
  } catch {
    return `${amount} ${currency}`;
  }
}

function when(iso) {
  if (!iso) return "";
  return new Date(iso).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "medium" });
}

function productName(sku) {
  return state.products.find((p) => p.sku === sku)?.name || sku;
}

// What an API error means to a person: one sentence, never the JSON.
function apiErrorSentence(status, body) {
  const error = (body && body.error) || {};
  const skus = (error.details || []).map((d) => d.sku).filter(Boolean).map(productName);
  switch (error.code) {
    case "OUT_OF_STOCK":
      return `Sorry, there is not enough stock of ${skus.join(", ") || "an item"} for this order. Lower the quantity or remove it from your cart.`;
    case "UNKNOWN_SKU":
      return `${skus.join(", ") || "An item"} is no longer sold. Remove it from your cart and try again.`;
    case "IDEMPOTENCY_KEY_REUSED":
      return "This order changed while it was being placed. Please place it again.";
    case "ORDER_ALREADY_SHIPPED":
      return "This order has already shipped, so it can no longer be cancelled.";
    case "ORDER_NOT_CANCELLABLE":
      return "This order can no longer be cancelled.";
    case "ORDER_BUSY":
      return "This order was changing at that very moment. Please try again.";
    case "ORDER_NOT_FOUND":
      return "We cannot find that order.";
    case "INVOICE_NOT_READY":
      return "The invoice is not ready yet; it usually takes a few seconds.";
    case "FORBIDDEN":
      return "Only shop administrators can change stock and prices.";
    case "PRODUCT_NOT_FOUND":
      return "That product does not exist.";
    case "INVALID_CURSOR":
      return "That page of orders is no longer available. Start again from the first page.";
    case "VALIDATION_ERROR": {
      const fields = [...new Set((error.details || []).map((d) => fieldName(d.field)).filter(Boolean))];
      return fields.length
        ? `Please check the ${fields.join(", ")}.`
        : "Some of the details are not valid. Please check them.";
    }
    case "MALFORMED_JSON":
      return "The shop could not read that request. Please reload the page and try again.";
    default:
      break;
  }
  if (status === 401) return "Your session has expired. Please sign in again.";
  if (status === 403) return "You are not allowed to do that.";
  if (status === 429) return "The shop is very busy right now. Please wait a moment and try again.";
  if (status >= 500) return "Something went wrong on our side. Please try again in a moment.";
  return "That did not work. Please try again.";
}

function fieldName(path) {
  if (!path) return null;
  const parts = String(path).split(".");
  for (const part of parts.reverse()) {
    if (FIELD_LABELS[part]) return FIELD_LABELS[part];
  }
  return null;
}

const COGNITO_SENTENCES = {
  UsernameExistsException: "An account with this email already exists. Sign in instead.",
  InvalidPasswordException: "That password is too weak: use at least 8 characters, with upper- and lower-case letters and a number.",
  CodeMismatchException: "That code is not right. Check the latest email and try again.",
  ExpiredCodeException: "That code has expired. Ask for a new one.",
  NotAuthorizedException: "The email or password is not right.",
  UserNotConfirmedException: "Confirm your email first: enter the code we sent you.",
  UserNotFoundException: "The email or password is not right.",
  LimitExceededException: "Too many attempts. Please wait a few minutes and try again.",
  TooManyRequestsException: "Too many attempts. Please wait a moment and try again.",
  TooManyFailedAttemptsException: "Too many attempts. Please wait a few minutes and try again.",
};

function cognitoSentence(type, message) {
  if (COGNITO_SENTENCES[type]) return COGNITO_SENTENCES[type];
  if (type === "InvalidParameterException") {
    if (/password/i.test(message || "")) return COGNITO_SENTENCES.InvalidPasswordException;
    return "Please enter a valid email address and password.";
  }
  return "Signing in is not possible right now. Please try again in a moment.";
}

// ------------------------------------------------------------------ Cognito
async function cognito(action, body) {
  let response;
  try {
    response = await fetch(state.config.cognitoUrl, {
      method: "POST",
      headers: {
        "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": `AWSCognitoIdentityProviderService.${action}`,
      },
      body: JSON.stringify({ ClientId: state.config.clientId, ...body }),
    });
  } catch {
    throw new UserError("Cannot reach the sign-in service. Check your connection and try again.");
  }
  const payload = await response.json().catch(() => ({}));
  if (!response.ok) {
    const type = String(payload.__type || payload.code || "").split("#").pop();
    throw new UserError(cognitoSentence(type, payload.message), { code: type, status: response.status });
  }
  return payload;
}

function claimsOf(jwt) {
  try {
    const part = jwt.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const json = decodeURIComponent(
      [...atob(part)].map((c) => "%" + c.charCodeAt(0).toString(16).padStart(2, "0")).join(""),
    );
    return JSON.parse(json);
  } catch {
    return {};
  }
}

function startSession(result, email, refreshToken) {
  const claims = claimsOf(result.IdToken);
  state.session = {
    email: claims.email || email,
    idToken: result.IdToken,
    accessToken: result.AccessToken,
    refreshToken: result.RefreshToken || refreshToken,
    expiresAt: (claims.exp || 0) * 1000,
    groups: [].concat(claims["cognito:groups"] || []),
  };
  STORE.setItem("console.refreshToken", state.session.refreshToken);
  STORE.setItem("console.email", state.session.email);
  renderChrome();
}

function endSession(message) {
  state.session = null;
  STORE.removeItem("console.refreshToken");
  STORE.removeItem("console.email");
  renderChrome();
  if (message) {
    alertMessage(message);
    state.keepAlert = true;
  }
}

async function signIn(email, password) {
  const { AuthenticationResult } = await cognito("InitiateAuth", {
    AuthFlow: "USER_PASSWORD_AUTH",
    AuthParameters: { USERNAME: email, PASSWORD: password },
  });
  startSession(AuthenticationResult, email);
}

// A new ID token from the refresh token: the console stays signed in across reloads.
async function refreshSession() {
  const refreshToken = state.session?.refreshToken || STORE.getItem("console.refreshToken");
  if (!refreshToken) return false;
  try {
    const { AuthenticationResult } = await cognito("InitiateAuth", {
      AuthFlow: "REFRESH_TOKEN_AUTH",
      AuthParameters: { REFRESH_TOKEN: refreshToken },
    });
    startSession(AuthenticationResult, STORE.getItem("console.email"), refreshToken);
    return true;
  } catch (error) {
    if (error.status >= 400 && error.status < 500) return false;
    throw error;
  }
}

// ------------------------------------------------------------------ the API
async function api(method, path, { body, auth = true, headers = {} } = {}) {
  if (auth) {
    if (!state.session) throw sessionExpired();
    if (state.session.expiresAt - Date.now() < 60_000 && !(await refreshSession())) throw sessionExpired();
  }
  let response = await send(method, path, body, auth, headers);
  if (response.status === 401 && auth) {
    if (!(await refreshSession())) throw sessionExpired();
    response = await send(method, path, body, auth, headers);
    if (response.status === 401) throw sessionExpired();
  }
  const payload = await response.json().catch(() => null);
  if (!response.ok) {
    throw new UserError(apiErrorSentence(response.status, payload), {
      code: payload?.error?.code,
      status: response.status,
      details: payload?.error?.details || [],
    });
  }
  return { body: payload, headers: response.headers, status: response.status };
}

async function send(method, path, body, auth, headers) {
  const all = { ...headers };
  if (body !== undefined) all["Content-Type"] = "application/json";
  if (auth) all.Authorization = state.session.idToken;
  try {
    return await fetch(state.config.apiUrl + path, {
      method,
      headers: all,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new UserError("Cannot reach the shop. Check your connection and try again.");
  }
}

function sessionExpired() {
  endSession();
  return new UserError("Your session has expired. Please sign in again.", { code: "SESSION_EXPIRED", status: 401 });
}

// Show an error as a sentence; a lapsed session goes to the sign-in form.
function fail(error) {
  const message = error instanceof UserError ? error.message : "Something went wrong. Please reload the page.";
  if (!(error instanceof UserError)) console.error(error);
  alertMessage(message);
  if (error.code === "SESSION_EXPIRED" && location.hash !== "#/account") {
    state.keepAlert = true;
    location.hash = "#/account";
  }
}

// Run an action from a button: disabled while it runs, so a double click is one action.
async function busy(button, action) {
  if (button.disabled) return;
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  try {
    await action();
  } catch (error) {
    fail(error);
  } finally {
    button.disabled = false;
    button.removeAttribute("aria-busy");
  }
}

// ------------------------------------------------------------------ views
const VIEWS = ["shop", "orders", "order", "admin", "account", "mailbox"];

function stopTimers() {
  state.timers.forEach((t) => clearTimeout(t));
  state.timers = [];
}

function every(ms, action) {
  const tick = async () => {
    const keep = await action().catch((error) => {
      fail(error);
      return false;
    });
    if (keep !== false) state.timers.push(setTimeout(tick, ms));
  };
  state.timers.push(setTimeout(tick, ms));
}

async function route() {
  stopTimers();
  const [, name = "shop", arg] = location.hash.split("/");
  const view = VIEWS.includes(name) ? name : "shop";
  const needsSession = ["orders", "order"].includes(view) || (view === "admin");
  if (needsSession && !state.session) {
    state.keepAlert = true;
    location.hash = "#/account";
    return;
  }
  for (const v of VIEWS) $(`view-${v}`).hidden = v !== view;
  document.querySelectorAll("[data-nav]").forEach((a) => {
    if (a.dataset.nav === view || (view === "order" && a.dataset.nav === "orders")) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  });
  const title = { shop: "Shop", orders: "My orders", order: "Order", admin: "Stock and prices", account: "Sign in", mailbox: "Mailbox" }[view];
  document.title = `${title} · Shop console`;
  try {
    if (view === "shop") await showShop();
    else if (view === "orders") await showOrders();
    else if (view === "order") await showOrder(decodeURIComponent(arg || ""));
    else if (view === "admin") await showAdmin();
    else if (view === "account") showAccount();
    else if (view === "mailbox") await showMailboxView();
  } catch (error) {
    fail(error);
  }
  // Move focus to the new view's heading, so keyboard and screen-reader users land there.
  const heading = $(`view-${view}`).querySelector("h1");
  heading?.focus({ preventScroll: false });
}

function renderChrome() {
  const signedIn = Boolean(state.session);
  const isAdmin = signedIn && state.session.groups.includes("admin");
  document.querySelectorAll("[data-needs]").forEach((node) => {
    const need = node.dataset.needs;
    const show = (need === "session" && signedIn) || (need === "nosession" && !signedIn)
      || (need === "admin" && isAdmin) || (need === "mailbox" && state.config?.mailbox && (signedIn || state.pendingEmail));
    (node.closest("li") || node).hidden = !show;
  });
  $("who-email").textContent = signedIn ? `Signed in as ${state.session.email}` : "";
  $("checkout-signin").hidden = signedIn || state.cart.size === 0;
  $("checkout").hidden = !signedIn || state.cart.size === 0;
}

// ------------------------------------------------------------------ shop
async function loadProducts() {
  const { body } = await api("GET", "/products", { auth: false });
  state.products = body.products.sort((a, b) => a.name.localeCompare(b.name) || a.sku.localeCompare(b.sku));
}

function stockWords(stock) {
  if (stock <= 0) return "Out of stock";
  if (stock <= 5) return `Only ${stock} left`;
  return `${stock} in stock`;
}

function renderProducts() {
  const list = $("products");
  const focused = document.activeElement?.id;
  // A refresh of the stock must not undo a quantity the customer is typing.
  const typed = new Map([...list.querySelectorAll("input.qty")].map((input) => [input.id, input.value]));
  list.replaceChildren(
    ...state.products.map((p) => {
      const qtyId = `qty-${p.sku}`;
      const out = p.stock <= 0;
      return el("li", { class: "product", "data-sku": p.sku },
        el("h2", { text: p.name }),
        el("p", { class: "price", text: money(p.price, p.currency) }),
        el("p", { class: `stock${out ? " out" : p.stock <= 5 ? " low" : ""}`, "data-stock": p.stock, text: stockWords(p.stock) }),
        el("div", { class: "add" },
          el("label", { for: qtyId, text: "Quantity" }),
          el("input", { id: qtyId, type: "number", min: 1, max: Math.max(1, Math.min(100, p.stock)), value: typed.get(qtyId) ?? 1, class: "qty", disabled: out }),
          el("button", {
            type: "button", disabled: out, "aria-label": `Add ${p.name} to cart`,
            onclick: () => addToCart(p.sku, Number($(qtyId).value) || 1),
          }, "Add to cart"),
        ),
      );
    }),
  );
  if (focused) $(focused)?.focus();
}

function addToCart(sku, quantity) {
  const product = state.products.find((p) => p.sku === sku);
  const next = Math.min(100, (state.cart.get(sku) || 0) + Math.max(1, Math.floor(quantity)));
  state.cart.set(sku, next);
  state.checkoutKey = null; // a different order now: a new Idempotency-Key
  renderCart();
  notice(`${product?.name || sku} added to your cart (${next} in total).`);
}

function renderCart() {
  const lines = [...state.cart.entries()];
  $("cart-empty").hidden = lines.length > 0;
  let total = 0;
  let currency = "EUR";
  $("cart-lines").replaceChildren(
    ...lines.map(([sku, quantity]) => {
      const product = state.products.find((p) => p.sku === sku);
      if (product) {
        total += Number(product.price) * quantity;
        currency = product.currency;
      }
      const name = product?.name || sku;
      const short = product && product.stock < quantity;
      return el("li", {},
        el("span", {}, `${quantity} × ${name}`),
        short ? el("span", { class: "warn", text: ` (only ${product.stock} left)` }) : null,
        el("button", {
          type: "button", class: "link", "aria-label": `Remove ${name} from cart`,
          onclick: () => { state.cart.delete(sku); state.checkoutKey = null; renderCart(); notice(`${name} removed from your cart.`); },
        }, "Remove"),
      );
    }),
  );
  $("cart-total").hidden = lines.length === 0;
  const units = lines.reduce((sum, [, quantity]) => sum + quantity, 0);
  $("cart-jump").hidden = units === 0;
  $("cart-jump").textContent = `Go to your cart (${units} ${units === 1 ? "item" : "items"})`;
  $("cart-total").textContent = `Total ${money(total.toFixed(2), currency)} (prices are confirmed when you order)`;
  renderChrome();
}

function checkoutBody() {
  const form = $("checkout");
  const value = (name) => form.elements[name].value.trim();
  const address = { name: value("name"), line1: value("line1"), city: value("city"), postal_code: value("postal_code"), country: value("country").toUpperCase() };
  if (value("line2")) address.line2 = value("line2");
  return {
    items: [...state.cart.entries()].map(([sku, quantity]) => ({ sku, quantity })),
    shipping_address: address,
    payment_token: value("payment_token"),
  };
}

function markFields(fields) {
  for (const id of Object.values(FIELD_INPUTS)) {
    $(id).removeAttribute("aria-invalid");
  }
  const box = $("checkout-errors");
  const missing = [];
  for (const field of fields) {
    const id = FIELD_INPUTS[field];
    if (id) {
      $(id).setAttribute("aria-invalid", "true");
      missing.push(FIELD_LABELS[field]);
    }
  }
  box.hidden = missing.length === 0;
  box.textContent = missing.length ? `Please fill in the ${missing.join(", ")}.` : "";
  if (missing.length) $(FIELD_INPUTS[fields[0]]).focus();
  return missing.length === 0;
}

async function placeOrder(event) {
  event.preventDefault();
  const button = $("place-order");
  await busy(button, async () => {
    clearMessages();
    const body = checkoutBody();
    const empty = ["name", "line1", "city", "postal_code", "country"].filter((f) => !body.shipping_address[f]);
    if (body.shipping_address.country && !/^[A-Z]{2}$/.test(body.shipping_address.country)) empty.push("country");
    if (!markFields(empty)) return;
    // One key per order the customer means: a double click or a retry after a lost
    // answer sends the same key and gets the same order back.
    const bodyText = JSON.stringify(body);
    if (!state.checkoutKey || state.checkoutKey.body !== bodyText) {
      state.checkoutKey = { key: crypto.randomUUID(), body: bodyText };
    }
    button.textContent = "Placing your order…";
    try {
      const { body: order } = await api("POST", "/orders", { body, headers: { "Idempotency-Key": state.checkoutKey.key } });
      state.cart.clear();
      state.checkoutKey = null;
      renderCart();
      location.hash = `#/order/${encodeURIComponent(order.order_id)}`;
      notice(`Thank you! Your order ${shortId(order.order_id)} is placed.`);
    } catch (error) {
      if (error.code === "VALIDATION_ERROR") {
        markFields([...new Set(error.details.map((d) => String(d.field || "").split(".").pop()))]);
      }
      if (error.code === "OUT_OF_STOCK") {
        await loadProducts().catch(() => {});
        renderProducts();
        renderCart();
      }
      throw error;
    } finally {
      button.textContent = "Place order";
    }
  });
}

async function showShop() {
  await loadProducts();
  renderProducts();
  renderCart();
  // Live stock: re-read the catalogue while the shop is on screen.
  every(STOCK_REFRESH_MS, async () => {
    await loadProducts();
    renderProducts();
    renderCart();
  });
}

// ------------------------------------------------------------------ orders
function shortId(id) {
  return id.slice(0, 8);
}

function statusBadge(status) {
  return el("span", { class: `badge s-${status.toLowerCase()}`, "data-status": status }, STATUS_WORDS[status] || status);
}

async function showOrders() {
  const size = Number($("page-size").value);
  const { cursors, index } = state.pages;
  const query = new URLSearchParams({ limit: String(size) });
  if (cursors[index]) query.set("next", cursors[index]);
  const request = ++state.ordersRequest;
  const { body } = await api("GET", `/orders?${query}`);
  // Opening the list and changing the page size both ask; answers may come back in
  // either order, and only the newest request's may fill the table.
  if (request !== state.ordersRequest) return;
  cursors.length = index + 1;
  if (body.next) cursors.push(body.next);
  $("orders-empty").hidden = body.orders.length > 0 || index > 0;
  $("orders-table").hidden = body.orders.length === 0;
  $("orders-body").replaceChildren(
    ...body.orders.map((o) => el("tr", { "data-order": o.order_id },
      el("td", { text: when(o.created_at) }),
      el("td", {}, el("a", { href: `#/order/${encodeURIComponent(o.order_id)}`, "aria-label": `Order ${shortId(o.order_id)}, placed ${when(o.created_at)}` }, shortId(o.order_id))),
      el("td", { text: `${o.items} ${o.items === 1 ? "item" : "items"}` }),
      el("td", { text: money(o.total, o.currency) }),
      el("td", {}, statusBadge(o.status)),
    )),
  );
  $("page-label").textContent = body.orders.length ? `Page ${index + 1}` : "";
  $("prev-page").disabled = index === 0;
  $("next-page").disabled = !body.next;
}

// The pager's buttons are off while a page loads (a double click turns one page), then
// showOrders sets them from the cursors it has.
async function turnPage(step) {
  const before = state.pages.index;
  $("prev-page").disabled = true;
  $("next-page").disabled = true;
  state.pages.index = Math.max(0, before + step);
  try {
    await showOrders();
  } catch (error) {
    state.pages.index = before;
    $("prev-page").disabled = before === 0;
    $("next-page").disabled = state.pages.cursors.length <= before + 1;
    fail(error);
  }
  $("orders-title").focus();
}

function progress(order) {
  const reached = new Set(order.timeline.map((t) => t.status).filter(Boolean));
  reached.add("CREATED");
  const failed = !HAPPY_PATH.includes(order.status);
  return el("ol", { class: "progress", "aria-label": "Progress" },
    ...HAPPY_PATH.map((s) => {
      const done = reached.has(s) || HAPPY_PATH.indexOf(s) <= HAPPY_PATH.indexOf(order.status);
      return el("li", { class: done ? "done" : failed ? "stopped" : "todo" },
        el("span", { class: "visually-hidden", text: done ? "done: " : "not yet: " }), STATUS_WORDS[s]);
    }),
  );
}

function outcomeSentence(order, payment) {
  switch (order.status) {
    case "PAYMENT_FAILED":
      // The provider's reason is written for customers ("Your card has expired.").
      return `${payment?.failure_reason || "Your card was declined."} No money was taken and the items are back in stock. You can order again with another card.`;
    case "SHIPMENT_FAILED":
      return "The carrier could not take this parcel. Your money is being refunded.";
    case "REFUNDED":
      return "Your money has been refunded.";
    case "CANCELLED":
      return payment?.state === "CONFIRMED"
        ? "This order is cancelled. Your payment is being refunded."
        : "This order is cancelled. No money was taken.";
    case "CANCELLING":
      return "We are stopping this order at the warehouse; this page updates by itself.";
    case "DELIVERED":
      return `Delivered${order.delivered_at ? ` on ${when(order.delivered_at)}` : ""}.`;
    case "SHIPPED":
      return `On its way with ${order.carrier || "the carrier"}${order.tracking_number ? `, tracking number ${order.tracking_number}` : ""}.`;
    default:
      return "We are processing your order; this page updates by itself.";
  }
}

function isSettled(order, payment) {
  if (["DELIVERED", "PAYMENT_FAILED", "REFUNDED"].includes(order.status)) return true;
  // A cancelled order may still be refunded: watch until its payment says how it ended.
  if (order.status === "CANCELLED") return payment && ["NOT_CHARGED", "REFUNDED", "FAILED"].includes(payment.state);
  return false;
}

async function showOrder(orderId) {
  $("order-body").replaceChildren(el("p", { class: "muted", text: "Loading your order…" }));
  let lastStatus = null;
  let invoiceLink = null;
  const refresh = async () => {
    const [{ body: order }, { body: payment }] = await Promise.all([
      api("GET", `/orders/${encodeURIComponent(orderId)}`),
      api("GET", `/orders/${encodeURIComponent(orderId)}/payment`),
    ]);
    if (order.invoice_number && !invoiceLink) {
      invoiceLink = (await api("GET", `/orders/${encodeURIComponent(orderId)}/invoice`)).body;
    }
    renderOrder(order, payment, invoiceLink);
    if (lastStatus && lastStatus !== order.status) notice(`Order ${shortId(order.order_id)} is now: ${STATUS_WORDS[order.status]}.`);
    lastStatus = order.status;
    return !isSettled(order, payment);
  };
  $("order-title").textContent = `Order ${shortId(orderId)}`;
  if (await refresh()) every(ORDER_POLL_MS, refresh);
}

function renderOrder(order, payment, invoiceLink) {
  const focused = document.activeElement?.id;
  const cancel = CANCELLABLE.has(order.status)
    ? el("div", { class: "cancel" },
        el("button", { type: "button", id: "cancel-order", class: "danger", onclick: () => askCancel(order) }, "Cancel this order"))
    : null;
  const refunds = (payment.refunds || []).map((r) => el("li", {}, `Refund ${money(r.amount, payment.currency)}${r.reason ? ` (${r.reason.replace(/_/g, " ").toLowerCase()})` : ""}`));
  const failed = ["PAYMENT_FAILED", "SHIPMENT_FAILED"].includes(order.status);
  $("order-body").replaceChildren(...[
    el("div", { class: "order-head" },
      el("p", { class: "status-line" }, "Status: ", statusBadge(order.status)),
      el("p", { class: failed ? "outcome bad" : "outcome", id: "order-outcome", text: outcomeSentence(order, payment) }),
    ),
    progress(order),
    cancel,
    el("div", { class: "order-grid" },
      el("section", { "aria-labelledby": "h-items", class: "card" },
        el("h2", { id: "h-items", text: "Items" }),
        el("ul", { class: "lines" }, ...order.lines.map((l) => el("li", {}, `${l.quantity} × ${l.name}`, el("span", { text: money(l.line_total, order.currency) })))),
        el("p", { class: "total", text: `Total ${money(order.total, order.currency)}` }),
        el("p", { class: "muted small" }, `Ship to ${[order.shipping_address.name, order.shipping_address.line1, order.shipping_address.line2, order.shipping_address.postal_code, order.shipping_address.city, order.shipping_address.country].filter(Boolean).join(", ")}`),
      ),
      el("section", { "aria-labelledby": "h-payment", class: "card", id: "payment" },
        el("h2", { id: "h-payment", text: "Payment" }),
        el("dl", {},
          el("dt", { text: "State" }), el("dd", { id: "payment-state", "data-state": payment.state, text: paymentWords(payment) }),
          el("dt", { text: "Amount" }), el("dd", { text: money(payment.amount, payment.currency) }),
          payment.charge_id ? [el("dt", { text: "Charge" }), el("dd", { class: "mono", text: payment.charge_id })] : null,
        ),
        refunds.length ? el("ul", {}, ...refunds) : null,
        el("h2", { id: "h-invoice", text: "Invoice" }),
        invoiceLink
          ? el("p", {}, el("a", { id: "invoice-link", class: "button", href: invoiceLink.url, target: "_blank", rel: "noopener", download: `${invoiceLink.invoice_number}.pdf` },
              `Download invoice ${invoiceLink.invoice_number} (PDF)`))
          : el("p", { class: "muted", text: "The invoice appears here as soon as it is issued." }),
      ),
      el("section", { "aria-labelledby": "h-timeline", class: "card" },
        el("h2", { id: "h-timeline", text: "Timeline" }),
        el("ol", { class: "timeline", id: "timeline" },
          order.timeline.length ? null : el("li", {}, el("span", { text: "Order placed" }), el("time", { datetime: order.created_at, text: when(order.created_at) })),
          ...order.timeline.map((t) => el("li", { "data-event": t.event_type },
            el("span", { text: EVENT_WORDS[t.event_type] || t.event_type }),
            el("time", { datetime: t.occurred_at, text: when(t.occurred_at) }))),
        ),
      ),
    ),
  ].filter(Boolean));
  if (focused) $(focused)?.focus();
}

function paymentWords(payment) {
  switch (payment.state) {
    case "PENDING": return "Not charged yet";
    case "CONFIRMED": return "Paid";
    case "FAILED": return "Declined";
    case "REFUNDED": return "Refunded";
    case "NOT_CHARGED": return "Not charged";
    default: return payment.state;
  }
}

function askCancel(order) {
  const box = document.querySelector(".cancel");
  const confirmButton = el("button", { type: "button", id: "confirm-cancel", class: "danger" }, "Yes, cancel it");
  const keep = el("button", { type: "button", id: "keep-order" }, "No, keep it");
  stopTimers();
  box.replaceChildren(el("p", { id: "cancel-question", text: "Cancel this order? If it has not left the warehouse, any payment is refunded." }), confirmButton, keep);
  confirmButton.focus();
  keep.addEventListener("click", () => route());
  confirmButton.addEventListener("click", () => busy(confirmButton, async () => {
    await api("POST", `/orders/${encodeURIComponent(order.order_id)}/cancel`);
    notice(`Order ${shortId(order.order_id)} is being cancelled.`);
    await route();
  }));
}

// ------------------------------------------------------------------ admin
async function showAdmin() {
  if (!state.session.groups.includes("admin")) {
    alertMessage("Only shop administrators can change stock and prices.");
  }
  $("admin-body").replaceChildren(); // never edit a stale row while the catalogue loads
  await loadProducts();
  $("admin-body").replaceChildren(
    ...state.products.map((p) => {
      const stockId = `stock-${p.sku}`;
      const priceId = `price-${p.sku}`;
      const save = el("button", { type: "button", "aria-label": `Save ${p.name}` }, "Save");
      save.addEventListener("click", () => busy(save, async () => {
        clearMessages();
        const stock = Number($(stockId).value);
        const price = $(priceId).value.trim();
        if (!Number.isInteger(stock) || stock < 0 || !/^\d+(\.\d{1,2})?$/.test(price)) {
          throw new UserError(`Stock must be a whole number of 0 or more and the price an amount like 12.50 (${p.name}).`);
        }
        const { body } = await api("PUT", `/inventory/${encodeURIComponent(p.sku)}`, { body: { stock, price } });
        notice(`${body.name}: ${body.stock} in stock at ${money(body.price, body.currency)}.`);
      }));
      return el("tr", { "data-sku": p.sku },
        el("th", { scope: "row" }, p.name, el("span", { class: "muted small block", text: p.sku })),
        el("td", {}, el("span", { class: "cell-label", "aria-hidden": "true", text: "Stock" }),
          el("label", { for: stockId, class: "visually-hidden", text: `Stock of ${p.name}` }),
          el("input", { id: stockId, type: "number", min: 0, max: 1000000, value: p.stock, class: "short" })),
        el("td", {}, el("span", { class: "cell-label", "aria-hidden": "true", text: `Price (${p.currency})` }),
          el("label", { for: priceId, class: "visually-hidden", text: `Price of ${p.name} in ${p.currency}` }),
          el("input", { id: priceId, inputmode: "decimal", value: p.price, class: "short" })),
        el("td", {}, save),
      );
    }),
  );
}

// ------------------------------------------------------------------ account
function showAccount() {
  const confirming = Boolean(state.pendingEmail);
  $("confirm").hidden = !confirming;
  $("sign-up").hidden = confirming;
  $("account-title").textContent = state.session ? "Account" : confirming ? "Confirm your email" : "Sign in";
  if (confirming) {
    $("confirm-email").textContent = state.pendingEmail;
    showMailbox($("account-mailbox"), state.pendingEmail);
  } else {
    $("account-mailbox").replaceChildren();
  }
}

async function onSignIn(event) {
  event.preventDefault();
  const form = event.target;
  await busy(form.querySelector("button[type=submit]"), async () => {
    clearMessages();
    const email = $("in-email").value.trim();
    const password = $("in-password").value;
    if (!email || !password) throw new UserError("Enter your email and your password.");
    try {
      await signIn(email, password);
    } catch (error) {
      if (error.code === "UserNotConfirmedException") {
        state.pendingEmail = email;
        showAccount();
      }
      throw error;
    }
    $("in-password").value = "";
    notice(`Welcome back, ${state.session.email}.`);
    location.hash = "#/shop";
  });
}

async function onSignUp(event) {
  event.preventDefault();
  const form = event.target;
  await busy(form.querySelector("button[type=submit]"), async () => {
    clearMessages();
    const email = $("up-email").value.trim();
    const password = $("up-password").value;
    if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email)) throw new UserError("Please enter a valid email address.");
    await cognito("SignUp", { Username: email, Password: password, UserAttributes: [{ Name: "email", Value: email }] });
    state.pendingEmail = email;
    state.pendingPassword = password; // kept in memory only, to sign in right after confirming
    renderChrome();
    showAccount();
    notice(`Account created. We sent a code to ${email}.`);
    $("confirm-code").focus();
  });
}

async function onConfirm(event) {
  event.preventDefault();
  const form = event.target;
  await busy(form.querySelector("button[type=submit]"), async () => {
    clearMessages();
    const code = $("confirm-code").value.trim();
    if (!/^\d{6}$/.test(code)) throw new UserError("The code is the 6 digits from the email.");
    await cognito("ConfirmSignUp", { Username: state.pendingEmail, ConfirmationCode: code });
    const email = state.pendingEmail;
    const password = state.pendingPassword;
    state.pendingEmail = null;
    state.pendingPassword = null;
    $("confirm-code").value = "";
    if (password) {
      await signIn(email, password);
      notice(`Your email is confirmed. Welcome, ${email}!`);
      location.hash = "#/shop";
    } else {
      $("in-email").value = email;
      showAccount();
      notice("Your email is confirmed. Sign in with your password.");
      $("in-password").focus();
    }
  });
}

async function onResend(event) {
  await busy(event.target, async () => {
    await cognito("ResendConfirmationCode", { Username: state.pendingEmail });
    notice(`We sent a new code to ${state.pendingEmail}.`);
  });
}

// ------------------------------------------------------------------ mailbox (local only)
async function showMailboxView() {
  if (!state.config.mailbox) {
    $("mailbox-slot").replaceChildren(el("p", { class: "muted", text: "There is no local mailbox here: emails go to your real inbox." }));
    return;
  }
  const address = state.session?.email || state.pendingEmail;
  if (!address) {
    location.hash = "#/account";
    return;
  }
  await showMailbox($("mailbox-slot"), address);
  every(3000, () => fillMailbox($("mailbox-slot"), address));
}

async function showMailbox(slot, address) {
  if (!state.config.mailbox) return;
  const box = $("mailbox-template").content.firstElementChild.cloneNode(true);
  box.querySelector(".mb-to").textContent = address;
  box.querySelector(".mb-refresh").addEventListener("click", (e) => busy(e.target, () => fillMailbox(slot, address)));
  slot.replaceChildren(box);
  await fillMailbox(slot, address);
}

function linkified(text) {
  const nodes = [];
  let last = 0;
  for (const match of text.matchAll(/https?:\/\/[^\s<>"]+/g)) {
    nodes.push(text.slice(last, match.index));
    nodes.push(el("a", { href: match[0], target: "_blank", rel: "noopener noreferrer" }, "this link"));
    last = match.index + match[0].length;
  }
  nodes.push(text.slice(last));
  return nodes;
}

async function fillMailbox(slot, address) {
  let payload;
  try {
    const response = await fetch(`/local/mailbox?to=${encodeURIComponent(address)}`);
    payload = await response.json();
    if (!response.ok) throw new Error(payload?.error?.message);
  } catch {
    throw new UserError("The local mailbox cannot be read right now.");
  }
  const messages = [...payload.messages].reverse();
  slot.querySelector(".mb-empty").hidden = messages.length > 0;
  const list = slot.querySelector(".mb-list");
  const open = new Set([...list.querySelectorAll("details[open]")].map((d) => d.dataset.id));
  list.replaceChildren(
    ...messages.map((m, i) => el("li", { class: "mail" },
      el("details", { "data-id": m.id, open: open.has(m.id) || (i === 0 && open.size === 0) },
        el("summary", {}, el("span", { class: "mail-subject", text: m.subject || "(no subject)" }),
          el("span", { class: "muted small", text: ` ${when(m.date)}` })),
        el("p", { class: "muted small", text: `From ${m.from}` }),
        el("pre", { class: "mail-text" }, ...linkified(m.text || "(this email has no text part)")),
      ),
    )),
  );
  return true;
}

// ------------------------------------------------------------------ start
async function start() {
  try {
    const response = await fetch("config.json", { cache: "no-store" });
    state.config = await response.json();
  } catch {
    alertMessage("The console cannot find its settings (config.json). Reload the page in a moment.");
    return;
  }
  state.config.apiUrl = state.config.apiUrl.replace(/\/$/, "");
  $("sign-in").addEventListener("submit", onSignIn);
  $("sign-up").addEventListener("submit", onSignUp);
  $("confirm").addEventListener("submit", onConfirm);
  $("resend-code").addEventListener("click", onResend);
  $("checkout").addEventListener("submit", placeOrder);
  $("cart-jump").addEventListener("click", () => {
    $("cart-title").scrollIntoView();
    $("cart-title").focus();
  });
  $("sign-out").addEventListener("click", () => {
    endSession();
    notice("You are signed out.");
    location.hash = "#/shop";
  });
  $("prev-page").addEventListener("click", () => turnPage(-1));
  $("next-page").addEventListener("click", () => turnPage(1));
  $("page-size").addEventListener("change", () => {
    state.pages = { cursors: [null], index: 0 };
    showOrders().catch(fail);
  });
  for (const id of Object.values(FIELD_INPUTS)) {
    $(id).addEventListener("input", () => $(id).removeAttribute("aria-invalid"));
  }
  window.addEventListener("hashchange", () => {
    if (!location.hash.startsWith("#/orders")) state.pages = { cursors: [null], index: 0 };
    if (state.keepAlert) state.keepAlert = false;
    else alertMessage("");
    // A notice belongs to the page it was said on, unless it announces this navigation.
    if (Date.now() - (state.noticeAt || 0) > 1000) notice("");
    route();
  });
  if (STORE.getItem("console.refreshToken")) {
    try {
      if (!(await refreshSession())) endSession("Your session has expired. Please sign in again.");
    } catch (error) {
      fail(error);
    }
  }
  renderChrome();
  await route();
  document.body.dataset.ready = "true";
}

start();
