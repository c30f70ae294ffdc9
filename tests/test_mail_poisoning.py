"""Issue 12, item 6: mail that cannot be poisoned.

Header values built from user text are one line whatever separators it holds (U+2028 too); an email whose
message cannot be built fails for good, is logged once and is never claimed again.
"""
import logging
import re
from email import message_from_bytes, policy

import pytest

from portal.core.ids import from_global_id
from portal.models.outbox import FAILED_FOR_GOOD, OutboxEmail
from portal.models.text import one_line
from portal.notifications.delivery import FileDelivery, build_message
from portal.notifications.outbox import Email, queue_email
from portal.notifications.sender import OutboxSender

SEPARATORS = "\r\n\v\f\x1c\x1d\x1e\x85\u2028\u2029\x1b\x7f\x9f"  # no NUL: no database stores it
LINE_BREAKING = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def test_one_line_removes_every_control_character_and_separator():
    import sys
    import unicodedata

    breaking = "".join(chr(code) for code in range(sys.maxunicode + 1)
                       if unicodedata.category(chr(code)) in ("Cc", "Zl", "Zp"))

    assert one_line(f"a{breaking}b") == "a b"
    assert one_line("Zoë Ünal – “quoted”") == "Zoë Ünal – “quoted”"


async def queued(app, business, **fields) -> int:
    async with app.state.services.session_factory() as session:
        row = queue_email(session, Email(**{"to_address": f"someone@{business.portal_name}.example.com",
                                            "subject": "Hello", "paragraphs": ["Hi"], **fields}),
                          organization_id=from_global_id(business.organization_id)[1])
        await session.commit()
        return row.id


async def stored(app, email_id: int) -> OutboxEmail:
    async with app.state.services.session_factory() as session:
        row = await session.get(OutboxEmail, email_id)
        assert row is not None
        return row


async def test_headers_from_stored_user_text_are_one_line(app, business):
    """Rows queued before names were cleaned on the way in are cleaned on the way out."""
    email_id = await queued(app, business, to_name=f"Eve{SEPARATORS}Bcc: x@evil.example.com",
                            subject=f"Eve{SEPARATORS}commented")

    message = message_from_bytes(build_message(await stored(app, email_id), mail_from="Portal <p@x.example.com>")
                                 .as_bytes(), policy=policy.default)

    for header in ("To", "Subject"):
        assert not LINE_BREAKING.search(str(message[header])), header
    assert message["Bcc"] is None
    assert str(message["Subject"]) == "Eve commented"


async def test_an_internationalized_domain_is_written_in_ascii(app, business):
    email_id = await queued(app, business, to_address="zoe@bücher.example", to_name="Zoë")

    message = build_message(await stored(app, email_id), mail_from="p@x.example.com")

    assert message["To"].addresses[0].addr_spec == "zoe@xn--bcher-kva.example"


@pytest.mark.parametrize("fields", [
    {"to_address": "someone@example.com\r\nBcc: x@evil.example.com"},
    {"to_address": "someone@exam\u2028ple.com"},
    {"to_address": "zoë@example.com"},  # a local part beyond ASCII: no header can carry it
], ids=["line break in the address", "separator in the address", "non-ASCII local part"])
async def test_an_email_that_cannot_be_built_fails_once_for_good(app, business, tmp_path, caplog, fields):
    email_id = await queued(app, business, **fields)
    sender = OutboxSender(app.state.services.session_factory, FileDelivery(str(tmp_path)), mail_from="p@x.example.com")

    with caplog.at_level(logging.WARNING, logger="portal.mail"):
        for _ in range(3):
            while await sender.send_due():
                pass
            await app.state.services.mail_sender.send_due()

    row = await stored(app, email_id)
    assert row.failed_for_good and row.sent_at is None
    assert row.attempts == 1 and row.next_attempt_at == FAILED_FOR_GOOD
    assert row.last_error.startswith("Cannot be built")
    logged = [record for record in caplog.records if f"email {email_id} " in record.getMessage()]
    assert [record.levelno for record in logged] == [logging.ERROR]
    assert not (tmp_path / f"{row.message_id.strip('<>').replace('@', '_')}.eml").exists()
