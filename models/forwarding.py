"""Who may receive a document a contact person forwards.

Whether the portal allows forwarding at all is a permission of the field (schema/permissions.py).
"""
from portal.core.database import AsyncSession
from portal.core.errors import BadUserInput, InputCheck, NotFound, Problem
from portal.models.customers import (
    ContactPerson,
    Customer,
    add_contact_person,
    clean_contact_fields,
    find_contact_by_email,
    normalize_email,
)

MAX_MESSAGE = 5000


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
                        name: str | None) -> ContactPerson:
    """The contact person at a normalized address: one of the sender's company, known or added now.

    A person of another customer never receives the document; an unknown address becomes a new
    contact person of the sender's customer, without portal access until invited.
    """
    recipient = await find_contact_by_email(session, sender.organization_id, email)
    if recipient is not None and recipient.customer_id != sender.customer_id:
        raise BadUserInput("This address cannot receive documents of your company.", field="email")
    if recipient is not None:
        return recipient
    customer = await session.get(Customer, sender.customer_id)
    if customer is None:  # the sender's own customer: gone only if deleted meanwhile
        raise NotFound("Customer")
    first_name, last_name = split_name(name, email)
    return await add_contact_person(session, customer, first_name=first_name, last_name=last_name, email=email,
                                    phone=None, mobile=None)
