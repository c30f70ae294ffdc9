"""Each root mutation field commits once, on success, in one place (schema/commit.py)."""
import contextlib
import contextvars
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import GraphQLClient, Mailbox, unique
from factories import (
    CONTACT_PASSWORD,
    ENABLE_PORTAL,
    OWNER_PASSWORD,
    WEBHOOK_INPUT,
    Business,
    invite_token,
    new_business,
    webhook_with_a_settled_delivery,
)
from helpers import contents, quiet, row_counts
from sqlalchemy import event, inspect
from sqlalchemy.orm import Session
from sqlmodel import SQLModel

from portal.resolvers.context import Context
from portal.schema import Mutation, schema
from portal.schema.commit import CommitOnSuccess

ROOT = Path(__file__).parent.parent
WRITES = contextvars.ContextVar("writes_seen", default=None)
DML = ("INSERT", "UPDATE", "DELETE")

KEEP_ONE_FAIL_ONE = """mutation($input: CustomerInput!, $missing: ID!) {
  kept: createCustomer(input: $input) { id }
  failed: voidInvoice(id: $missing) { id }
}"""
CUSTOMERS = "{ customers(first: 100) { totalCount edges { node { displayName } } } }"
ADD_COMMENT = "mutation($s: ID!) { addComment(subjectId: $s, body: \"Lost\") { id } }"
SEND_INVOICE = "mutation($id: ID!) { sendInvoice(id: $id) { status } }"
RECORD_PAYMENT = "mutation($id: ID!) { recordPayment(input: {invoiceId: $id, amount: \"10\"}) { id } }"
VIEW = "mutation($id: ID!) { markViewed(documentId: $id) { viewedAt } }"
INVOICE = "query($id: ID!) { node(id: $id) { ... on Invoice { status amountPaid viewedAt } } }"


def _note_writes(conn, cursor, statement: str, *args) -> None:
    seen = WRITES.get()
    if seen is not None and statement.lstrip().upper().startswith(DML):
        seen.append(statement)


def _throttle_bookkeeping(seen: list[str], session) -> bool:
    """The sign-in throttle's own transactions (models/throttle.py): a try's rows are written before its
    password is checked and taken back after, apart from the field's commit on purpose."""
    pending = session.new or session.dirty or session.deleted
    return bool(seen) and not pending and all("failed_sign_ins" in statement for statement in seen)


def _refuse_commit_after_writes(session) -> None:
    seen = WRITES.get()
    if seen is not None and _throttle_bookkeeping(seen, session):
        seen.clear()
        return
    if seen is not None and (seen or session.new or session.dirty or session.deleted):
        seen.clear()
        passing = PASSING.get()
        if passing[0] > 0:
            passing[0] -= 1
            return
        REFUSED.get().append("the field's commit" if FIELD_COMMIT.get() else "another commit")
        raise RuntimeError("the database refused the commit")


PASSING: contextvars.ContextVar[list[int]] = contextvars.ContextVar("commits_passing")
REFUSED: contextvars.ContextVar[list[str]] = contextvars.ContextVar("commits_refused")
FIELD_COMMIT = contextvars.ContextVar("field_commit", default=False)


@contextlib.contextmanager
def commits_fail(app, after: int = 0):
    """Commits that would keep a write fail (after the first `after`), as when the database goes away.

    Only the code run inside `with` is affected (a context variable), and only transactions that
    wrote: the read-only commit of signing the request in goes through.
    Yields the refused commits, each as "the field's commit" or "another commit" (told apart where the
    test marks the fields' commits, see mark_the_fields_commits).
    """
    engine = app.state.services.engine.sync_engine
    refused: list[str] = []
    token, passing, refusals = WRITES.set([]), PASSING.set([after]), REFUSED.set(refused)
    event.listen(engine, "before_cursor_execute", _note_writes)
    event.listen(Session, "before_commit", _refuse_commit_after_writes)
    try:
        yield refused
    finally:
        event.remove(Session, "before_commit", _refuse_commit_after_writes)
        event.remove(engine, "before_cursor_execute", _note_writes)
        WRITES.reset(token)
        PASSING.reset(passing)
        REFUSED.reset(refusals)


