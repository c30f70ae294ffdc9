"""Isolation as a property: every operation that takes an id, as every kind of principal, with every kind of id.

An id of another customer or organization, of something the viewer may not see, of something deleted, or of
another type than the argument takes answers exactly like an id that never existed (same code, same message);
a malformed id answers BAD_USER_INPUT; none of them changes a row. The id arguments are read from the schema,
so a new operation that takes an id fails `test_every_id_argument_has_a_call` until it has a call in CALLS.

The world is built once per backend; hypothesis draws (principal, id) pairs from it, derandomized, so a CI run
tries the same ids every time. Own ids are tried with queries only: a mutation with an own id changes the world.
"""
import asyncio
import contextvars
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from conftest import GraphQLClient, Mailbox, unique
from factories import CONTACT_PASSWORD, Business, new_business
from graphql import GraphQLInputObjectType, GraphQLSchema, build_schema, get_named_type
from helpers import contents, count_try, quiet, row_counts
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import event, text
from sqlmodel import SQLModel

from portal.core.base64url import decode_base64url, encode_base64url
from portal.core.ids import MAX_PK, from_global_id, to_global_id
from portal.schema import schema

TRIES_PER_ARGUMENT = 42  # x 37 id arguments (16 for login, which hashes): over 1,500 tries per backend
SETTINGS = hypothesis_settings(derandomize=True, database=None, deadline=None, max_examples=TRIES_PER_ARGUMENT,
                               suppress_health_check=list(HealthCheck), report_multiple_bugs=False)
PRINTED: GraphQLSchema = build_schema(schema.as_str())
NODE_TYPES = sorted(node_type.name for node_type in PRINTED.get_possible_types(PRINTED.get_type("Node")))


# ---------------------------------------------------------------- the id arguments, read from the schema


def _id_paths(graphql_type, prefix: str, seen: tuple[str, ...] = ()):
    named = get_named_type(graphql_type)
    if named.name == "ID":
        yield prefix
    elif isinstance(named, GraphQLInputObjectType) and named.name not in seen:
        for name, input_field in named.fields.items():
            yield from _id_paths(input_field.type, f"{prefix}.{name}", (*seen, named.name))


def id_arguments() -> list[str]:
    """Every place a root operation takes an id, as "Mutation.payInvoices(input.invoiceIds)"."""
    roots = [root for root in (PRINTED.query_type, PRINTED.mutation_type, PRINTED.subscription_type) if root]
    return [f"{root.name}.{name}({path})" for root in roots for name, root_field in root.fields.items()
            for argument_name, argument in root_field.args.items() for path in _id_paths(argument.type, argument_name)]


ID_ARGUMENTS = id_arguments()
MINIMUM_TRIES = 1000  # per backend and run
TRIED: dict[str, dict[str, int]] = {}  # per backend, per id argument: the tries made

# ---------------------------------------------------------------- a call for each id argument

CUSTOMER, CONTACT, INVOICE, ESTIMATE = ("Customer",), ("ContactPerson",), ("Invoice",), ("Estimate",)
DOCUMENT = ("Invoice", "Estimate")
WEBHOOK_ENDPOINT = ("WebhookEndpoint",)
LINES = '[{name: "Work", quantity: "1", rate: "10"}]'


@dataclass(frozen=True)
class Call:
    """A call that succeeds with a right id of one of `takes` (None: any node type) in `$id`, its other
    arguments made valid for the principal by `others`.

    A sign-in is sent anonymously with the contact person's credentials, each try from another client address
    (so that the throttle does not answer instead); it refuses an id of no customer of theirs as a wrong
    password (UNAUTHENTICATED) and notes the failure in `writes`.
    """

    document: str
    takes: tuple[str, ...] | None
    others: Callable[["Principal"], dict] = lambda _principal: {}
    signs_in: bool = False
    refusal: str = "NOT_FOUND"
    writes: tuple[str, ...] = ()
    tries: int = TRIES_PER_ARGUMENT


def _key(_principal: "Principal") -> dict:
    return {"k": uuid.uuid4().hex}


def _query(name: str, selection: str) -> Call:
    return Call(f"query($id: ID!) {{ {name}(customerId: $id) {{ {selection} }} }}", CUSTOMER)


