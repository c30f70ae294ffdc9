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


def _refuse_commit_after_writes(session) -> None:
    seen = WRITES.get()
    if seen is not None and (seen or session.new or session.dirty or session.deleted):
        seen.clear()
        passing = PASSING.get()
        if passing[0] > 0:
            passing[0] -= 1
            return
        raise RuntimeError("the database refused the commit")


PASSING: contextvars.ContextVar[list[int]] = contextvars.ContextVar("commits_passing")


@contextlib.contextmanager
def commits_fail(app, after: int = 0):
    """Commits that would keep a write fail (after the first `after`), as when the database goes away.

    Only the code run inside `with` is affected (a context variable), and only transactions that
    wrote: the read-only commit of signing the request in goes through.
    """
    engine = app.state.services.engine.sync_engine
    token, passing = WRITES.set([]), PASSING.set([after])
    event.listen(engine, "before_cursor_execute", _note_writes)
    event.listen(Session, "before_commit", _refuse_commit_after_writes)
    try:
        yield
    finally:
        event.remove(Session, "before_commit", _refuse_commit_after_writes)
        event.remove(engine, "before_cursor_execute", _note_writes)
        WRITES.reset(token)
        PASSING.reset(passing)


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
        assert body.get("errors", [{}])[0].get("extensions", {}).get("code") == "INTERNAL_SERVER_ERROR", (mutation, body)

    assert await row_counts(app) == before
    unchanged_draft = (await business.staff.data(INVOICE, id=draft["id"]))["node"]
    unchanged_sent = (await business.staff.data(INVOICE, id=sent["id"]))["node"]
    assert unchanged_draft["status"] == "DRAFT"
    assert unchanged_sent == {"status": "SENT", "amountPaid": "0.00", "viewedAt": None}

