"""Which contact person signs in, when one email is a contact of several customers of a portal.

The email and password are checked against every contact person with active access at that address
in the portal; only those whose password verifies count. One of them: they sign in. `customerId`
given: the one of that customer, or the same refusal as a wrong password. Several and no
`customerId`: BAD_USER_INPUT at `customerId`, naming those customers (`extensions.customers`) — said
only to someone who just proved the password, so it reveals nothing to anyone else.
"""
from sqlalchemy import select
from sqlmodel import col

from portal.core.database import AsyncSession
from portal.core.errors import BadUserInput, NotFound
from portal.core.ids import decode_id, to_global_id
from portal.models.access import having_access
from portal.models.customers import ContactPerson, Customer
from portal.models.organizations import Organization

CHOOSE_CUSTOMER = "This email signs in for several customers: choose one with `customerId`."


class CustomerToChoose(BadUserInput):
    """Several contact persons matched; `extensions.customers` lists their customers, by id and name."""

    def __init__(self, customers: list[Customer]) -> None:
        super().__init__(CHOOSE_CUSTOMER, field="customer_id")
        self.customers = [{"id": to_global_id("Customer", customer.id), "displayName": customer.display_name}
                          for customer in customers]

    @property
    def extensions(self) -> dict[str, object]:
        return {**super().extensions, "customers": self.customers}


def chosen_customer(customer_id: str | None) -> int | None:
    """The primary key `customerId` names; an id of no customer (0) matches no contact person, so that
    it is refused as a wrong password is. A malformed id is BAD_USER_INPUT."""
    if customer_id is None:
        return None
    try:
        return decode_id(customer_id, "Customer")
    except NotFound:
        return 0
    except BadUserInput as error:
        raise BadUserInput(error.message, field="customer_id") from None


async def active_contacts_at(session: AsyncSession, portal_name: str, email: str) -> list[ContactPerson]:
    """Contact persons with access at a normalized address in the portal, one per customer, oldest first."""
    return list(await session.scalars(
        select(ContactPerson)
        .join(Organization, col(Organization.id) == ContactPerson.organization_id)
        .where(col(Organization.portal_name) == portal_name, col(ContactPerson.email) == email, having_access())
        .order_by(col(ContactPerson.id))
    ))


async def contact_signing_in(session: AsyncSession, verified: list[ContactPerson],
                             customer_id: int | None) -> ContactPerson | None:
    """Of the contact persons whose password verified, the one who signs in; None: refuse as a wrong password."""
    if customer_id is not None:
        return next((contact for contact in verified if contact.customer_id == customer_id), None)
    if len(verified) <= 1:
        return verified[0] if verified else None
    customers = await session.scalars(select(Customer).where(
        col(Customer.id).in_([contact.customer_id for contact in verified])).order_by(col(Customer.display_name)))
    raise CustomerToChoose(list(customers))