CALLS: dict[str, Call] = {
    "Query.node(id)": Call("query($id: ID!) { node(id: $id) { __typename id } }", None),
    "Query.dashboard(customerId)": _query("dashboard", "currency"),
    "Query.statement(customerId)": _query("statement", "closingBalance"),
    "Query.invoices(customerId)": _query("invoices", "totalCount"),
    "Query.estimates(customerId)": _query("estimates", "totalCount"),
    "Query.payments(customerId)": _query("payments", "totalCount"),
    "Query.transactions(customerId)": _query("transactions", "totalCount"),
    "Mutation.addContactPerson(customerId)": Call(
        'mutation($id: ID!) { addContactPerson(customerId: $id, input: {firstName: "Iso", '
        'email: "iso@isolation.example.com"}) { id } }', CUSTOMER),
    "Mutation.setAchEnabled(customerId)": Call(
        "mutation($id: ID!) { setAchEnabled(customerId: $id, enabled: true) { id } }", CUSTOMER),
    "Mutation.enablePortalAccess(contactPersonIds)": Call(
        "mutation($id: ID!) { enablePortalAccess(contactPersonIds: [$id]) { id } }", CONTACT),
    "Mutation.disablePortalAccess(contactPersonIds)": Call(
        "mutation($id: ID!) { disablePortalAccess(contactPersonIds: [$id]) { id } }", CONTACT),
    "Mutation.createEstimate(input.customerId)": Call(
        f"mutation($id: ID!) {{ createEstimate(input: {{customerId: $id, lineItems: {LINES}}}) {{ id }} }}", CUSTOMER),
    "Mutation.updateEstimate(id)": Call(
        f"mutation($id: ID!, $c: ID!) {{ updateEstimate(id: $id, input: {{customerId: $c, lineItems: {LINES}}}) "
        "{ id } }", ESTIMATE, lambda principal: {"c": principal.customer}),
    "Mutation.updateEstimate(input.customerId)": Call(
        f"mutation($id: ID!, $e: ID!) {{ updateEstimate(id: $e, input: {{customerId: $id, lineItems: {LINES}}}) "
        "{ id } }", CUSTOMER, lambda principal: {"e": principal.draft_estimate}),
    "Mutation.sendEstimate(id)": Call("mutation($id: ID!) { sendEstimate(id: $id) { id } }", ESTIMATE),
    "Mutation.acceptEstimate(id)": Call("mutation($id: ID!) { acceptEstimate(id: $id) { id } }", ESTIMATE),
    "Mutation.declineEstimate(id)": Call(
        'mutation($id: ID!) { declineEstimate(id: $id, reason: "No") { id } }', ESTIMATE),
    "Mutation.createInvoice(input.customerId)": Call(
        f"mutation($id: ID!) {{ createInvoice(input: {{customerId: $id, lineItems: {LINES}}}) {{ id }} }}", CUSTOMER),
    "Mutation.sendInvoice(id)": Call("mutation($id: ID!) { sendInvoice(id: $id) { id } }", INVOICE),
    "Mutation.voidInvoice(id)": Call("mutation($id: ID!) { voidInvoice(id: $id) { id } }", INVOICE),
    "Mutation.convertEstimateToInvoice(id)": Call(
        "mutation($id: ID!) { convertEstimateToInvoice(id: $id) { id } }", ESTIMATE),
    "Mutation.payInvoices(input.invoiceIds)": Call(
        'mutation($id: ID!, $k: String!) { payInvoices(input: {invoiceIds: [$id], paymentMethod: '
        '{gatewayToken: "tok_visa"}, idempotencyKey: $k}) { status } }', INVOICE, _key),
    "Mutation.payInvoices(input.paymentMethod.savedPaymentMethodId)": Call(
        "mutation($id: ID!, $i: ID!, $k: String!) { payInvoices(input: {invoiceIds: [$i], paymentMethod: "
        "{savedPaymentMethodId: $id}, idempotencyKey: $k}) { status } }", ("SavedPaymentMethod",),
        lambda principal: {"i": principal.unpaid_invoice, **_key(principal)}),
    "Mutation.removeSavedPaymentMethod(id)": Call(
        "mutation($id: ID!) { removeSavedPaymentMethod(id: $id) }", ("SavedPaymentMethod",)),
    "Mutation.recordPayment(input.invoiceId)": Call(
        'mutation($id: ID!) { recordPayment(input: {invoiceId: $id, amount: "1"}) { id } }', INVOICE),
    "Mutation.addComment(subjectId)": Call(
        'mutation($id: ID!) { addComment(subjectId: $id, body: "Iso") { id } }', ("Invoice", "Estimate", "Project")),
    "Mutation.createProject(customerId)": Call(
        'mutation($id: ID!) { createProject(customerId: $id, name: "Iso") { id } }', CUSTOMER),
    "Mutation.addProjectTask(projectId)": Call(
        'mutation($id: ID!) { addProjectTask(projectId: $id, name: "Iso") { id } }', ("Project",)),
    "Mutation.logTime(taskId)": Call(
        'mutation($id: ID!) { logTime(taskId: $id, date: "2026-01-05", hours: "1") { id } }', ("ProjectTask",)),
    "Mutation.markViewed(documentId)": Call("mutation($id: ID!) { markViewed(documentId: $id) { id } }", DOCUMENT),
    "Mutation.forwardDocument(documentId)": Call(
        'mutation($id: ID!) { forwardDocument(documentId: $id, email: "fwd@isolation.example.com") { id } }',
        DOCUMENT),
    "Mutation.requestReview(contactPersonIds)": Call(
        "mutation($id: ID!) { requestReview(contactPersonIds: [$id]) }", CONTACT),
    "Mutation.updateWebhookEndpoint(id)": Call(
        'mutation($id: ID!) { updateWebhookEndpoint(id: $id, input: {url: "https://hooks.example.com/iso"}) '
        "{ id } }", WEBHOOK_ENDPOINT),
    "Mutation.rotateWebhookSecret(id)": Call(
        "mutation($id: ID!) { rotateWebhookSecret(id: $id) { secret } }", WEBHOOK_ENDPOINT),
    "Mutation.deleteWebhookEndpoint(id)": Call(
        "mutation($id: ID!) { deleteWebhookEndpoint(id: $id) }", WEBHOOK_ENDPOINT),
    "Mutation.redeliverWebhook(deliveryId)": Call(
        "mutation($id: ID!) { redeliverWebhook(deliveryId: $id) { id } }", ("WebhookDelivery",)),
    "Mutation.login(customerId)": Call(
        "mutation($id: ID!, $n: String!, $e: String!, $p: String!) { login(portalName: $n, email: $e, password: $p, "
        "customerId: $id) { token } }", CUSTOMER,
        lambda principal: {"n": principal.portal_name, "e": principal.email, "p": CONTACT_PASSWORD},
        signs_in=True, refusal="UNAUTHENTICATED", writes=("failed_sign_ins",), tries=16),
}

