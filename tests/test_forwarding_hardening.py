"""Issue 12, items 4, 5 and 7, over HTTP against a running server: forwarding reveals nothing, overrides
nothing and relays nothing; and what follows from contact emails unique per customer (sign-in, staff,
the migration)."""
import asyncio
import dataclasses
import uuid
from datetime import UTC, datetime

import httpx
import pytest
import sqlalchemy as sa
from alembic import command
from conftest import GraphQLClient
from factories import ACCEPT_INVITE, ADD_CONTACT, CONTACT_PASSWORD, ENABLE_PORTAL, invite_token
from live import uvicorn_http
from sqlalchemy.ext.asyncio import create_async_engine

from portal.migrations import alembic_config
from portal.models import forwarding
from portal.models.columns import UTCDateTime

FORWARD = """mutation($id: ID!, $email: String!, $name: String, $m: String) {
  forwardDocument(documentId: $id, email: $email, name: $name, message: $m) {
    email firstName lastName phone mobile portalAccess } }"""
MY_CONTACTS = "{ myCustomer { contactPersons { email firstName lastName phone mobile portalAccess } } }"
CUSTOMER_CONTACTS = """query($id: ID!) { node(id: $id) { ... on Customer {
  contactPersons { id email firstName lastName phone portalAccess } } } }"""
DISABLE = "mutation($ids: [ID!]!) { disablePortalAccess(contactPersonIds: $ids) { id portalAccess } }"
LOGIN = """mutation($portal: String!, $email: String!, $password: String!, $customerId: ID) {
  login(portalName: $portal, email: $email, password: $password, customerId: $customerId) {
    token viewer { ... on ContactPerson { id email } } } }"""
MY_CUSTOMER = "{ myCustomer { id displayName } }"
OTHER_PASSWORD = "another-password-2"
SHAPE = ("lastName", "phone", "mobile", "portalAccess")


@pytest.fixture(scope="module")
async def http_base(app):
    async with uvicorn_http(app) as url:
        yield url


@pytest.fixture
async def live(http_base):
    async with httpx.AsyncClient(base_url=http_base) as http:
        yield http


@pytest.fixture
def shop(business, live):
    """The test's business, its owner's requests sent to the running server."""
    return dataclasses.replace(business, staff=GraphQLClient(live, business.staff.token))


def others(scope: str) -> str:
    return f"{scope}-{uuid.uuid4().hex[:8]}@elsewhere.example.com"


async def contact_of(shop, customer_id: str, email: str) -> dict:
    data = await shop.staff.data(CUSTOMER_CONTACTS, id=customer_id)
    [contact] = [c for c in data["node"]["contactPersons"] if c["email"] == email]
    return contact


async def login(shop, email: str, password: str, customer_id: str | None = None) -> dict:
    return await shop.staff.as_(None).request(LOGIN, portal=shop.portal_name, email=email, password=password,
                                              customerId=customer_id)


async def test_forwarding_to_another_customers_contact_answers_as_to_a_fresh_address(shop, mailbox):
    acme, globex = await shop.customer("Acme"), await shop.customer("Globex")
    invoice = await shop.invoice(acme["id"])
    pat, _ = await shop.portal_user(acme["id"], others("pat"), mailbox)
    bob_email, fresh_email, dora_email = others("bob"), others("fresh"), others("dora")
    await shop.portal_user(globex["id"], bob_email, mailbox)  # active at Globex, with a password
    dora = await shop.contact(globex["id"], dora_email)
    await shop.staff.data(DISABLE, ids=[dora["id"]])  # disabled at Globex
    bob_before = await contact_of(shop, globex["id"], bob_email)

    answers = [await pat.request(FORWARD, id=invoice["id"], email=email) for email in (fresh_email, bob_email,
                                                                                       dora_email)]

    assert all("errors" not in body for body in answers), answers
    shapes = [{key: body["data"]["forwardDocument"][key] for key in SHAPE} for body in answers]
    assert shapes == [{"lastName": None, "phone": None, "mobile": None, "portalAccess": "INVITED"}] * 3
    listed = {c["email"]: c for c in (await pat.data(MY_CONTACTS))["myCustomer"]["contactPersons"]}
    assert [{key: listed[email][key] for key in SHAPE} for email in (fresh_email, bob_email, dora_email)] == shapes
    assert listed[bob_email]["firstName"] == bob_email.split("@")[0]  # nothing of Globex's record
    # Each was invited, as anyone new is; at Globex nothing changed.
    for email in (fresh_email, bob_email, dora_email):
        assert "invites you" in (await mailbox.to(email))[-1]["Subject"]
    assert await contact_of(shop, globex["id"], bob_email) == bob_before
    assert (await contact_of(shop, globex["id"], dora_email))["portalAccess"] == "DISABLED"
    assert "errors" not in await login(shop, bob_email, CONTACT_PASSWORD, globex["id"])


