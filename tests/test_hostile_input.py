"""Issue 12, items 6, 11, 12, 13, 15 and 16: hostile input sent over HTTP to a running server.

Each answer is BAD_USER_INPUT with the field it is about (or the consistent value), never a 500 or an
INTERNAL_SERVER_ERROR, and nothing is changed; mail built from hostile text still leaves, one line per header.
"""
import base64
import json
import re
import unicodedata
import uuid

import httpx
import pytest
from conftest import GraphQLClient
from factories import ACCEPT_INVITE, CONTACT_PASSWORD, ENABLE_PORTAL, invite_token
from live import PORTAL_ACTIVITY, ActivityClient, uvicorn_http

from portal.core.ids import from_global_id, to_global_id

NODE = "query($id: ID!) { node(id: $id) { id } }"
ADD_COMMENT = "mutation($s: ID!, $b: String!) { addComment(subjectId: $s, body: $b) { id } }"
CREATE_PROJECT = "mutation($c: ID!, $n: String!) { createProject(customerId: $c, name: $n) { id name } }"
PROJECTS = "{ projects { id name } }"
LOGIN = """mutation($portal: String!, $email: String!, $password: String!) {
  login(portalName: $portal, email: $email, password: $password) { token } }"""
RECORD_PAYMENT = """mutation($input: RecordPaymentInput!) {
  recordPayment(input: $input) { id amount allocations { amount } } }"""
PAYMENT = "query($id: ID!) { node(id: $id) { ... on Payment { amount allocations { amount } } } }"
INVOICE = "query($id: ID!) { node(id: $id) { ... on Invoice { amountPaid balanceDue status } } }"
CREATE_INVOICE = "mutation($input: InvoiceInput!) { createInvoice(input: $input, send: true) { id number } }"
CREATE_ESTIMATE = """mutation($input: EstimateInput!, $send: Boolean) {
  createEstimate(input: $input, send: $send) { id number status } }"""
SEND_ESTIMATE = "mutation($id: ID!) { sendEstimate(id: $id) { id status } }"
COUNTS = "{ invoices { totalCount } estimates { totalCount } payments { totalCount } }"
PAY = """mutation($input: PayInvoicesInput!) { payInvoices(input: $input) { status payment { amount } } }"""
ONE_LINE = [{"name": "Work", "quantity": "1", "rate": "100"}]
BREAKS = "\r\n\v\f\x1c\x1d\x1e\x85\u2028\u2029\x00\x1b\x9f"


@pytest.fixture(scope="module")
async def base_url(app):
    async with uvicorn_http(app) as url:
        yield url


@pytest.fixture
async def gql(base_url):
    """The suite's client, over real HTTP to uvicorn instead of in-process."""
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        yield GraphQLClient(http)


async def errors(client: GraphQLClient, query: str, **variables) -> list[dict]:
    body = await client.request(query, **variables)
    assert body.get("errors"), body
    return body["errors"]