# ---------------------------------------------------------------- the world: two organizations, two customers each

PAY = """mutation($input: PayInvoicesInput!) { payInvoices(input: $input) { status payment { id } } }"""
SAVED = "{ savedPaymentMethods { id } }"
COMMENT = 'mutation($s: ID!) { addComment(subjectId: $s, body: "Looks good") { id } }'
PROJECT = 'mutation($c: ID!) { createProject(customerId: $c, name: "Relaunch") { id } }'
TASK = 'mutation($p: ID!) { addProjectTask(projectId: $p, name: "Design", billable: true) { id } }'
LOG = 'mutation($t: ID!) { logTime(taskId: $t, date: "2026-01-05", hours: "2") { id } }'
REVIEW = "mutation { submitReview(rating: 5) { id } }"
REMOVE_SAVED = "mutation($id: ID!) { removeSavedPaymentMethod(id: $id) }"
VIEWER = "{ viewer { ... on StaffUser { id } } }"
LATEST_EVENTS = "{ activity(last: 5) { edges { node { id } } } }"
WEBHOOK = "mutation($url: String!) { createWebhookEndpoint(input: {url: $url}) { endpoint { id } } }"
DISABLE_WEBHOOK = """mutation($id: ID!, $url: String!) {
  updateWebhookEndpoint(id: $id, input: {url: $url}, enabled: false) { id } }"""