def mark_the_fields_commits(monkeypatch) -> None:
    """Tell the commit of a mutation field (CommitOnSuccess calls Context.commit) from any other commit."""
    commit = Context.commit

    async def marked(self: Context) -> None:
        token = FIELD_COMMIT.set(True)
        try:
            await commit(self)
        finally:
            FIELD_COMMIT.reset(token)

    monkeypatch.setattr(Context, "commit", marked)


def test_no_resolver_commits():
    offenders = [path.name for path in (ROOT / "resolvers").glob("*.py") if re.search(r"\.commit\(", path.read_text())]
    assert offenders == []


def test_every_mutation_field_commits_on_success():
    missing = [field.python_name for field in Mutation.__strawberry_definition__.fields
               if not any(isinstance(extension, CommitOnSuccess) for extension in field.extensions)]
    assert missing == []


async def test_a_failing_field_keeps_what_the_fields_before_it_did(business):
    body = await business.staff.request(KEEP_ONE_FAIL_ONE, input={"displayName": "Kept Ltd"},
                                        missing="SW52b2ljZTo5OTk5OTk")

    assert body["data"] is None or body["data"].get("kept")
    assert body["errors"][0]["path"] == ["failed"]
    names = [edge["node"]["displayName"] for edge in (await business.staff.data(CUSTOMERS))["customers"]["edges"]]
    assert "Kept Ltd" in names


async def test_a_field_whose_commit_fails_keeps_the_fields_before_it(business, mailbox, app):
    customer = await business.customer()
    portal, _ = await business.portal_user(customer["id"], "next@acme.example.com", mailbox)
    invoice = await business.invoice(customer["id"])
    both = """mutation($s: ID!) { kept: markViewed(documentId: $s) { viewedAt }
                                lost: addComment(subjectId: $s, body: "Lost") { id } }"""

    with commits_fail(app, after=1):
        body = await portal.request(both, s=invoice["id"])

    # Both fields are non-null, so the failed one nulls the whole answer; the database tells the rest.
    assert [error["path"] for error in body["errors"]] == [["lost"]]
    after = "query($id: ID!) { node(id: $id) { ... on Invoice { viewedAt comments { body } } } }"
    invoice_after = (await business.staff.data(after, id=invoice["id"]))["node"]
    assert invoice_after["viewedAt"] is not None
    assert invoice_after["comments"] == []


async def test_a_failed_commit_is_the_fields_error_and_leaves_nothing_behind(business, mailbox, app):
    customer = await business.customer()
    portal, _ = await business.portal_user(customer["id"], "commit@acme.example.com", mailbox)
    draft = await business.invoice(customer["id"], send=False)
    sent = await business.invoice(customer["id"])
    attempts = [(business.staff, SEND_INVOICE, {"id": draft["id"]}),
                (business.staff, RECORD_PAYMENT, {"id": sent["id"]}),
                (portal, ADD_COMMENT, {"s": sent["id"]}),
                (portal, VIEW, {"id": sent["id"]})]
    before = await row_counts(app)

    for client, mutation, variables in attempts:
        with commits_fail(app):
            body = await client.request(mutation, **variables)
        code = body.get("errors", [{}])[0].get("extensions", {}).get("code")
        assert code == "INTERNAL_SERVER_ERROR", (mutation, body)

    assert await row_counts(app) == before
    unchanged_draft = (await business.staff.data(INVOICE, id=draft["id"]))["node"]
    unchanged_sent = (await business.staff.data(INVOICE, id=sent["id"]))["node"]
    assert unchanged_draft["status"] == "DRAFT"
    assert unchanged_sent == {"status": "SENT", "amountPaid": "0.00", "viewedAt": None}


# ---------------------------------------------------------------- every mutation field, its commit failing

# Mutation fields with no call below, and why. Every other field is called, and its commit made to fail.
EXCEPTIONS = {
    # The payment flow commits each step (reserve, charge, record) by design: services/checkout.py.
    "payInvoices": "commits its own steps",
}
PAY = """mutation($input: PayInvoicesInput!) { payInvoices(input: $input) { status } }"""
SAVED_METHODS = "{ savedPaymentMethods { id } }"
ACCEPT_ESTIMATE = "mutation($id: ID!) { acceptEstimate(id: $id) { status } }"
PROJECT = 'mutation($c: ID!) { createProject(customerId: $c, name: "Relaunch") { id } }'
TASK = 'mutation($p: ID!) { addProjectTask(projectId: $p, name: "Design") { id } }'
ONE_LINE = [{"name": "Work", "quantity": "2", "rate": "50"}]


