"""Customers of a business and their contact persons.

A contact person is one person *at one customer*: their email is unique within that customer only, so
one address may be a contact of several customers of one business, each a separate contact person with
their own access, password, sessions, saved payment methods and payment attempts. README.md ("Contact
persons at several customers") writes down the rules that follow from it.
"""
import hashlib
from datetime import datetime
from enum import StrEnum

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import JSON, Column, Index, Select, UniqueConstraint, func, or_, select
from sqlmodel import Field, SQLModel, col

from portal.core.database import AsyncSession
from portal.core.errors import BadUserInput, Conflict, InputCheck
from portal.models.auth import Principal
from portal.models.columns import UTCDateTime, utcnow
from portal.models.lookup import group_by, one_visible, organization_rows
from portal.models.rows import saved_id
from portal.models.text import clamp, single_line

ADDRESS_FIELDS = ("attention", "street1", "street2", "city", "state", "zip", "country", "phone")


class PortalAccess(StrEnum):
    DISABLED = "DISABLED"
    INVITED = "INVITED"
    ACTIVE = "ACTIVE"


class Customer(SQLModel, table=True):
    __tablename__ = "customers"

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organizations.id", index=True)
    display_name: str = Field(max_length=200)
    company_name: str | None = Field(default=None, max_length=200)
    currency: str = Field(default="USD", max_length=3)
    billing_address: dict | None = Field(default=None, sa_column=Column(JSON))
    shipping_address: dict | None = Field(default=None, sa_column=Column(JSON))
    ach_enabled: bool = False
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ContactPerson(SQLModel, table=True):
    __tablename__ = "contact_persons"
    __table_args__ = (UniqueConstraint("customer_id", "email", name="uq_contact_persons_customer_id_email"),
                      Index("ix_contact_persons_organization_id_email", "organization_id", "email"))

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organizations.id", index=True)
    customer_id: int = Field(foreign_key="customers.id", index=True)
    first_name: str = Field(max_length=100)
    last_name: str | None = Field(default=None, max_length=100)
    email: str = Field(max_length=320)
    phone: str | None = Field(default=None, max_length=50)
    mobile: str | None = Field(default=None, max_length=50)
    portal_access: str = Field(default=PortalAccess.DISABLED, max_length=10)
    password_hash: str | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

    @property
    def full_name(self) -> str:
        """For greetings and author names; clamped to fit the 200-character columns it is copied into."""
        return clamp(" ".join(part for part in (self.first_name, self.last_name) if part), 200)


def normalize_email(email: str) -> str:
    """The address as stored and compared. The part before @ must be ASCII: mail to any other needs SMTPUTF8,
    which the mail we build does not use, so such an address would be accepted and then never reached."""
    try:
        return validate_email(email.strip(), check_deliverability=False, globally_deliverable=False,
                              allow_smtputf8=False).normalized.lower()
    except EmailNotValidError:
        if not email.strip().rpartition("@")[0].isascii():
            raise BadUserInput(f"Not a valid email address: {email!r}: the part before @ must be ASCII.") from None
        raise BadUserInput(f"Not a valid email address: {email!r}.") from None


def gravatar_url(email: str) -> str:
    digest = hashlib.md5(email.strip().lower().encode()).hexdigest()
    return f"https://www.gravatar.com/avatar/{digest}?d=identicon"


def clean_address(address: dict | None) -> dict | None:
    if address is None:
        return None
    check, cleaned = InputCheck(), {}
    for key in ADDRESS_FIELDS:
        with check.field(key):
            cleaned[key] = single_line(address.get(key), f"Address {key}", limit=200)
    check.done()
    return cleaned


# The single-line fields of a contact person, with their column's length.
CONTACT_FIELDS = {"first_name": ("First name", 100), "last_name": ("Last name", 100), "phone": ("Phone", 50),
                  "mobile": ("Mobile", 50)}


def clean_contact_fields(fields: dict) -> dict:
    """Checked values of the given fields; a first name, when given, may not be empty."""
    check, cleaned = InputCheck(), {}
    for key, value in fields.items():
        label, limit = CONTACT_FIELDS[key]
        with check.field(key):
            cleaned[key] = single_line(value, label, limit=limit, required=key == "first_name")
    check.done()
    return cleaned


def validate_currency(currency: str) -> str:
    currency = currency.strip().upper()
    if len(currency) != 3 or not (currency.isascii() and currency.isalpha()):  # isalpha() alone takes "ÄÖÜ"
        raise BadUserInput("A currency is a three-letter ISO 4217 code, like USD.")
    return currency


def customers_visible_to(principal: Principal) -> Select[Customer]:
    return organization_rows(Customer, principal, col(Customer.id) == principal.customer_id)