DELIVERIES = """query($id: ID!) { node(id: $id) { ... on WebhookEndpoint {
  deliveries(first: 1) { edges { node { id } } } } } }"""
DML = ("INSERT", "UPDATE", "DELETE")


@dataclass
class Principal:
    name: str
    client: GraphQLClient
    portal_name: str
    email: str | None  # a contact person's, who can sign in with `login`
    customer: str  # their customer (a contact person), or one of their organization's (the owner)
    unpaid_invoice: str
    draft_estimate: str
    visible: set[str] = field(default_factory=set)


@dataclass
class World:
    loop: asyncio.AbstractEventLoop
    app: Any
    backend: str
    principals: list[Principal]
    every_id: set[str]  # every object of the two organizations
    deleted: list[str]
    answers_to_missing: dict = field(default_factory=dict)

    def run(self, coroutine: Coroutine) -> Any:
        return self.loop.run_until_complete(coroutine)


@dataclass
class CustomerObjects:
    portal: GraphQLClient
    email: str
    customer: str
    unpaid_invoice: str
    draft_estimate: str
    seen_by_contact: set[str]
    hidden_from_contact: set[str]
    saved_method: str


async def pay(portal: GraphQLClient, invoice_id: str, token: str = "tok_visa") -> str:
    paid = await portal.data(PAY, input={"invoiceIds": [invoice_id], "paymentMethod": {"gatewayToken": token},
                                         "savePaymentMethod": True, "idempotencyKey": uuid.uuid4().hex})
    return paid["payInvoices"]["payment"]["id"]


async def portal_updates(app, customer_id: str) -> set[str]:
    """The ids of the customer's latest portal updates (delivered over the WebSocket only), read from the database."""
    _, pk = from_global_id(customer_id)
    async with app.state.services.session_factory() as session:
        rows = await session.execute(
            text("SELECT id FROM customer_updates WHERE customer_id = :pk ORDER BY id DESC LIMIT 3"), {"pk": pk})
        return {to_global_id("PortalUpdate", row[0]) for row in rows}


async def customer_objects(app, business: Business, mailbox: Mailbox, name: str) -> CustomerObjects:
    """A customer with one of each thing, and its contact person signed in."""
    customer = (await business.customer(f"{name} Ltd"))["id"]
    unpaid, paid = (await business.invoice(customer))["id"], (await business.invoice(customer))["id"]
    draft = (await business.invoice(customer, send=False))["id"]
    estimate = (await business.estimate(customer))["id"]
    draft_estimate = (await business.estimate(customer, send=False))["id"]
    portal, contact = await business.portal_user(customer, f"{name}@{business.portal_name}.example.com", mailbox)
    payment = await pay(portal, paid)
    saved = (await portal.data(SAVED))["savedPaymentMethods"][0]["id"]
    comment = (await portal.data(COMMENT, s=unpaid))["addComment"]["id"]
    project = (await business.staff.data(PROJECT, c=customer))["createProject"]["id"]
    task = (await business.staff.data(TASK, p=project))["addProjectTask"]["id"]
    entry = (await business.staff.data(LOG, t=task))["logTime"]["id"]
    project_comment = (await portal.data(COMMENT, s=project))["addComment"]["id"]
    review = (await portal.data(REVIEW))["submitReview"]["id"]
    return CustomerObjects(
        portal=portal, email=contact["email"], customer=customer, unpaid_invoice=unpaid,
        draft_estimate=draft_estimate, saved_method=saved,
        seen_by_contact={customer, contact["id"], unpaid, paid, estimate, payment, saved, comment, project, task,
                         entry, project_comment, review, *await portal_updates(app, customer)},
        hidden_from_contact={draft, draft_estimate})


async def open_webhook(business: Business) -> tuple[str, str]:
    """A webhook endpoint, before anything happens: the events that follow get deliveries."""
    url = f"https://hooks.example.com/{business.portal_name}"
    return (await business.staff.data(WEBHOOK, url=url))["createWebhookEndpoint"]["endpoint"]["id"], url