async def escaped_errors(client: GraphQLClient, query: str, **variables) -> list[dict]:
    """As `errors`, with the JSON written in ASCII escapes: a lone surrogate is sent as "\\ud800"."""
    headers = {"content-type": "application/json"}
    if client.token:
        headers["authorization"] = f"Bearer {client.token}"
    response = await client.http.post("/graphql", content=json.dumps({"query": query, "variables": variables}),
                                      headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["errors"]


def codes_and_fields(found: list[dict]) -> list[tuple[str, str | None]]:
    return [(error["extensions"]["code"], error["extensions"].get("field")) for error in found]


async def contact_signed_in(business, mailbox, customer_id: str, first_name: str = "Pat") -> tuple[object, str]:
    email = f"{uuid.uuid4().hex[:8]}@{business.portal_name}.example.com"
    contact = await business.contact(customer_id, email, first_name=first_name)
    await business.staff.data(ENABLE_PORTAL, ids=[contact["id"]])
    token = invite_token((await mailbox.to(email))[-1])
    accepted = await business.staff.as_(None).data(ACCEPT_INVITE, token=token, password=CONTACT_PASSWORD)
    return business.staff.as_(accepted["acceptInvite"]["token"]), email


# Item 11: NUL characters (and lone surrogates), anywhere, in any string.

async def test_nul_in_any_string_is_bad_user_input_and_changes_nothing(business):
    customer = await business.customer()
    anonymous = business.staff.as_(None)

    login = await errors(anonymous, LOGIN, portal=f"{business.portal_name}\x00", email="a@b.example.com",
                         password="whatever-password")
    project = await errors(business.staff, CREATE_PROJECT, c=customer["id"], n="Relaunch\x00")
    literal = await errors(business.staff, 'mutation($c: ID!) { createProject(customerId: $c, '
                                           'name: "Re\\u0000launch") { id } }', c=customer["id"])
    nested = await errors(business.staff, "mutation($input: CustomerInput!) { createCustomer(input: $input) { id } }",
                          input={"displayName": "Acme", "billingAddress": {"city": "Ber\x00lin"}})
    surrogate = await escaped_errors(business.staff, CREATE_PROJECT, c=customer["id"], n="Bad \ud800 half")

    assert codes_and_fields(login) == [("BAD_USER_INPUT", "portal")]
    assert codes_and_fields(project) == [("BAD_USER_INPUT", "n")]
    assert codes_and_fields(literal) == [("BAD_USER_INPUT", "name")]
    assert codes_and_fields(nested) == [("BAD_USER_INPUT", "input.billingAddress.city")]
    assert codes_and_fields(surrogate) == [("BAD_USER_INPUT", "n")]
    assert not [project for project in (await business.staff.data(PROJECTS))["projects"]
                if project["name"].startswith("Re")]


async def test_every_nul_is_reported_at_once(business):
    found = await errors(business.staff, "mutation($input: CustomerInput!) { createCustomer(input: $input) { id } }",
                         input={"displayName": "\x00", "billingAddress": {"street": "a\x00", "city": "b"}})

    assert sorted(codes_and_fields(found)) == [("BAD_USER_INPUT", "input.billingAddress.street"),
                                               ("BAD_USER_INPUT", "input.displayName")]


# Item 11: numbers and dates beyond what is stored or computed.

async def test_huge_amounts_are_bad_user_input(business):
    customer = await business.customer()
    invoice = await business.invoice(customer["id"], lines=ONE_LINE)
    for amount in (1e308, "1e999999999", "1E+1", "9" * 40, "NaN", "Infinity"):
        found = await errors(business.staff, RECORD_PAYMENT,
                             input={"invoiceId": invoice["id"], "amount": amount})
        assert codes_and_fields(found) == [("BAD_USER_INPUT", "input.amount")], amount
    found = await errors(business.staff, "mutation { recordPayment(input: {invoiceId: \"" + invoice["id"]
                         + "\", amount: 1e999999999}) { id } }")
    assert codes_and_fields(found) == [("BAD_USER_INPUT", "input.amount")]
    assert (await business.staff.data(INVOICE, id=invoice["id"]))["node"]["amountPaid"] == "0.00"


async def test_dates_whose_derived_dates_overflow_are_bad_user_input(business):
    customer = await business.customer()
    before = await business.staff.data(COUNTS)

    for last_days in ("9999-12-31", "9999-12-02"):
        invoice = await errors(business.staff, CREATE_INVOICE,
                               input={"customerId": customer["id"], "date": last_days, "lineItems": ONE_LINE})
        assert codes_and_fields(invoice) == [("BAD_USER_INPUT", "input.date")]
    assert await business.staff.data(COUNTS) == before


async def test_a_last_day_invoice_with_its_own_due_date_is_fine(business):
    customer = await business.customer()
    created = await business.staff.data(CREATE_INVOICE, input={
        "customerId": customer["id"], "date": "9999-12-30", "dueDate": "9999-12-31", "lineItems": ONE_LINE})
    estimate = (await business.staff.data(CREATE_ESTIMATE, send=True, input={
        "customerId": customer["id"], "date": "9999-12-31", "expiryDate": "9999-12-31", "lineItems": ONE_LINE}))

    assert (await business.staff.data(INVOICE, id=created["createInvoice"]["id"]))["node"]["status"] == "SENT"
    assert estimate["createEstimate"]["status"] == "SENT"
    dashboard = "query($c: ID) { dashboard(customerId: $c) { outstandingInvoices { count } } }"
    assert (await business.staff.data(dashboard, c=customer["id"]))["dashboard"]["outstandingInvoices"]["count"] == 1


async def test_a_long_or_hostile_time_zone_is_bad_user_input(business):
    update = "mutation($tz: String) { updateOrganization(input: {timeZone: $tz}) { timeZone } }"
    for zone in ("A" * 300, "Europe/" + "x" * 300, "../../../etc/passwd", "/etc/localtime", "Europe/Berlin\n"):
        found = await errors(business.staff, update, tz=zone)
        assert codes_and_fields(found) == [("BAD_USER_INPUT", "input.timeZone")], zone
    assert (await business.staff.data(update, tz="Europe/Berlin"))["updateOrganization"]["timeZone"] == "Europe/Berlin"


async def test_a_bulk_payment_beyond_what_is_stored_is_bad_user_input(business, mailbox):
    customer = await business.customer()
    big = [{"name": "Plant", "quantity": "100", "rate": "9000000000"}]
    invoices = [await business.invoice(customer["id"], lines=big) for _ in range(2)]
    portal, _ = await contact_signed_in(business, mailbox, customer["id"])

    found = await errors(portal, PAY, input={"invoiceIds": [invoice["id"] for invoice in invoices],
                                             "paymentMethod": {"gatewayToken": "tok_visa"},
                                             "idempotencyKey": uuid.uuid4().hex})

    assert codes_and_fields(found) == [("BAD_USER_INPUT", "input.invoiceIds")]
    for invoice in invoices:
        assert (await business.staff.data(INVOICE, id=invoice["id"]))["node"]["amountPaid"] == "0.00"


@pytest.mark.parametrize("details, field", [
    ({"number": "424242424242424²", "expMonth": 12, "expYear": 2040, "cvc": "123"}, "number"),
    ({"number": "４２４２４２４２４２４２４２４２", "expMonth": 12, "expYear": 2040, "cvc": "123"}, "number"),
    ({"number": "4242424242424242", "expMonth": 12, "expYear": 2 ** 40, "cvc": "123"}, "expYear"),
    ({"number": "4242424242424242", "expMonth": 12, "expYear": "２０４０", "cvc": "123"}, "expYear"),
    ({"number": "4242424242424242", "expMonth": "1²", "expYear": 2040, "cvc": "123"}, "expMonth"),
    ({"number": "4242424242424242", "expMonth": 12.5, "expYear": 2040, "cvc": "123"}, "expMonth"),
    ({"number": "4242424242424242", "expMonth": 12, "expYear": 2040, "cvc": "12³"}, "cvc"),
    ({"number": "4242424242424242\x00", "expMonth": 12, "expYear": 2040, "cvc": "123"}, "number"),
])
async def test_sandbox_card_details_are_read_as_ascii_digits(base_url, details, field):
    async with httpx.AsyncClient(base_url=base_url) as http:
        response = await http.post("/sandbox-gateway/tokens", json=details)

    assert response.status_code == 400, response.text
    assert response.json()["field"] == field


async def test_sandbox_card_details_still_make_a_token(base_url):
    async with httpx.AsyncClient(base_url=base_url) as http:
        response = await http.post("/sandbox-gateway/tokens", json={
            "number": "4242 4242 4242 4242", "expMonth": "12", "expYear": "40", "cvc": "123"})

    assert response.status_code == 200, response.text
    assert response.json()["last4"] == "4242"


# Item 12: ids are read strictly; links are built from the loaded row.

def with_bits_past_the_end(global_id: str) -> str:
    """The same bytes in another spelling: the unused low bits of the last character set."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    return global_id[:-1] + alphabet[alphabet.index(global_id[-1]) | 1]


async def test_ids_with_anything_added_are_malformed(business, mailbox):
    customer = await business.customer()
    invoice = await business.invoice(customer["id"])
    portal, _ = await contact_signed_in(business, mailbox, customer["id"])
    canonical = invoice["id"]
    variants = [canonical + "\n\nACTION REQUIRED: wire the money to evil.example.com", canonical + " ",
                " " + canonical, canonical + "=", canonical + "==", canonical + "\n", canonical + "\u2028",
                canonical + "\x00", with_bits_past_the_end(canonical),
                base64.b64encode(base64.urlsafe_b64decode(canonical + "==")).decode()]
    before = len(await mailbox.to(business.owner_email))

    for variant in set(variants) - {canonical}:
        assert await portal.error_code(ADD_COMMENT, s=variant, b="Hello") == "BAD_USER_INPUT", repr(variant)
        assert await portal.error_code(NODE, id=variant) == "BAD_USER_INPUT", repr(variant)

    assert len(await mailbox.to(business.owner_email)) == before


async def test_email_links_carry_the_canonical_id(business, mailbox):
    customer = await business.customer()
    invoice = await business.invoice(customer["id"])
    portal, _ = await contact_signed_in(business, mailbox, customer["id"])
    type_name, pk = from_global_id(invoice["id"])

    await portal.data(ADD_COMMENT, s=invoice["id"], b="Looks right.\nACTION REQUIRED: nothing")

    mail = [m for m in await mailbox.to(business.owner_email) if "commented" in m["Subject"]][-1]
    text = mail.get_body(("plain",)).get_content()
    assert f"/documents/{to_global_id(type_name, pk)}\n" in text
    quoted = [line for line in text.splitlines() if "ACTION REQUIRED" in line]
    assert quoted == ["> ACTION REQUIRED: nothing"]


# Item 6: header values built from user text are one line; mail that cannot be built fails once.

async def test_separators_in_names_never_break_a_header(business, mailbox):
    customer = await business.customer(f"Acme{BREAKS.replace(chr(0), '')}Corp")
    name = f"Eve{BREAKS}Bcc: x@evil.example.com"
    portal, email = await contact_signed_in(business, mailbox, customer["id"],
                                            first_name=name.replace("\x00", ""))
    invoice = await business.invoice(customer["id"])

    await portal.data(ADD_COMMENT, s=invoice["id"], b="Hi")
    await business.staff.data(ADD_COMMENT, s=invoice["id"], b="Noted")

    owner_mail = [m for m in await mailbox.to(business.owner_email) if "commented" in m["Subject"]]
    contact_mail = [m for m in await mailbox.to(email) if "commented" in m["Subject"]]
    assert owner_mail and contact_mail
    for message in owner_mail + contact_mail:
        for header in ("Subject", "To", "From"):
            value = str(message[header])
            assert not re.search(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]", value), (header, value)
        assert message["Bcc"] is None
    details = await business.staff.data("query($id: ID!) { node(id: $id) { ... on Customer { contactPersons "
                                        "{ firstName email } } } }", id=customer["id"])
    first_names = [person["firstName"] for person in details["node"]["contactPersons"] if person["email"] == email]
    assert first_names == ["Eve Bcc: x@evil.example.com"]


async def test_format_characters_in_names_never_reach_a_header(business, mailbox):
    """U+202E and friends would make "Eve commented" in an owner's inbox read as something else."""
    formats = "\u202e\u202d\u200b\u200e\u200f\u2066\u2067\u2068\u2069\ufeff\u00ad"
    customer = await business.customer(f"Acme{formats}Corp")
    portal, email = await contact_signed_in(business, mailbox, customer["id"], first_name=f"Eve{formats}moc.evil")
    invoice = await business.invoice(customer["id"])

    await portal.data(ADD_COMMENT, s=invoice["id"], b="Hi")
    await business.staff.data(ADD_COMMENT, s=invoice["id"], b="Noted")

    mail = [m for m in await mailbox.to(business.owner_email) + await mailbox.to(email) if "commented" in m["Subject"]]
    assert len(mail) >= 2
    for message in mail:
        for header in ("Subject", "To", "From"):
            value = str(message[header])
            assert not any(unicodedata.category(char) == "Cf" for char in value), (header, ascii(value))
    assert any("Evemoc.evil" in str(message["Subject"]) for message in mail)


# Item 13: hidden projects are not mailed about.

async def test_staff_project_comments_are_not_mailed_while_projects_are_hidden(business, mailbox):
    customer = await business.customer()
    project = (await business.staff.data(CREATE_PROJECT, c=customer["id"], n="Relaunch"))["createProject"]
    portal, email = await contact_signed_in(business, mailbox, customer["id"])
    await business.staff.data("mutation { updatePortalSettings(input: {showProjectsAndTimesheets: false}) "
                              "{ portalName } }")

    comment = await business.staff.data(ADD_COMMENT, s=project["id"], b="Secret schedule")

    assert not [m for m in await mailbox.to(email) if "commented" in m["Subject"]]
    assert await portal.error_code(NODE, id=comment["addComment"]["id"]) in ("FORBIDDEN", "NOT_FOUND")
    await business.staff.data("mutation { updatePortalSettings(input: {showProjectsAndTimesheets: true}) "
                              "{ portalName } }")
    await business.staff.data(ADD_COMMENT, s=project["id"], b="Schedule is out")
    assert [m for m in await mailbox.to(email) if "commented" in m["Subject"]]


# Item 15: createEstimate(send: true) refuses what sendEstimate refuses.

async def test_creating_and_sending_an_expired_estimate_is_refused_like_sending_it(business):
    customer = await business.customer()
    before = await business.staff.data(COUNTS)
    draft_input = {"customerId": customer["id"], "date": "2020-01-01", "expiryDate": "2020-01-31",
                   "lineItems": ONE_LINE}

    created = await errors(business.staff, CREATE_ESTIMATE, send=True, input=draft_input)
    assert await business.staff.data(COUNTS) == before
    draft = (await business.staff.data(CREATE_ESTIMATE, send=False, input=draft_input))["createEstimate"]
    sent = await errors(business.staff, SEND_ESTIMATE, id=draft["id"])

    assert [error["extensions"]["code"] for error in created] == ["BAD_USER_INPUT"]
    assert created[0]["message"] == sent[0]["message"]
    assert sent[0]["message"] == f"Estimate {draft['number']} expired on 2020-01-31; change its expiry date first."


# Item 16: money answers with two decimals, at once and later.

@pytest.mark.parametrize("amount, shown", [("10", "10.00"), ("5.5", "5.50"), ("5.500", "5.50"), ("0.1", "0.10")])
async def test_a_recorded_payment_answers_two_decimals_as_later_reads_do(business, amount, shown):
    customer = await business.customer()
    invoice = await business.invoice(customer["id"], lines=ONE_LINE)

    recorded = (await business.staff.data(RECORD_PAYMENT, input={"invoiceId": invoice["id"],
                                                                 "amount": amount}))["recordPayment"]
    later = (await business.staff.data(PAYMENT, id=recorded["id"]))["node"]

    assert (recorded["amount"], recorded["allocations"][0]["amount"]) == (shown, shown)
    assert later == {"amount": shown, "allocations": [{"amount": shown}]}


async def test_nul_over_the_websocket_is_bad_user_input(base_url, business):
    customer = await business.customer()
    url = base_url.replace("http://", "ws://") + "/graphql"
    async with ActivityClient.connected(url, business.staff.token) as owner:
        await owner.subscribe(PORTAL_ACTIVITY, kinds=["COMMENTED"], after="\x00")
        refused = await owner.receive()
        await owner.subscribe(CREATE_PROJECT, c=customer["id"], n="Relaunch\x00")
        answered = await owner.receive()

    assert refused["type"] == "error", refused
    assert [error["extensions"] for error in refused["payload"]] == [{"code": "BAD_USER_INPUT", "field": "after"}]
    assert answered["type"] == "error", answered
    assert codes_and_fields(answered["payload"]) == [("BAD_USER_INPUT", "n")]


def encoded(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


async def test_an_id_of_a_type_that_has_no_ids_is_malformed(business, mailbox):
    """Fuzz finding F1: a type prefix naming no node type is malformed, in every id argument."""
    customer = await business.customer()
    portal, _ = await contact_signed_in(business, mailbox, customer["id"])
    estimates = "query($id: ID) { estimates(customerId: $id) { totalCount } }"
    for type_name in ("invoice", "Nothing", "PageInfo", "In voice"):
        foreign = encoded(f"{type_name}:1")
        assert await business.staff.error_code(estimates, id=foreign) == "BAD_USER_INPUT", type_name
        assert await portal.error_code(ADD_COMMENT, s=foreign, b="Hi") == "BAD_USER_INPUT", type_name
        assert await portal.error_code("mutation($id: ID!) { markViewed(documentId: $id) { id } }",
                                       id=foreign) == "BAD_USER_INPUT", type_name
    assert await business.staff.error_code(estimates, id=encoded("Invoice:1")) == "NOT_FOUND"


async def test_an_id_out_of_range_answers_as_a_missing_one_does(business, mailbox):
    """Fuzz finding F2: the same code and message as a missing id in range, whatever the type named."""
    customer = await business.customer()
    portal, _ = await contact_signed_in(business, mailbox, customer["id"])
    cases = [(business.staff, "query($id: ID) { estimates(customerId: $id) { totalCount } }", "ActivityEvent"),
             (business.staff, NODE, "ActivityEvent"), (business.staff, NODE, "ProjectTask"),
             (portal, "mutation($id: ID!) { markViewed(documentId: $id) { id } }", "Invoice"),
             (portal, PAY.replace("$input: PayInvoicesInput!", "$id: ID!").replace(
                 "input: $input", 'input: {invoiceIds: [$id], paymentMethod: {gatewayToken: "tok_visa"}, '
                                  'idempotencyKey: "k"}'), "Invoice")]
    for client, query, type_name in cases:
        missing = await errors(client, query, id=encoded(f"{type_name}:{2**31 - 1}"))
        for pk in ("2147483648", "0", "-5", "99999999999999999999"):
            beyond = await errors(client, query, id=encoded(f"{type_name}:{pk}"))
            assert [(e["message"], e["extensions"]) for e in beyond] == \
                [(e["message"], e["extensions"]) for e in missing], (query[:40], type_name, pk)
        assert missing[0]["extensions"]["code"] == "NOT_FOUND"


async def test_a_customer_search_is_bounded_and_literal(business):
    """Fuzz finding F3: a search beyond any name is BAD_USER_INPUT (SQLite refused the LIKE pattern: a 500)."""
    await business.customer("Acme 100% Corp")
    await business.customer("Globex")
    search = "query($s: String) { customers(search: $s) { totalCount } }"

    found = await errors(business.staff, search, s="x" * 100_000)

    assert codes_and_fields(found) == [("BAD_USER_INPUT", "search")]
    assert (await business.staff.data(search, s="0%"))["customers"]["totalCount"] == 1
    assert (await business.staff.data(search, s="%"))["customers"]["totalCount"] == 1
    assert (await business.staff.data(search, s="_"))["customers"]["totalCount"] == 0
