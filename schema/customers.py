"""Customers, their contact persons and addresses."""
from typing import Annotated

import strawberry

from portal.core.database import AsyncSession
from portal.core.errors import NotFound
from portal.models.auth import Principal
from portal.models.customers import (
    ADDRESS_FIELDS,
    PortalAccess,
    contact_persons_visible_to,
    customers_visible_to,
    gravatar_url,
)
from portal.models.customers import ContactPerson as ContactPersonRow
from portal.models.customers import Customer as CustomerRow
from portal.models.rows import saved_id
from portal.resolvers import customers as resolve
from portal.resolvers.context import Info
from portal.schema.arguments import After, ContactPersonIds, CustomerId, First
from portal.schema.enums import graphql_enum
from portal.schema.inputs import checked, sent, value, values
from portal.schema.nodes import GLOBAL_ID, Connection, Node, global_id, load_in_order
from portal.schema.permissions import IsContactPerson, IsStaff, PortalAllows, only
from portal.schema.rows import from_row

graphql_enum(PortalAccess, name="PortalAccess", description="Whether a contact person may sign in to the portal.",
             described={
                 PortalAccess.DISABLED: "May not sign in: never invited, or access was turned off.",
                 PortalAccess.INVITED: "Invited by email; may sign in once the invitation is accepted.",
                 PortalAccess.ACTIVE: "Accepted the invitation: may sign in.",
             })


@strawberry.type(description="A postal address.")
class Address:
    attention: str | None = strawberry.field(default=None, description="The person to whose attention mail goes.")
    street1: str | None = strawberry.field(default=None, description="First line of the street address.")
    street2: str | None = strawberry.field(default=None, description="Second line of the street address.")
    city: str | None = strawberry.field(default=None, description="City or town.")
    state: str | None = strawberry.field(default=None, description="State, province or region.")
    zip: str | None = strawberry.field(default=None, description="ZIP or postal code.")
    country: str | None = strawberry.field(default=None, description="Country, as written (free text, not a code).")
    phone: str | None = strawberry.field(default=None, description="Phone number at this address.")

    @classmethod
    def from_dict(cls, value: dict | None) -> "Address | None":
        return None if value is None else cls(**{key: value.get(key) for key in ADDRESS_FIELDS})


@strawberry.input(description="A postal address; omitted parts are left empty.")
class AddressInput:
    attention: str | None = strawberry.field(
        default=strawberry.UNSET, description="The person to whose attention mail goes.")
    street1: str | None = strawberry.field(default=strawberry.UNSET, description="First line of the street address.")
    street2: str | None = strawberry.field(default=strawberry.UNSET, description="Second line of the street address.")
    city: str | None = strawberry.field(default=strawberry.UNSET, description="City or town.")
    state: str | None = strawberry.field(default=strawberry.UNSET, description="State, province or region.")
    zip: str | None = strawberry.field(default=strawberry.UNSET, description="ZIP or postal code.")
    country: str | None = strawberry.field(
        default=strawberry.UNSET, description="Country, as written (free text, not a code).")
    phone: str | None = strawberry.field(default=strawberry.UNSET, description="Phone number at this address.")


def address_dict(address: AddressInput | None) -> dict[str, object] | None:
    return None if address in (None, strawberry.UNSET) else values(address)


@strawberry.type(description="A person at a customer who may be given access to the portal.")
class ContactPerson(Node):
    row: strawberry.Private[ContactPersonRow]
    id: strawberry.ID = strawberry.field(description=GLOBAL_ID)
    first_name: str = strawberry.field(description="Given name.")
    last_name: str | None = strawberry.field(description="Family name.")
    email: str = strawberry.field(
        description="Where invitations and notices go; also the portal login, unique within the business.")
    phone: str | None = strawberry.field(description="Work phone number.")
    mobile: str | None = strawberry.field(description="Mobile phone number.")
    portal_access: PortalAccess = strawberry.field(
        description="DISABLED, INVITED (invitation sent, not accepted yet) or ACTIVE (may sign in).")

    @strawberry.field(description="Gravatar URL derived from the email address.")
    def avatar_url(self) -> str:
        return gravatar_url(self.email)

    @classmethod
    def from_model(cls, row: ContactPersonRow) -> "ContactPerson":
        return from_row(cls, row, row=row, portal_access=PortalAccess(row.portal_access))

    @classmethod
    async def load_visible(cls, session: AsyncSession, principal: Principal,
                           ids: list[int]) -> list["ContactPerson | None"]:
        return await load_in_order(session, contact_persons_visible_to(principal), ContactPersonRow, ids,
                                   cls.from_model)