async def closed_webhook(app, business: Business, endpoint: tuple[str, str]) -> set[str]:
    """Disable the endpoint, so that no attempt changes a delivery during the tries: its id and a delivery's."""
    await business.staff.data(DISABLE_WEBHOOK, id=endpoint[0], url=endpoint[1])
    if app.state.services.webhook_sender is not None:
        await app.state.services.webhook_sender.drain()
    deliveries = (await business.staff.data(DELIVERIES, id=endpoint[0]))["node"]["deliveries"]["edges"]
    return {endpoint[0], deliveries[0]["node"]["id"]}


async def organization_ids(business: Business) -> set[str]:
    """The organization's own nodes: itself, its owner, its latest activity events."""
    events = (await business.staff.data(LATEST_EVENTS))["activity"]["edges"]
    return {business.organization_id, (await business.staff.data(VIEWER))["viewer"]["id"],
            *(edge["node"]["id"] for edge in events)}


async def delete_organization(app, organization_id: str) -> None:
    """Delete an organization and every row of it, straight in the database: its ids become deleted ids."""
    _, pk = from_global_id(organization_id)
    await quiet(app)
    async with app.state.services.session_factory() as session:
        for table in reversed(SQLModel.metadata.sorted_tables):
            if "organization_id" in table.columns:
                await session.execute(text(f"DELETE FROM {table.name} WHERE organization_id = :pk"), {"pk": pk})
        await session.execute(text("DELETE FROM organizations WHERE id = :pk"), {"pk": pk})
        await session.commit()


async def organization_to_delete(settings, app, gql: GraphQLClient, mailbox: Mailbox) -> tuple[str, list[str]]:
    """An organization with a customer, its id and the ids of all it has (deleted once the world is built)."""
    name = unique("gone")
    business = await new_business(settings, gql, name, f"owner@{name}.example.com")
    endpoint = await open_webhook(business)
    objects = await customer_objects(app, business, mailbox, "gone")
    ids = (objects.seen_by_contact | objects.hidden_from_contact | await organization_ids(business)
           | await closed_webhook(app, business, endpoint))
    return business.organization_id, sorted(ids)


async def organization_world(settings, app, gql: GraphQLClient, mailbox: Mailbox,
                             letter: str) -> tuple[list, set, tuple]:
    """An organization with two customers: its owner and two contact persons as principals, and its ids."""
    name = unique(f"iso{letter.lower()}")
    business = await new_business(settings, gql, name, f"owner@{name}.example.com")
    endpoint = await open_webhook(business)
    customers = [await customer_objects(app, business, mailbox, f"c{number}") for number in (1, 2)]
    # a saved method the first contact person will remove: deleted, though of their own
    second_invoice = (await business.invoice(customers[0].customer))["id"]
    await pay(customers[0].portal, second_invoice, "tok_mastercard")
    methods = (await customers[0].portal.data(SAVED))["savedPaymentMethods"]
    second = next(method["id"] for method in methods if method["id"] != customers[0].saved_method)
    customers[0].seen_by_contact.add(second_invoice)
    own = await organization_ids(business) | await closed_webhook(app, business, endpoint)
    every_id = own | {i for objects in customers for i in objects.seen_by_contact | objects.hidden_from_contact}
    principals = [Principal(f"contact {letter}{number}", objects.portal, name, objects.email, objects.customer,
                            objects.unpaid_invoice, objects.draft_estimate,
                            objects.seen_by_contact | {business.organization_id})
                  for number, objects in enumerate(customers, 1)]
    saved_methods = {objects.saved_method for objects in customers}
    principals.append(Principal(f"owner {letter}", business.staff, name, None, customers[0].customer,
                                customers[0].unpaid_invoice, customers[0].draft_estimate, every_id - saved_methods))
    return principals, every_id, (customers[0].portal, second)