@dataclass
class OneOfEach:
    """One business with one of each thing a mutation changes; its staff owner and a contact person signed in."""

    business: Business
    portal: GraphQLClient  # Pat, a contact person with ACTIVE access
    anonymous: GraphQLClient
    customer: str
    pat_email: str
    sam: str  # another ACTIVE contact person
    nel: str  # a contact person without portal access
    invitation_token: str  # Ivy's, not accepted yet
    draft_invoice: str
    sent_invoice: str
    draft_estimate: str
    sent_estimate: str
    accepted_estimate: str
    saved_method: str
    project: str
    task: str
    webhook_endpoint: str  # enabled, for REVIEW_SUBMITTED only
    webhook_delivery: str  # of that endpoint, settled (no attempt is due while the tests run)

    def client(self, role: str) -> GraphQLClient:
        return {"staff": self.business.staff, "portal": self.portal, "anonymous": self.anonymous}[role]


@dataclass(frozen=True)
class Call:
    """A small, valid call of a mutation field that writes when it succeeds."""

    role: str
    document: str
    variables: Callable[[OneOfEach], dict]


def _none(_: OneOfEach) -> dict:
    return {}


CALLS: dict[str, Call] = {
    # sign-in, both sides: the success paths (a failed sign-in's note is kept on purpose, see models/throttle.py)
    "staffLogin": Call("anonymous", """mutation($e: String!, $p: String!) { staffLogin(email: $e, password: $p) {
        token } }""", lambda s: {"e": s.business.owner_email, "p": OWNER_PASSWORD}),
    "login": Call("anonymous", """mutation($n: String!, $e: String!, $p: String!) {
        login(portalName: $n, email: $e, password: $p) { token } }""",
                  lambda s: {"n": s.business.portal_name, "e": s.pat_email, "p": CONTACT_PASSWORD}),
    "acceptInvite": Call("anonymous", "mutation($t: String!) { acceptInvite(token: $t, password: \"ivy-password-1\") "
                         "{ token } }", lambda s: {"t": s.invitation_token}),
    "logout": Call("portal", "mutation { logout }", _none),
    "changePassword": Call("portal", "mutation($p: String!) { changePassword(currentPassword: $p, "
                           "newPassword: \"another-password-1\") }", lambda s: {"p": CONTACT_PASSWORD}),
    # as a contact person
    "markViewed": Call("portal", "mutation($d: ID!) { markViewed(documentId: $d) { viewedAt } }",
                       lambda s: {"d": s.sent_invoice}),
    "acceptEstimate": Call("portal", ACCEPT_ESTIMATE, lambda s: {"id": s.sent_estimate}),
    "declineEstimate": Call("portal", "mutation($id: ID!) { declineEstimate(id: $id, reason: \"Too dear\") "
                            "{ status } }", lambda s: {"id": s.sent_estimate}),
    "addComment": Call("portal", "mutation($s: ID!) { addComment(subjectId: $s, body: \"Lost\") { id } }",
                       lambda s: {"s": s.sent_invoice}),
    "forwardDocument": Call("portal", "mutation($d: ID!, $e: String!) { forwardDocument(documentId: $d, email: $e, "
                            "name: \"Ann\", message: \"For you\") { id } }",
                            lambda s: {"d": s.sent_invoice, "e": f"ann@{s.business.portal_name}.example.com"}),
    "removeSavedPaymentMethod": Call("portal", "mutation($id: ID!) { removeSavedPaymentMethod(id: $id) }",
                                     lambda s: {"id": s.saved_method}),
    "updateMyAccount": Call("portal", "mutation { updateMyAccount(input: {firstName: \"Patricia\", "
                            "phone: \"555-0100\"}) { id } }", _none),
    "updateCompanyDetails": Call("portal", "mutation { updateCompanyDetails(input: {companyName: \"Acme Two\"}) "
                                 "{ id } }", _none),
    "submitReview": Call("portal", "mutation { submitReview(rating: 5, comment: \"Great\") { id } }", _none),
    # as staff
    "updatePortalSettings": Call("staff", "mutation { updatePortalSettings(input: {bannerMessage: \"Lost\", "
                                 "allowForwarding: false}) { portalName } }", _none),
    "updateOrganization": Call("staff", "mutation { updateOrganization(input: {name: \"Renamed\", "
                               "phone: \"555-0199\"}) { name } }", _none),
    "createCustomer": Call("staff", "mutation { createCustomer(input: {displayName: \"Lost Ltd\"}) { id } }", _none),
    "addContactPerson": Call("staff", "mutation($c: ID!) { addContactPerson(customerId: $c, input: {firstName: "
                             "\"Lou\", email: \"lou@lost.example.com\"}) { id } }", lambda s: {"c": s.customer}),
    "setAchEnabled": Call("staff", "mutation($c: ID!) { setAchEnabled(customerId: $c, enabled: true) { id } }",
                          lambda s: {"c": s.customer}),
    "enablePortalAccess": Call("staff", ENABLE_PORTAL, lambda s: {"ids": [s.nel]}),
    "disablePortalAccess": Call("staff", "mutation($ids: [ID!]!) { disablePortalAccess(contactPersonIds: $ids) "
                                "{ id } }", lambda s: {"ids": [s.sam]}),
    "createEstimate": Call("staff", "mutation($i: EstimateInput!) { createEstimate(input: $i, send: true) { id } }",
                           lambda s: {"i": {"customerId": s.customer, "lineItems": ONE_LINE}}),
    "updateEstimate": Call("staff", "mutation($id: ID!, $i: EstimateInput!) { updateEstimate(id: $id, input: $i) "
                           "{ id } }", lambda s: {"id": s.draft_estimate,
                                                 "i": {"customerId": s.customer, "lineItems": ONE_LINE}}),
    "sendEstimate": Call("staff", "mutation($id: ID!) { sendEstimate(id: $id) { status } }",
                         lambda s: {"id": s.draft_estimate}),
    "convertEstimateToInvoice": Call("staff", "mutation($id: ID!) { convertEstimateToInvoice(id: $id) { id } }",
                                     lambda s: {"id": s.accepted_estimate}),
    "createInvoice": Call("staff", "mutation($i: InvoiceInput!) { createInvoice(input: $i, send: true) { id } }",
                          lambda s: {"i": {"customerId": s.customer, "lineItems": ONE_LINE}}),
    "sendInvoice": Call("staff", SEND_INVOICE, lambda s: {"id": s.draft_invoice}),
    "voidInvoice": Call("staff", "mutation($id: ID!) { voidInvoice(id: $id) { status } }",
                        lambda s: {"id": s.sent_invoice}),
    "recordPayment": Call("staff", RECORD_PAYMENT, lambda s: {"id": s.sent_invoice}),
    "createProject": Call("staff", PROJECT, lambda s: {"c": s.customer}),
    "addProjectTask": Call("staff", TASK, lambda s: {"p": s.project}),
    "logTime": Call("staff", "mutation($t: ID!) { logTime(taskId: $t, date: \"2026-01-05\", hours: \"2\") { id } }",
                    lambda s: {"t": s.task}),
    "requestReview": Call("staff", "mutation($ids: [ID!]!) { requestReview(contactPersonIds: $ids) }",
                          lambda s: {"ids": [s.sam]}),
    "createWebhookEndpoint": Call("staff", "mutation($i: WebhookEndpointInput!) { createWebhookEndpoint(input: $i) "
                                  "{ secret } }", lambda s: {"i": WEBHOOK_INPUT}),
    "updateWebhookEndpoint": Call("staff", "mutation($id: ID!, $i: WebhookEndpointInput!) { updateWebhookEndpoint("
                                  "id: $id, input: $i, enabled: false) { id } }",
                                  lambda s: {"id": s.webhook_endpoint, "i": {**WEBHOOK_INPUT, "description": "Lost"}}),
    "rotateWebhookSecret": Call("staff", "mutation($id: ID!) { rotateWebhookSecret(id: $id) { secret } }",
                                lambda s: {"id": s.webhook_endpoint}),
    "deleteWebhookEndpoint": Call("staff", "mutation($id: ID!) { deleteWebhookEndpoint(id: $id) }",
                                  lambda s: {"id": s.webhook_endpoint}),
    "redeliverWebhook": Call("staff", "mutation($id: ID!) { redeliverWebhook(deliveryId: $id) { status } }",
                             lambda s: {"id": s.webhook_delivery}),
}
MUTATION_FIELDS = [schema.config.name_converter.get_graphql_name(field)
                   for field in Mutation.__strawberry_definition__.fields]


