"""Who may receive a document a contact person forwards, what they are sent, and how often.

Whether the portal allows forwarding at all is a permission of the field (schema/permissions.py).

A forward reveals nothing and overrides nothing. The recipient is always a contact person of the
sender's own customer: contacts of other customers (the same address may be one, see models/customers.py)
are never looked at, so forwarding to them answers exactly as forwarding to a fresh address does, and
their access, password and data stay as they are. A forward never grants access the business withheld:
a contact of the sender's customer whose access is DISABLED (disabled by staff, or added and not
invited) is sent nothing and stays DISABLED; the sender reads the same answer as ever, the person as
`myCustomer.contactPersons` already shows them.
"""
from datetime import timedelta
from enum import StrEnum
from math import ceil

from sqlalchemy import select
from sqlmodel import col

from portal.core.database import AsyncSession
from portal.core.errors import BadUserInput, InputCheck, NotFound, Problem, RateLimited
from portal.models.activity import ActivityEvent, ActivityKind
from portal.models.columns import utcnow
from portal.models.customers import (
    ContactPerson,
    Customer,
    PortalAccess,
    add_contact_person,
    clean_contact_fields,
    find_contact_by_email,
    lock_customer,
    normalize_email,
)

MAX_MESSAGE = 5000
# Forwards in any 24 hours: enough for a person's accounts-payable routine, too few for a mail relay.
FORWARDS_PER_PERSON = 20
FORWARDS_PER_CUSTOMER = 50
FORWARD_WINDOW = timedelta(days=1)


def check_forward_request(email: str, message: str | None, *, name: str | None = None) -> str:
    """The recipient's address, normalized; a name fits a contact person's; a message has at most
    MAX_MESSAGE characters."""
    check = InputCheck()
    with check.field("email"):
        email = normalize_email(email)
    with check.field("name"):
        _check_recipient_name(name)
    if message is not None and len(message) > MAX_MESSAGE:
        check.add("message", f"A message has at most {MAX_MESSAGE:,} characters.")
    check.done()
    return email


def _check_recipient_name(name: str | None) -> None:
    """The first and last name a new recipient would get from `name` fit a contact person's (each problem
    is the name's, not that of a field the request does not have)."""
    if name is None or not name.strip():
        return
    first_name, last_name = split_name(name, "")
    try:
        clean_contact_fields({"first_name": first_name, "last_name": last_name})
    except BadUserInput as error:
        raise BadUserInput.of([Problem(problem.message) for problem in error.problems]) from None


def split_name(name: str | None, email: str) -> tuple[str, str | None]:
    """First and last name of a new recipient; without a name, the address's local part."""
    name = (name or "").strip()
    if not name:
        return email.split("@")[0], None
    first, _, last = name.partition(" ")
    return first, last.strip() or None


async def recipient_for(session: AsyncSession, sender: ContactPerson, *, email: str,
                        name: str | None) -> tuple[ContactPerson, bool]:
    """The contact person of the sender's customer at a normalized address, and whether added now.

    An address unknown to the sender's customer becomes a new contact person of it, without portal
    access until invited, whether or not it is a contact of another customer.
    """
    recipient = await find_contact_by_email(session, sender.customer_id, email)
    if recipient is not None:
        return recipient, False
    customer = await session.get(Customer, sender.customer_id)
    if customer is None:  # the sender's own customer: gone only if deleted meanwhile
        raise NotFound("Customer")
    first_name, last_name = split_name(name, email)
    added = await add_contact_person(session, customer, first_name=first_name, last_name=last_name, email=email,
                                     phone=None, mobile=None)
    return added, True


class Delivery(StrEnum):
    NOTICE = "NOTICE"  # signs in: told where the document is
    INVITATION = "INVITATION"  # new, or invited before: invited (again), the document named
    NOTHING = "NOTHING"  # access DISABLED: the business's choice, which a forward does not override


def delivery_to(recipient: ContactPerson, *, added_now: bool) -> Delivery:
    if recipient.portal_access == PortalAccess.ACTIVE:
        return Delivery.NOTICE
    if added_now or recipient.portal_access == PortalAccess.INVITED:
        return Delivery.INVITATION
    return Delivery.NOTHING


async def check_forward_allowance(session: AsyncSession, sender: ContactPerson) -> None:
    """RATE_LIMITED once the sender, or their customer, forwarded the most a day allows.

    The customer's row stays locked until commit, so that simultaneous forwards are counted one by one.
    """
    await lock_customer(session, sender.customer_id)
    since = utcnow() - FORWARD_WINDOW
    forwards = select(col(ActivityEvent.occurred_at)).where(
        col(ActivityEvent.organization_id) == sender.organization_id,
        col(ActivityEvent.kind) == ActivityKind.DOCUMENT_FORWARDED, col(ActivityEvent.occurred_at) > since)
    for limit, scope in ((FORWARDS_PER_PERSON, col(ActivityEvent.contact_person_id) == sender.id),
                         (FORWARDS_PER_CUSTOMER, col(ActivityEvent.customer_id) == sender.customer_id)):
        # The limit-th newest forward in the window: once it is a day old, a forward goes through again.
        blocking = await session.scalar(forwards.where(scope).order_by(col(ActivityEvent.occurred_at).desc())
                                        .offset(limit - 1).limit(1))
        if blocking is not None:
            retry_after = max(1, ceil((blocking + FORWARD_WINDOW - utcnow()).total_seconds()))
            raise RateLimited(f"Too many documents forwarded today; try again in {_wait(retry_after)}.",
                              retry_after=retry_after)


def _wait(seconds: int) -> str:
    hours, minutes = divmod(ceil(seconds / 60), 60)
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"