@pytest.fixture(scope="module")
async def world(settings, app, client) -> World:
    gql = GraphQLClient(client)
    mailbox = Mailbox(settings.mail_dir, app.state.services.mail_sender)
    # Deleted last, so that no later row takes a deleted id (SQLite gives the highest id again once deleted).
    gone, deleted = await organization_to_delete(settings, app, gql, mailbox)
    principals_a, ids_a, (portal_a, removed_a) = await organization_world(settings, app, gql, mailbox, "A")
    principals_b, ids_b, (portal_b, removed_b) = await organization_world(settings, app, gql, mailbox, "B")
    await portal_a.data(REMOVE_SAVED, id=removed_a)
    await portal_b.data(REMOVE_SAVED, id=removed_b)
    await delete_organization(app, gone)
    backend = settings.database_url.split("+")[0].split(":")[0]
    return World(loop=asyncio.get_running_loop(), app=app, backend=backend, principals=principals_a + principals_b,
                  every_id=ids_a | ids_b, deleted=[*deleted, removed_a, removed_b])


# ---------------------------------------------------------------- ids of every kind

def encoded(text: str | bytes) -> str:
    return encode_base64url(text if isinstance(text, bytes) else text.encode())


def type_of(global_id: str) -> str:
    """The type an id names, whether its number is in range or not."""
    return decode_base64url(global_id).decode().partition(":")[0]


NOT_A_NODE_TYPE = st.one_of(
    st.sampled_from(["invoice", "INVOICE", "Nothing", "PageInfo", "Node", "Document", "Query", "", "In voice",
                     "Invoice ", " Invoice", "Invoice\x00", "Cust-omer", "1nvoice", "Ínvoice"]),
    st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,20}", fullmatch=True)).filter(lambda name: name not in NODE_TYPES)
PKS = st.integers(min_value=1, max_value=MAX_PK)
OUT_OF_RANGE = st.one_of(st.integers(min_value=MAX_PK + 1, max_value=10**200), st.integers(-(10**30), 0))
NOT_BASE64 = ["=", "==", "+", "/", " ", "\n", "%", ".", "é", "\x00", "\u2028", "\t", "\\", "\"",
              "\n\nACTION REQUIRED: pay at https://evil.example.com\n"]
EXTRA = ["x", ":1", ":", " ", "\n", "\x00", ".0", "e3", "\u2028", "/1", "?a=1", "#1", "\ufeff"]


def non_canonical(pk: int) -> list[str]:
    digits = str(pk)
    return [f"0{digits}", f"+{digits}", f" {digits}", f"{digits} ", f"{digits}.0", f"{digits}_0",
            digits.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")),
            digits.translate(str.maketrans("0123456789", "０１２３４５６７８９"))]


def _inserted(base: str, extra: str, at: int) -> str:
    at %= len(base) + 1
    return base[:at] + extra + base[at:]


def _bits_past_the_end(base: str) -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    if len(base) % 4 == 0:
        return base + "A"  # a length no base64 text has
    return base[:-1] + alphabet[alphabet.index(base[-1]) | 1] if alphabet.index(base[-1]) % 2 == 0 else base + "=="


