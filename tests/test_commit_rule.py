"""Each root mutation field commits once, on success, in one place (schema/commit.py)."""
import contextlib
import contextvars
import re
from pathlib import Path

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session
from sqlmodel import SQLModel

from portal.schema import Mutation
from portal.schema.commit import CommitOnSuccess

ROOT = Path(__file__).parent.parent
FAILING = contextvars.ContextVar("failing_commits", default=False)

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


def _refuse_commit(session, *args) -> None:
    if FAILING.get():
        raise RuntimeError("the database refused the commit")


@contextlib.contextmanager
def commits_fail():
    """Commits of the code run inside `with` fail, as when the database goes away at that moment."""
    token = FAILING.set(True)
    event.listen(Session, "before_commit", _refuse_commit)
    try:
        yield
    finally:
        event.remove(Session, "before_commit", _refuse_commit)
        FAILING.reset(token)


async def row_counts(app) -> dict[str, int]:
    async with app.state.services.session_factory() as session:
        return {table.name: await session.scalar(select(func.count()).select_from(table))
                for table in SQLModel.metadata.sorted_tables}


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
        with commits_fail():
            body = await client.request(mutation, **variables)
        assert body["errors"][0]["extensions"]["code"] == "INTERNAL_SERVER_ERROR", body

    assert await row_counts(app) == before
    unchanged_draft = (await business.staff.data(INVOICE, id=draft["id"]))["node"]
    unchanged_sent = (await business.staff.data(INVOICE, id=sent["id"]))["node"]
    assert unchanged_draft["status"] == "DRAFT"
    assert unchanged_sent == {"status": "SENT", "amountPaid": "0.00", "viewedAt": None}

