"""Email through a real SMTP server (aiosmtpd) that is down for a while: every message arrives, once."""
import asyncio
from email import message_from_bytes, policy

from aiosmtpd.controller import Controller
from factories import ADD_CONTACT, CREATE_CUSTOMER, ENABLE_PORTAL, OWNER_PASSWORD, STAFF_LOGIN
from live import HttpGraphQL, free_port, portal_serving

from portal.core.settings import Settings
from portal.seed import create_business

INVITATIONS = 50
MAIL_FROM = "Northwind Portal <portal@northwind.example.com>"


class Inbox:
    """An aiosmtpd handler keeping every message it accepts."""

    def __init__(self) -> None:
        self.messages = []

    async def handle_DATA(self, server, session, envelope) -> str:
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted for delivery"


async def queue_invitations(base: str, database_url: str, count: int) -> None:
    await create_business(Settings(database_url=database_url), name="Northwind", portal_name="northwind",
                          owner_name="Olivia Owner", owner_email="owner@northwind.example.com",
                          password=OWNER_PASSWORD)
    login = await HttpGraphQL(base).data(STAFF_LOGIN, email="owner@northwind.example.com", password=OWNER_PASSWORD)
    staff = HttpGraphQL(base, login["staffLogin"]["token"])
    customer = (await staff.data(CREATE_CUSTOMER, input={"displayName": "Acme"}))["createCustomer"]
    contacts = [(await staff.data(ADD_CONTACT, customerId=customer["id"], input={
        "firstName": f"Person{number}", "email": f"person{number}@acme.example.com"}))["addContactPerson"]["id"]
        for number in range(count)]
    await staff.data(ENABLE_PORTAL, ids=contacts)


async def test_mail_queued_while_the_server_is_down_arrives_once_when_it_is_back(fresh_database_url, tmp_path):
    smtp_port = free_port()
    env = {"PORTAL_DATABASE_URL": fresh_database_url, "PORTAL_SMTP_URL": f"smtp://127.0.0.1:{smtp_port}",
           "PORTAL_MAIL_FROM": MAIL_FROM, "PORTAL_MAIL_DIR": str(tmp_path), "PORTAL_MAIL_POLL_SECONDS": "0.2",
           # The same backoff, capped lower than the 30 s of production so that the test stays short.
           "PORTAL_MAIL_MAX_BACKOFF_SECONDS": "1"}
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=smtp_port)

    async with portal_serving(env, log_dir=tmp_path, workers=2) as (server,):
        await queue_invitations(server.base, fresh_database_url, INVITATIONS)
        await asyncio.sleep(1.5)  # the mail server is down: every attempt fails
        assert inbox.messages == []
        await asyncio.to_thread(controller.start)
        try:
            for _ in range(300):
                if len(inbox.messages) >= INVITATIONS:
                    break
                await asyncio.sleep(0.1)
            await asyncio.sleep(0.5)  # long enough for a duplicate to show up
        finally:
            await asyncio.to_thread(controller.stop)

    recipients = sorted(message["To"].addresses[0].addr_spec for message in inbox.messages)
    assert recipients == sorted(f"person{number}@acme.example.com" for number in range(INVITATIONS))
    assert len({message["Message-ID"] for message in inbox.messages}) == INVITATIONS
    first = inbox.messages[0]
    assert first["From"] == MAIL_FROM
    assert first.get_body(("plain",)) is not None and first.get_body(("html",)) is not None
    assert await unsent(fresh_database_url) == 0


async def unsent(database_url: str) -> int:
    from sqlalchemy import text

    from portal.core.database import create_engine

    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            return (await connection.execute(text("SELECT count(*) FROM outbox_emails WHERE sent_at IS NULL"))).scalar()
    finally:
        await engine.dispose()


class RefusingInbox:
    """A mail server that knows no such mailbox."""

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:
        return "550 5.1.1 No such user here"


async def test_a_refused_address_is_kept_and_retried_hourly_not_hammered(fresh_database_url):
    """On a database of its own, so that the app's own sender cannot take the email first."""
    from datetime import timedelta

    from portal.core.database import create_engine, session_factory
    from portal.core.ids import from_global_id
    from portal.migrations import upgrade
    from portal.models.columns import utcnow
    from portal.models.outbox import OutboxEmail
    from portal.notifications.delivery import SmtpDelivery
    from portal.notifications.outbox import Email, queue_email
    from portal.notifications.sender import OutboxSender

    await asyncio.to_thread(upgrade, fresh_database_url)
    organization = await create_business(Settings(database_url=fresh_database_url), name="Refused",
                                         portal_name="refused", owner_name="O", owner_email="o@refused.example.com",
                                         password=OWNER_PASSWORD)
    port = free_port()
    controller = Controller(RefusingInbox(), hostname="127.0.0.1", port=port)
    controller.start()
    engine = create_engine(fresh_database_url)
    factory = session_factory(engine)
    try:
        async with factory() as session:
            row = queue_email(session, Email(to_address="nobody@refused.example.com", subject="Hello",
                                             paragraphs=["Hi"]), organization_id=from_global_id(organization)[1])
            await session.commit()
        sender = OutboxSender(factory, SmtpDelivery(f"smtp://127.0.0.1:{port}"), mail_from=MAIL_FROM)
        while await sender.send_due():
            pass
        async with factory() as session:
            refused = await session.get(OutboxEmail, row.id)
    finally:
        controller.stop()
        await engine.dispose()

    assert refused.sent_at is None and refused.attempts == 1
    assert "550" in refused.last_error
    assert refused.next_attempt_at > utcnow() + timedelta(minutes=50)