@pytest.fixture(scope="module")
async def one_of_each(settings, app, client) -> OneOfEach:
    """Made once per backend: a call whose commit fails changes nothing, so the calls can share it."""
    name = unique("commits")
    business = await new_business(settings, GraphQLClient(client), name, f"owner@{name}.example.com")
    mailbox = Mailbox(settings.mail_dir, app.state.services.mail_sender)
    customer = (await business.customer())["id"]
    pat_email = f"pat@{name}.example.com"
    portal, _ = await business.portal_user(customer, pat_email, mailbox)
    _, sam = await business.portal_user(customer, f"sam@{name}.example.com", mailbox)
    ivy = await business.contact(customer, f"ivy@{name}.example.com", first_name="Ivy")
    await business.staff.data(ENABLE_PORTAL, ids=[ivy["id"]])
    paid = await business.invoice(customer, lines=ONE_LINE)
    await portal.data(PAY, input={"invoiceIds": [paid["id"]], "paymentMethod": {"gatewayToken": "tok_visa"},
                                  "savePaymentMethod": True, "idempotencyKey": uuid.uuid4().hex})
    accepted = await business.estimate(customer)
    await portal.data(ACCEPT_ESTIMATE, id=accepted["id"])
    project = (await business.staff.data(PROJECT, c=customer))["createProject"]["id"]
    return OneOfEach(
        business=business, portal=portal, anonymous=business.staff.as_(None), customer=customer,
        pat_email=pat_email, sam=sam["id"],
        nel=(await business.contact(customer, f"nel@{name}.example.com", first_name="Nel"))["id"],
        invitation_token=invite_token((await mailbox.to(ivy["email"]))[-1]),
        draft_invoice=(await business.invoice(customer, send=False))["id"],
        sent_invoice=(await business.invoice(customer))["id"],
        draft_estimate=(await business.estimate(customer, send=False))["id"],
        sent_estimate=(await business.estimate(customer))["id"],
        accepted_estimate=accepted["id"],
        saved_method=(await portal.data(SAVED_METHODS))["savedPaymentMethods"][0]["id"],
        project=project, task=(await business.staff.data(TASK, p=project))["addProjectTask"]["id"],
        **await webhook_with_a_settled_delivery(app, business, portal))