@strawberry.type(description="A customer of the business.")
class Customer(Node):
    row: strawberry.Private[CustomerRow]
    id: strawberry.ID = strawberry.field(description=GLOBAL_ID)
    display_name: str = strawberry.field(
        description="The name the business knows the customer by, shown in lists and on documents.")
    company_name: str | None = strawberry.field(description="The customer's company name.")
    currency: str = strawberry.field(
        description="ISO 4217 code of the currency the customer is billed in; new documents take it.")
    billing_address: Address | None = strawberry.field(description="Where invoices are addressed; printed on them.")
    shipping_address: Address | None = strawberry.field(description="Where goods are delivered.")
    ach_enabled: bool = strawberry.field(description="Customer may pay by bank account (ACH).")

    @strawberry.field(description="The customer's contact persons.")
    async def contact_persons(self, info: Info) -> list[ContactPerson]:
        rows = await info.context.loaders.contact_persons.load(saved_id(self.row))
        return [ContactPerson.from_model(row) for row in rows]

    @classmethod
    def from_model(cls, row: CustomerRow) -> "Customer":
        return cls(row=row, id=global_id("Customer", row.id), display_name=row.display_name,
                   company_name=row.company_name, currency=row.currency,
                   billing_address=Address.from_dict(row.billing_address),
                   shipping_address=Address.from_dict(row.shipping_address), ach_enabled=row.ach_enabled)

    @classmethod
    async def load_visible(cls, session: AsyncSession, principal: Principal,
                           ids: list[int]) -> list["Customer | None"]:
        return await load_in_order(session, customers_visible_to(principal), CustomerRow, ids, cls.from_model)


async def customer_of(info: Info, customer_id: int) -> Customer:
    """The customer a document or payment on the page belongs to, read with its siblings' in one query."""
    row = await info.context.loaders.customer.load(customer_id)
    if row is None:  # what the viewer sees is their customer's: only a row deleted meanwhile lands here
        raise NotFound("Customer")
    return Customer.from_model(row)


@strawberry.input(description="A new customer.")
class CustomerInput:
    display_name: str = strawberry.field(description="The name the business knows the customer by; must not be blank.")
    company_name: str | None = strawberry.field(default=strawberry.UNSET, description="The customer's company name.")
    currency: str | None = strawberry.field(
        default=strawberry.UNSET, description="ISO 4217 code, like EUR, the customer is billed in; USD when omitted.")
    billing_address: AddressInput | None = strawberry.field(
        default=strawberry.UNSET, description="Where invoices are addressed; printed on them.")
    shipping_address: AddressInput | None = strawberry.field(
        default=strawberry.UNSET, description="Where goods are delivered.")


@strawberry.input(description="A new contact person.")
class ContactPersonInput:
    first_name: str = strawberry.field(description="Given name; must not be blank.")
    last_name: str | None = strawberry.field(default=strawberry.UNSET, description="Family name.")
    email: str = strawberry.field(
        description="Where the invitation goes and the portal login; unique within the business.")
    phone: str | None = strawberry.field(default=strawberry.UNSET, description="Work phone number.")
    mobile: str | None = strawberry.field(default=strawberry.UNSET, description="Mobile phone number.")


@strawberry.input(description="The contact person's own details.")
class MyAccountInput:
    first_name: str | None = strawberry.field(default=strawberry.UNSET, description="Given name; must not be blank.")
    last_name: str | None = strawberry.field(default=strawberry.UNSET, description="Family name; null clears it.")
    phone: str | None = strawberry.field(default=strawberry.UNSET, description="Work phone number; null clears it.")
    mobile: str | None = strawberry.field(default=strawberry.UNSET, description="Mobile phone number; null clears it.")


@strawberry.input(description="The customer's company name and addresses.")
class CompanyDetailsInput:
    company_name: str | None = strawberry.field(
        default=strawberry.UNSET, description="The customer's company name; null clears it.")
    billing_address: AddressInput | None = strawberry.field(
        default=strawberry.UNSET, description="Replaces the whole billing address; null clears it.")
    shipping_address: AddressInput | None = strawberry.field(
        default=strawberry.UNSET, description="Replaces the whole shipping address; null clears it.")