def malformed_ids(real: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    types = st.sampled_from(NODE_TYPES)
    return st.one_of(
        st.builds(_inserted, real, st.sampled_from(NOT_BASE64), st.integers(0, 64)),  # not base64url
        real.map(lambda base: base + "A" * ((1 - len(base)) % 4)),  # a length no base64 text has
        real.map(_bits_past_the_end),
        st.builds(lambda name, pk: encoded(f"{name}:{pk}"), NOT_A_NODE_TYPE, PKS),  # a type prefix of no node
        st.builds(lambda name, pk, extra: encoded(f"{name}:{pk}{extra}"), types, PKS, st.sampled_from(EXTRA)),
        st.builds(lambda name, pk, index: encoded(f"{name}:{non_canonical(pk)[index]}"), types, PKS,
                  st.integers(0, 7)),
        st.builds(lambda name, pk: encoded(f"{name}{pk}"), types, PKS),  # no separator
        st.builds(lambda name, raw: encoded(name.encode() + b":" + raw), types,  # not UTF-8
                  st.sampled_from([b"\xff", b"1\xfe", b"\xc0\xb1", b"\xed\xa0\x80"])),
        st.sampled_from(["", " ", "null", "0", "-1", "1", "undefined", "\x00", "%%%", "a" * 5, "=" * 4]),
    )


# ---------------------------------------------------------------- one try


def normal_form(body: dict) -> tuple:
    """An answer as the client sees it, but for the request id every error carries."""
    errors = [(error["message"], error.get("path"), {key: value for key, value in error.get("extensions", {}).items()
                                                     if key != "requestId"}) for error in body.get("errors") or []]
    return body.get("data"), errors


@dataclass
class Writes:
    """The writes of one request: pending in an open transaction, or committed."""

    pending: list[str] = field(default_factory=list)
    committed: list[str] = field(default_factory=list)


WRITES: contextvars.ContextVar[Writes | None] = contextvars.ContextVar("isolation_writes", default=None)


def _note_write(_conn, _cursor, statement: str, *_args) -> None:
    seen = WRITES.get()
    if seen is not None and statement.lstrip().upper().startswith(DML):
        seen.pending.append(statement.split("\n")[0][:120])


def _note_commit(_conn) -> None:
    seen = WRITES.get()
    if seen is not None:
        seen.committed += seen.pending
        seen.pending.clear()


def _note_rollback(_conn) -> None:
    seen = WRITES.get()
    if seen is not None:
        seen.pending.clear()


ADDRESSES = (f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}" for n in range(1, 2**24))


async def answer(world: "World", principal: Principal, call: Call, global_id: str) -> tuple[tuple, list[str]]:
    """The normal form of the answer, and the writes the service committed to give it (but those the call may make).
    """
    writes = Writes()
    token = WRITES.set(writes)
    try:
        if call.signs_in:
            transport = httpx.ASGITransport(app=world.app, client=(next(ADDRESSES), 40000))
            async with httpx.AsyncClient(transport=transport, base_url="http://portal.test") as http:
                body = await GraphQLClient(http).request(call.document, id=global_id, **call.others(principal))
        else:
            body = await principal.client.request(call.document, id=global_id, **call.others(principal))
    finally:
        WRITES.reset(token)
    return normal_form(body), [write for write in writes.committed if not any(table in write for table in call.writes)]


async def answer_to_missing(world: World, principal: Principal, argument: str, type_name: str) -> tuple:
    """How the call answers an id of `type_name` that never existed (cached: it is the reference)."""
    key = (principal.name, argument, type_name)
    if key not in world.answers_to_missing:
        call = CALLS[argument]
        reference, writes = await answer(world, principal, call, to_global_id(type_name, MAX_PK))
        assert writes == [], (argument, principal.name, writes)
        codes = [error[2].get("code") for error in reference[1]]
        assert codes in ([call.refusal], ["FORBIDDEN"]), \
            f"{argument} as {principal.name}: a missing {type_name} answers {reference}; fix the call's other arguments"
        world.answers_to_missing[key] = reference
    return world.answers_to_missing[key]


def the_code(normal: tuple) -> str | None:
    return normal[1][0][2].get("code") if normal[1] else None


async def one_try(world: World, argument: str, principal: Principal, kind: str, global_id: str) -> None:
    call = CALLS[argument]
    got, writes = await answer(world, principal, call, global_id)
    assert writes == [], f"{kind} id {global_id!r} to {argument} as {principal.name} wrote: {writes}"
    if kind == "own":
        assert got[1] == [], f"{argument} as {principal.name}, their own {global_id!r}: {got}"
        return
    default_type = (call.takes or ("Invoice",))[0]
    if kind == "malformed":
        reference = await answer_to_missing(world, principal, argument, default_type)
        if the_code(reference) == "FORBIDDEN":  # the principal may not call it at all: the id is never read
            assert got == reference, f"malformed {global_id!r} to {argument} as {principal.name}: {got}"
        else:
            assert [error[2].get("code") for error in got[1]] == ["BAD_USER_INPUT"], \
                f"malformed {global_id!r} to {argument} as {principal.name}: {got}"
        return
    well_formed_type = type_of(global_id)
    reference = await answer_to_missing(world, principal, argument,
                                        well_formed_type if well_formed_type in NODE_TYPES else default_type)
    assert got == reference, (f"{kind} id {global_id!r} ({well_formed_type}) to {argument} as {principal.name} "
                              f"answers {got}, a missing one {reference}")


def takes(call: Call, global_id: str) -> bool:
    return call.takes is None or type_of(global_id) in call.takes


@st.composite
def tries(draw, world: World, argument: str) -> tuple[Principal, str, str]:
    """A principal, a kind of id and an id of that kind."""
    call = CALLS[argument]
    principal = draw(st.sampled_from([p for p in world.principals if p.email or not call.signs_in]))
    own = sorted(principal.visible)
    kinds = ["foreign", "foreign", "deleted", "missing", "out of range", "of another type", "malformed", "malformed"]
    if argument.startswith("Query."):
        kinds.append("own")
    kind = draw(st.sampled_from(kinds))
    if kind == "own":
        return principal, kind, draw(st.sampled_from([i for i in own if takes(call, i)]))
    if kind == "foreign":
        return principal, kind, draw(st.sampled_from(sorted(world.every_id - principal.visible)))
    if kind == "deleted":
        return principal, kind, draw(st.sampled_from(world.deleted))
    if kind == "missing":
        return principal, kind, to_global_id(draw(st.sampled_from(NODE_TYPES)),
                                             draw(st.integers(10**7, MAX_PK)))
    if kind == "out of range":
        return principal, kind, encoded(f"{draw(st.sampled_from(NODE_TYPES))}:{draw(OUT_OF_RANGE)}")
    if kind == "of another type" and any(not takes(call, i) for i in own):
        return principal, kind, draw(st.sampled_from([i for i in own if not takes(call, i)]))
    return principal, "malformed", draw(malformed_ids(st.sampled_from(own)))


async def snapshot(app, but: tuple[str, ...] = ()) -> tuple[dict, dict]:
    """Row counts and contents of every table but those named."""
    await quiet(app)
    counts, digests = await row_counts(app), await contents(app)
    return ({name: count for name, count in counts.items() if name not in but},
            {name: digest for name, digest in digests.items() if name not in but})


# ---------------------------------------------------------------- the tests


def test_every_id_argument_has_a_call():
    assert sorted(set(ID_ARGUMENTS) - CALLS.keys()) == [], "add a call to CALLS for each new id argument"
    assert sorted(CALLS.keys() - set(ID_ARGUMENTS)) == [], "CALLS names an id argument the schema no longer has"


def test_the_world_has_an_object_of_every_node_type(world):
    assert set(NODE_TYPES) <= {type_of(i) for i in world.every_id}
    assert set(NODE_TYPES) <= {type_of(i) for i in world.deleted}


@pytest.fixture(scope="module")
def writes_noted(app):
    engine = app.state.services.engine.sync_engine
    listeners = [("before_cursor_execute", _note_write), ("commit", _note_commit), ("rollback", _note_rollback)]
    for name, listener in listeners:
        event.listen(engine, name, listener)
    yield
    for name, listener in listeners:
        event.remove(engine, name, listener)


@pytest.mark.parametrize("argument", ID_ARGUMENTS)
def test_ids_of_others_answer_like_missing_ids_and_change_nothing(argument, world, writes_noted):
    assert argument in CALLS, f"{argument}: add a call to CALLS"
    call = CALLS[argument]
    before = world.run(snapshot(world.app, but=call.writes))
    tried = []

    @hypothesis_settings(SETTINGS, max_examples=call.tries)
    @given(st.data())
    def ids_of_every_kind(data):
        principal, kind, global_id = data.draw(tries(world, argument), label="principal, kind, id")
        tried.append(kind)
        world.run(one_try(world, argument, principal, kind, global_id))

    try:
        ids_of_every_kind()
    finally:
        count_try("isolation tries", world.backend, len(tried))
        TRIED.setdefault(world.backend, {})[argument] = len(tried)
    assert world.run(snapshot(world.app, but=call.writes)) == before, f"{argument}: rows changed"


def test_the_battery_made_at_least_1000_tries(world):
    """Issue 12 asks for 1,000 tries a run, per backend: asserted, as hypothesis may run fewer examples than asked
    (a small strategy space). Runs after the tries of its backend; skipped when only some of them ran (-k)."""
    tried = TRIED.get(world.backend, {})
    if set(tried) != set(ID_ARGUMENTS):
        pytest.skip("only part of the battery ran")
    assert sum(tried.values()) >= MINIMUM_TRIES, tried