async def test_the_contents_cover_every_table_of_the_database(app):
    async with app.state.services.engine.connect() as connection:
        names = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
    assert set(names) - {"alembic_version"} == set(SQLModel.metadata.tables)


def test_every_mutation_field_is_called_below_or_named_as_an_exception():
    assert sorted(set(MUTATION_FIELDS) - CALLS.keys() - EXCEPTIONS.keys()) == []
    assert sorted((CALLS.keys() | EXCEPTIONS.keys()) - set(MUTATION_FIELDS)) == []
    assert sorted(CALLS.keys() & EXCEPTIONS.keys()) == []


@pytest.mark.parametrize("field", [name for name in MUTATION_FIELDS if name not in EXCEPTIONS])
async def test_a_mutation_whose_commit_fails_answers_masked_and_leaves_nothing_behind(field, one_of_each, app,
                                                                                      monkeypatch):
    assert field in CALLS, f"{field}: add a call to CALLS (or name it in EXCEPTIONS, saying why)"
    call = CALLS[field]
    mark_the_fields_commits(monkeypatch)
    await quiet(app)
    counts_before, contents_before = await row_counts(app), await contents(app)

    with commits_fail(app) as refused:
        body = await one_of_each.client(call.role).request(call.document, **call.variables(one_of_each))

    assert [(error["path"], error["message"], error["extensions"]["code"]) for error in body.get("errors", [])] == \
        [([field], "Internal server error.", "INTERNAL_SERVER_ERROR")], body
    assert body["errors"][0]["extensions"]["requestId"]
    assert refused == ["the field's commit"]  # not a commit of the resolver's own, before the field's
    assert await row_counts(app) == counts_before
    assert await contents(app) == contents_before