async def get_customer(session: AsyncSession, principal: Principal, customer_id: int) -> Customer:
    query = customers_visible_to(principal).where(col(Customer.id) == customer_id)
    return await one_visible(session, query, "Customer")


async def create_customer(session: AsyncSession, principal: Principal, *, display_name: str, company_name: str | None,
                          currency: str | None, billing_address: dict | None,
                          shipping_address: dict | None) -> Customer:
    check = InputCheck()
    with check.field("display_name"):
        display_name = single_line(display_name, "A display name", limit=200, required=True)
    with check.field("company_name"):
        company_name = single_line(company_name, "A company name", limit=200)
    with check.field("currency"):
        currency = validate_currency(currency or "USD")
    with check.field("billing_address"):
        billing_address = clean_address(billing_address)
    with check.field("shipping_address"):
        shipping_address = clean_address(shipping_address)
    check.done()
    customer = Customer(organization_id=principal.organization_id, display_name=display_name,
                        company_name=company_name, currency=currency, billing_address=billing_address,
                        shipping_address=shipping_address)
    session.add(customer)
    await session.flush()
    return customer


# The longest name a customer has: a longer search matches nothing (and SQLite refuses LIKE patterns over 50 KB).
MAX_SEARCH = 200


def search_customers(principal: Principal, search: str | None) -> Select[Customer]:
    """Customers whose display or company name contains `search`, in any case; "%" and "_" are plain text."""
    query = customers_visible_to(principal)
    if search:
        text = search.strip().lower()
        if len(text) > MAX_SEARCH:
            raise BadUserInput(f"A search has at most {MAX_SEARCH} characters.", field="search")
        pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(or_(func.lower(Customer.display_name).like(pattern, escape="\\"),
                                func.lower(Customer.company_name).like(pattern, escape="\\")))
    return query


async def contact_persons_of(session: AsyncSession, customer_ids: list[int]) -> dict[int, list[ContactPerson]]:
    rows = await session.scalars(
        select(ContactPerson).where(col(ContactPerson.customer_id).in_(customer_ids)).order_by(col(ContactPerson.id))
    )
    return group_by(rows, lambda contact: contact.customer_id)


def contact_persons_visible_to(principal: Principal) -> Select[ContactPerson]:
    return organization_rows(ContactPerson, principal, col(ContactPerson.customer_id) == principal.customer_id)


async def get_contact_person(session: AsyncSession, principal: Principal, contact_person_id: int) -> ContactPerson:
    query = contact_persons_visible_to(principal).where(col(ContactPerson.id) == contact_person_id)
    return await one_visible(session, query, "Contact person")


async def lock_customer(session: AsyncSession, customer_id: int) -> None:
    """Hold the customer's row until commit (PostgreSQL; SQLite's writers take turns anyway), so that changes
    to its contact persons that check first and write then are made one after the other."""
    await session.execute(select(col(Customer.id)).where(col(Customer.id) == customer_id).with_for_update())


async def find_contact_by_email(session: AsyncSession, customer_id: int, email: str) -> ContactPerson | None:
    """The customer's contact person at a normalized address; other customers' contacts are not looked at."""
    return await session.scalar(
        select(ContactPerson).where(col(ContactPerson.customer_id) == customer_id, col(ContactPerson.email) == email)
    )


async def add_contact_person(session: AsyncSession, customer: Customer, *, first_name: str, last_name: str | None,
                             email: str, phone: str | None, mobile: str | None) -> ContactPerson:
    check = InputCheck()
    with check.collect():
        fields = clean_contact_fields({"first_name": first_name, "last_name": last_name, "phone": phone,
                                       "mobile": mobile})
    with check.field("email"):
        email = normalize_email(email)
    check.done()
    await lock_customer(session, saved_id(customer))  # a concurrent twin waits here, then finds this one
    if await find_contact_by_email(session, saved_id(customer), email):
        raise Conflict(f"A contact person with the email {email} exists already.")
    contact = ContactPerson(organization_id=customer.organization_id, customer_id=saved_id(customer), email=email,
                            **fields)
    session.add(contact)
    await session.flush()
    return contact


def update_contact_details(contact: ContactPerson, changes: dict) -> None:
    """A contact person's own name and phones; the email is their login and stays."""
    for key, value in clean_contact_fields(changes).items():
        setattr(contact, key, value)


def update_company(customer: Customer, changes: dict) -> None:
    check, cleaned = InputCheck(), {}
    for key, value in changes.items():
        with check.field(key):
            cleaned[key] = clean_address(value) if key.endswith("_address") else single_line(
                value, "A company name", limit=200)
    check.done()
    for key, value in cleaned.items():
        setattr(customer, key, value)