CustomerSearch = Annotated[str | None, strawberry.argument(
    description="Part of the display or company name, in any case, at most 200 characters; omitted: every "
                "customer.")]


@strawberry.type
class Query:
    @strawberry.field(extensions=only(IsStaff()),
                      description="the organization's customers, by display name; `search` matches names.")
    async def customers(self, info: Info, search: CustomerSearch = None, first: First = 20,
                        after: After = None) -> Connection[Customer]:
        page = await resolve.customers(info.context, search=search, first=first, after=after)
        return Connection.from_page(page, Customer.from_model)

    @strawberry.field(extensions=only(IsContactPerson()), description="their own customer.")
    async def my_customer(self, info: Info) -> Customer:
        return Customer.from_model(await resolve.my_customer(info.context))


@strawberry.type
class Mutation:
    @strawberry.mutation(extensions=only(IsStaff()), description="add a customer.")
    async def create_customer(self, info: Info, input: Annotated[CustomerInput, strawberry.argument(
                                  description="The new customer's names, currency and addresses.")]) -> Customer:
        with checked("input"):
            row = await resolve.create_customer(
                info.context, display_name=input.display_name, company_name=value(input.company_name),
                currency=value(input.currency), billing_address=address_dict(input.billing_address),
                shipping_address=address_dict(input.shipping_address))
        return Customer.from_model(row)

    @strawberry.mutation(extensions=only(IsStaff()), description="add a contact person to a customer.")
    async def add_contact_person(self, info: Info, customer_id: CustomerId,
                                 input: Annotated[ContactPersonInput, strawberry.argument(
                                     description="The person's name, email and phones.")]) -> ContactPerson:
        with checked("input"):
            row = await resolve.add_contact_person(
                info.context, customer_id, first_name=input.first_name, last_name=value(input.last_name),
                email=input.email, phone=value(input.phone), mobile=value(input.mobile))
        return ContactPerson.from_model(row)

    @strawberry.mutation(extensions=only(IsStaff()),
                         description="allow or refuse payment by bank account (ACH) for a customer.")
    async def set_ach_enabled(self, info: Info, customer_id: CustomerId, enabled: Annotated[bool, strawberry.argument(
                                  description="true: the customer may pay by bank account; false: no longer.")]
                              ) -> Customer:
        return Customer.from_model(await resolve.set_ach_enabled(info.context, customer_id, enabled))

    @strawberry.mutation(extensions=only(IsStaff()), description="Sends each contact person an invitation email. "
                                     "A customer with no contact person cannot be enabled.")
    async def enable_portal_access(self, info: Info, contact_person_ids: ContactPersonIds) -> list[ContactPerson]:
        rows = await resolve.enable_portal_access(info.context, contact_person_ids)
        return [ContactPerson.from_model(row) for row in rows]

    @strawberry.mutation(extensions=only(IsStaff()),
                         description="turn the portal off for contact persons; their sessions end at once.")
    async def disable_portal_access(self, info: Info, contact_person_ids: ContactPersonIds) -> list[ContactPerson]:
        rows = await resolve.disable_portal_access(info.context, contact_person_ids)
        return [ContactPerson.from_model(row) for row in rows]

    @strawberry.mutation(extensions=only(IsContactPerson(), PortalAllows("allow_customers_to_edit_details")),
                         description="change their own name and phones.")
    async def update_my_account(self, info: Info, input: Annotated[MyAccountInput, strawberry.argument(
                                    description="Only the fields sent change; null clears an optional one.")]
                                ) -> ContactPerson:
        with checked("input"):
            contact = await resolve.update_my_account(info.context, sent(input))
        return ContactPerson.from_model(contact)

    @strawberry.mutation(extensions=only(IsContactPerson(), PortalAllows("allow_customers_to_edit_details")),
                         description="change their customer's company name, address and phones.")
    async def update_company_details(self, info: Info, input: Annotated[CompanyDetailsInput, strawberry.argument(
                                         description="Only the fields sent change; null clears one.")]) -> Customer:
        changes = sent(input)
        if "billing_address" in changes:
            changes["billing_address"] = address_dict(input.billing_address)
        if "shipping_address" in changes:
            changes["shipping_address"] = address_dict(input.shipping_address)
        with checked("input"):
            customer = await resolve.update_company_details(info.context, changes)
        return Customer.from_model(customer)