async def test_accepting_the_forwarded_invitation_leaves_the_other_customers_password(shop, mailbox):
    acme, globex = await shop.customer("Acme"), await shop.customer("Globex")
    invoice = await shop.invoice(acme["id"])
    pat, _ = await shop.portal_user(acme["id"], others("pat"), mailbox)
    bob_email = others("bob")
    await shop.portal_user(globex["id"], bob_email, mailbox)
    await pat.data(FORWARD, id=invoice["id"], email=bob_email)

    token = invite_token((await mailbox.to(bob_email))[-1])
    await shop.staff.as_(None).data(ACCEPT_INVITE, token=token, password=OTHER_PASSWORD)

    at_globex = await login(shop, bob_email, CONTACT_PASSWORD)
    at_acme = await login(shop, bob_email, OTHER_PASSWORD)
    assert "errors" not in at_globex and "errors" not in at_acme, (at_globex, at_acme)
    globex_view = await shop.staff.as_(at_globex["data"]["login"]["token"]).data(MY_CUSTOMER)
    acme_view = await shop.staff.as_(at_acme["data"]["login"]["token"]).data(MY_CUSTOMER)
    assert (globex_view["myCustomer"]["id"], acme_view["myCustomer"]["id"]) == (globex["id"], acme["id"])


async def test_a_forward_never_reinvites_a_contact_staff_disabled(shop, mailbox, app):
    acme = await shop.customer("Acme")
    invoice = await shop.invoice(acme["id"])
    pat, _ = await shop.portal_user(acme["id"], others("pat"), mailbox)
    dana_email = others("dana")
    _, dana = await shop.portal_user(acme["id"], dana_email, mailbox)
    await shop.staff.data(DISABLE, ids=[dana["id"]])
    mails_before = len(await mailbox.to(dana_email))

    forwarded = await pat.request(FORWARD, id=invoice["id"], email=dana_email, m="Please pay")

    assert "errors" not in forwarded, forwarded
    assert forwarded["data"]["forwardDocument"]["portalAccess"] == "DISABLED"
    assert len(await mailbox.to(dana_email)) == mails_before  # no invitation, no notice
    assert (await contact_of(shop, acme["id"], dana_email))["portalAccess"] == "DISABLED"
    assert (await login(shop, dana_email, CONTACT_PASSWORD))["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_the_forwarders_message_is_quoted_as_theirs(shop, mailbox):
    acme = await shop.customer("Acme")
    invoice = await shop.invoice(acme["id"])
    pat, _ = await shop.portal_user(acme["id"], others("pat"), mailbox)
    colleague, newcomer = others("colleague"), others("newcomer")
    await shop.portal_user(acme["id"], colleague, mailbox)
    message = "URGENT: pay to IBAN XX00 instead"

    for email in (colleague, newcomer):
        await pat.data(FORWARD, id=invoice["id"], email=email, m=message)

    for email in (colleague, newcomer):
        text = (await mailbox.to(email))[-1].get_body(("plain",)).get_content()
        assert f"Pat Doe wrote this message; it does not come from Business {shop.portal_name}:\n\n> {message}" in text


async def test_a_contact_person_forwards_at_most_twenty_documents_a_day(shop, mailbox):
    acme = await shop.customer("Acme")
    invoice = await shop.invoice(acme["id"])
    pat, _ = await shop.portal_user(acme["id"], others("pat"), mailbox)
    target = others("relay")

    for _ in range(forwarding.FORWARDS_PER_PERSON):
        await pat.data(FORWARD, id=invoice["id"], email=target, m="spam")
    sent = len(await mailbox.to(target))
    refused = await pat.request(FORWARD, id=invoice["id"], email=others("fresh"), m="spam")

    assert refused["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
    assert 0 < refused["errors"][0]["extensions"]["retryAfter"] <= 24 * 3600
    assert sent == forwarding.FORWARDS_PER_PERSON
    assert len((await pat.data(MY_CONTACTS))["myCustomer"]["contactPersons"]) == 2  # no contact added


async def test_simultaneous_forwards_are_counted_one_by_one(shop, mailbox, monkeypatch):
    monkeypatch.setattr(forwarding, "FORWARDS_PER_PERSON", 5)
    acme = await shop.customer("Acme")
    invoice = await shop.invoice(acme["id"])
    pat, _ = await shop.portal_user(acme["id"], others("pat"), mailbox)
    target = others("race")

    bodies = await asyncio.gather(*(pat.request(FORWARD, id=invoice["id"], email=target) for _ in range(8)))

    codes = sorted(body["errors"][0]["extensions"]["code"] if "errors" in body else "OK" for body in bodies)
    assert codes == ["OK"] * 5 + ["RATE_LIMITED"] * 3
    listed = [c["email"] for c in (await pat.data(MY_CONTACTS))["myCustomer"]["contactPersons"]]
    assert listed.count(target) == 1


async def test_a_customer_forwards_at_most_its_daily_share(shop, mailbox, monkeypatch):
    monkeypatch.setattr(forwarding, "FORWARDS_PER_CUSTOMER", 3)  # the same counting as 50, in fewer requests
    acme = await shop.customer("Acme")
    invoice = await shop.invoice(acme["id"])
    pat, _ = await shop.portal_user(acme["id"], others("pat"), mailbox)
    ann, _ = await shop.portal_user(acme["id"], others("ann"), mailbox)
    globex = await shop.customer("Globex")
    globex_invoice = await shop.invoice(globex["id"])
    gus, _ = await shop.portal_user(globex["id"], others("gus"), mailbox)

    for sender in (pat, pat, ann):
        await sender.data(FORWARD, id=invoice["id"], email=others("to"))

    assert (await ann.request(FORWARD, id=invoice["id"], email=others("to")))["errors"][0][
        "extensions"]["code"] == "RATE_LIMITED"
    assert "errors" not in await gus.request(FORWARD, id=globex_invoice["id"], email=others("to"))


async def test_one_email_at_two_customers_signs_in_by_the_rule(shop, mailbox):
    acme, globex, initech = await shop.customer("Acme"), await shop.customer("Globex"), await shop.customer("Initech")
    email = others("accountant")
    await shop.portal_user(acme["id"], email, mailbox)
    await shop.portal_user(globex["id"], email, mailbox)

    choose = await login(shop, email, CONTACT_PASSWORD)
    wrong = await login(shop, email, "wrong-password-9")
    chosen = await login(shop, email, CONTACT_PASSWORD, globex["id"])
    foreign = await login(shop, email, CONTACT_PASSWORD, initech["id"])
    malformed = await login(shop, email, CONTACT_PASSWORD, "not an id")

    [error] = choose["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT" and error["extensions"]["field"] == "customerId"
    assert error["extensions"]["customers"] == [{"id": acme["id"], "displayName": "Acme"},
                                                {"id": globex["id"], "displayName": "Globex"}]
    assert wrong["errors"][0]["extensions"] == {"code": "UNAUTHENTICATED"}  # no list without the password
    assert foreign["errors"][0]["extensions"] == {"code": "UNAUTHENTICATED"}
    assert malformed["errors"][0]["extensions"]["field"] == "customerId"
    token = chosen["data"]["login"]["token"]
    assert (await shop.staff.as_(token).data(MY_CUSTOMER))["myCustomer"]["id"] == globex["id"]


async def test_only_contacts_whose_password_matches_and_who_have_access_count(shop, mailbox):
    acme, globex = await shop.customer("Acme"), await shop.customer("Globex")
    email = others("accountant")
    await shop.portal_user(acme["id"], email, mailbox)
    _, at_globex = await shop.portal_user(globex["id"], email, mailbox)

    await shop.staff.data(DISABLE, ids=[at_globex["id"]])
    signed_in = await login(shop, email, CONTACT_PASSWORD)

    assert "errors" not in signed_in, signed_in
    token = signed_in["data"]["login"]["token"]
    assert (await shop.staff.as_(token).data(MY_CUSTOMER))["myCustomer"]["id"] == acme["id"]


async def test_staff_add_one_email_to_two_customers_but_not_twice_to_one(shop):
    acme, globex = await shop.customer("Acme"), await shop.customer("Globex")
    email = others("shared")
    await shop.contact(acme["id"], email)
    await shop.contact(globex["id"], email)

    again = await shop.staff.request(ADD_CONTACT, customerId=acme["id"], input={"firstName": "P", "email": email})

    assert again["errors"][0]["extensions"]["code"] == "CONFLICT"
    await shop.staff.data(ENABLE_PORTAL, ids=[(await contact_of(shop, acme["id"], email))["id"]])
    assert (await contact_of(shop, globex["id"], email))["portalAccess"] == "DISABLED"


async def test_an_address_no_mail_can_reach_is_refused_at_input(shop, mailbox):
    """A local part beyond ASCII needs SMTPUTF8: accepted, its invitation or copy could never be sent."""
    acme = await shop.customer("Acme")
    invoice = await shop.invoice(acme["id"])
    pat, _ = await shop.portal_user(acme["id"], others("pat"), mailbox)
    email = f"jöe-{uuid.uuid4().hex[:6]}@elsewhere.example.com"

    added = await shop.staff.request(ADD_CONTACT, customerId=acme["id"], input={"firstName": "Jöe", "email": email})
    forwarded = await pat.request(FORWARD, id=invoice["id"], email=email)

    for body, field in ((added, "input.email"), (forwarded, "email")):
        [error] = body["errors"]
        assert (error["extensions"]["code"], error["extensions"]["field"]) == ("BAD_USER_INPUT", field), error
        assert "before @ must be ASCII" in error["message"]
    assert email not in [contact["email"] for contact in (await shop.staff.data(CUSTOMER_CONTACTS, id=acme["id"]))[
        "node"]["contactPersons"]]


# The migration, on a database of its own (conftest's fresh_database_url).


NOW = datetime(2026, 11, 1, tzinfo=UTC)
ORGANIZATIONS = sa.table("organizations", sa.column("id"), sa.column("name"), sa.column("portal_name"),
                         sa.column("time_zone"), sa.column("created_at", UTCDateTime(timezone=True)))
CUSTOMERS = sa.table("customers", sa.column("id"), sa.column("organization_id"), sa.column("display_name"),
                     sa.column("currency"), sa.column("ach_enabled"),
                     sa.column("created_at", UTCDateTime(timezone=True)))
CONTACTS = sa.table("contact_persons", sa.column("id"), sa.column("organization_id"), sa.column("customer_id"),
                    sa.column("first_name"), sa.column("email"), sa.column("portal_access"),
                    sa.column("password_hash"), sa.column("created_at", UTCDateTime(timezone=True)))


def contact_row(contact_id: int, customer_id: int, email: str) -> dict:
    return {"id": contact_id, "organization_id": 1, "customer_id": customer_id, "first_name": "P", "email": email,
            "portal_access": "ACTIVE", "password_hash": f"hash-{contact_id}", "created_at": NOW}


async def test_the_migration_keeps_every_contact_and_allows_one_email_per_customer(fresh_database_url):
    config = alembic_config(fresh_database_url)
    await asyncio.to_thread(command.upgrade, config, "0004")
    engine = create_async_engine(fresh_database_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(ORGANIZATIONS.insert().values(id=1, name="N", portal_name="n", time_zone="UTC",
                                                                   created_at=NOW))
            await connection.execute(CUSTOMERS.insert(), [
                {"id": number, "organization_id": 1, "display_name": f"C{number}", "currency": "USD",
                 "ach_enabled": False, "created_at": NOW} for number in (1, 2)])
            await connection.execute(CONTACTS.insert(), [contact_row(1, 1, "a@x.example.com"),
                                                         contact_row(2, 1, "b@x.example.com"),
                                                         contact_row(3, 2, "c@x.example.com")])
        await asyncio.to_thread(command.upgrade, config, "0005")

        async with engine.begin() as connection:
            rows = (await connection.execute(sa.select(CONTACTS.c.id, CONTACTS.c.customer_id, CONTACTS.c.email,
                                                       CONTACTS.c.password_hash).order_by(CONTACTS.c.id))).all()
            await connection.execute(CONTACTS.insert().values(**contact_row(4, 2, "a@x.example.com")))
        with pytest.raises(sa.exc.IntegrityError):
            async with engine.begin() as connection:
                await connection.execute(CONTACTS.insert().values(**contact_row(5, 2, "c@x.example.com")))
    finally:
        await engine.dispose()

    assert [tuple(row) for row in rows] == [(1, 1, "a@x.example.com", "hash-1"), (2, 1, "b@x.example.com", "hash-2"),
                                            (3, 2, "c@x.example.com", "hash-3")]
