"""The business: its profile, its owner and its portal settings."""
from typing import Annotated

import strawberry

from portal.core.database import AsyncSession
from portal.models.auth import Principal
from portal.models.organizations import Organization as OrganizationRow
from portal.models.organizations import PortalSettings as PortalSettingsRow
from portal.models.organizations import StaffUser as StaffUserRow
from portal.models.organizations import organizations_visible_to, staff_users_visible_to
from portal.resolvers import organizations as resolve
from portal.resolvers.context import Info
from portal.schema.customers import Address, AddressInput, address_dict
from portal.schema.inputs import checked, sent
from portal.schema.invoices import PaymentMethodKind
from portal.schema.nodes import GLOBAL_ID, Node, global_id, load_in_order
from portal.schema.permissions import IsContactPerson, IsSignedIn, IsStaff, only
from portal.schema.rows import from_row


@strawberry.type(description="The business that runs the portal.")
class Organization(Node):
    id: strawberry.ID = strawberry.field(description=GLOBAL_ID)
    name: str = strawberry.field(description="The business's name, as customers see it.")
    portal_name: str = strawberry.field(description="The portal's name, used in its address and to log in.")
    email: str | None = strawberry.field(description="The business's contact email address.")
    phone: str | None = strawberry.field(description="The business's phone number.")
    address: Address | None = strawberry.field(description="The business's postal address.")
    time_zone: str = strawberry.field(
        description='IANA time zone; "today" (overdue, expiry, statement periods) is the date there.')

    @classmethod
    def from_model(cls, row: OrganizationRow) -> "Organization":
        return cls(id=global_id("Organization", row.id), name=row.name, portal_name=row.portal_name,
                   email=row.email, phone=row.phone, address=Address.from_dict(row.address),
                   time_zone=row.time_zone)

    @classmethod
    async def load_visible(cls, session: AsyncSession, principal: Principal,
                           ids: list[int]) -> list["Organization | None"]:
        return await load_in_order(session, organizations_visible_to(principal), OrganizationRow, ids, cls.from_model)


@strawberry.type(description="A member of the business's staff.")
class StaffUser(Node):
    id: strawberry.ID = strawberry.field(description=GLOBAL_ID)
    name: str = strawberry.field(description="Full name, shown on their comments.")
    email: str = strawberry.field(description="Email address, and their staff login.")

    @classmethod
    def from_model(cls, row: StaffUserRow) -> "StaffUser":
        return cls(id=global_id("StaffUser", row.id), name=row.name, email=row.email)

    @classmethod
    async def load_visible(cls, session: AsyncSession, principal: Principal,
                           ids: list[int]) -> list["StaffUser | None"]:
        return await load_in_order(session, staff_users_visible_to(principal), StaffUserRow, ids, cls.from_model)


@strawberry.type(description="How the business's portal behaves.")
class PortalSettings:
    portal_name: str = strawberry.field(description="The portal's name, used in its address and to log in.")
    portal_url: str = strawberry.field(description="Where contact persons of this organization sign in.")
    banner_message: str | None = strawberry.field(
        description="Shown to every contact person on their dashboard; null for none.")
    notify_owner_on_activity: bool = strawberry.field(
        description="Email the owner when contact persons act in the portal: "
                    "comment, pay, accept, decline, update details.")
    allow_forwarding: bool = strawberry.field(
        description="Contact persons may forward estimates and invoices to someone else.")
    notify_customers_on_staff_comments: bool = strawberry.field(
        description="Email the customer's active contact persons when staff post a comment visible in the portal.")
    show_projects_and_timesheets: bool = strawberry.field(
        description="Contact persons see the customer's projects and the time logged on them.")
    allow_customers_to_edit_details: bool = strawberry.field(
        description="Contact persons may change their own name and phones, and their company's details.")

    @classmethod
    def from_model(cls, row: PortalSettingsRow, *, portal_name: str, portal_url: str) -> "PortalSettings":
        return from_row(cls, row, portal_name=portal_name, portal_url=portal_url)


@strawberry.type(description="What a contact person's portal allows, so that a client shows only what works.")
class PortalCapabilities:
    banner_message: str | None = strawberry.field(
        description="The business's message to every customer, shown on the dashboard; null for none.")
    allow_forwarding: bool = strawberry.field(
        description="The contact person may forward estimates and invoices to someone else (forwardDocument).")
    show_projects_and_timesheets: bool = strawberry.field(
        description="The customer's projects and the time logged on them are shown (projects).")
    allow_customers_to_edit_details: bool = strawberry.field(
        description="The contact person may change their own name and phones, and their company's details "
                    "(updateMyAccount, updateCompanyDetails).")
    payment_methods: list[PaymentMethodKind] = strawberry.field(
        description="Card, and bank account where the customer may pay by ACH.")

    @classmethod
    def from_model(cls, row: PortalSettingsRow, payment_methods: list[PaymentMethodKind]) -> "PortalCapabilities":
        return from_row(cls, row, payment_methods=payment_methods)


@strawberry.type(description="What a sign-in page may show before anyone signs in "
                             "(portal names appear in links anyway).")
class PublicPortal:
    portal_name: str = strawberry.field(description="The portal's name, as given.")
    name: str = strawberry.field(description="The organization's name.")
    banner_message: str | None = strawberry.field(
        description="The business's message to every customer, from the portal settings; null for none.")


@strawberry.input(description="Changes to the organization's profile; omitted fields stay as they are.")
class OrganizationInput:
    name: str | None = strawberry.field(
        default=strawberry.UNSET, description="The business's name, as customers see it; not null.")
    email: str | None = strawberry.field(default=strawberry.UNSET, description="The business's contact email address.")
    phone: str | None = strawberry.field(default=strawberry.UNSET, description="The business's phone number.")
    address: AddressInput | None = strawberry.field(
        default=strawberry.UNSET, description="Replaces the whole postal address; null clears it.")
    time_zone: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="IANA time zone, like Europe/Berlin; \"today\" (overdue, expiry, statement periods) "
                    "is the date there. Not null.")


@strawberry.input(description="Changes to the portal settings; omitted fields stay as they are.")
class PortalSettingsInput:
    portal_name: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="The portal's name, used in its address and to log in: "
                    "3 to 63 lower-case letters, digits and hyphens, not taken by another portal.")
    banner_message: str | None = strawberry.field(
        default=strawberry.UNSET, description="Shown to every contact person on their dashboard; null removes it.")
    notify_owner_on_activity: bool | None = strawberry.field(
        default=strawberry.UNSET, description="Email the owner when contact persons act in the portal; not null.")
    allow_forwarding: bool | None = strawberry.field(
        default=strawberry.UNSET,
        description="Contact persons may forward estimates and invoices to someone else; not null.")
    notify_customers_on_staff_comments: bool | None = strawberry.field(
        default=strawberry.UNSET,
        description="Email the customer's active contact persons when staff post a comment "
                    "visible in the portal; not null.")
    show_projects_and_timesheets: bool | None = strawberry.field(
        default=strawberry.UNSET,
        description="Contact persons see the customer's projects and the time logged on them; not null.")
    allow_customers_to_edit_details: bool | None = strawberry.field(
        default=strawberry.UNSET,
        description="Contact persons may change their own name and phones, and their company's details; not null.")


async def _portal_settings(info: Info, row: PortalSettingsRow) -> PortalSettings:
    organization = await info.context.viewer_organization()
    return PortalSettings.from_model(row, portal_name=organization.portal_name,
                                     portal_url=await resolve.portal_url(info.context))


@strawberry.type
class Query:
    @strawberry.field(extensions=only(IsSignedIn()), description="The viewer's organization.")
    async def organization(self, info: Info) -> Organization:
        return Organization.from_model(await resolve.organization(info.context))

    @strawberry.field(extensions=only(IsStaff()), description="the portal settings.")
    async def portal_settings(self, info: Info) -> PortalSettings:
        return await _portal_settings(info, await resolve.portal_settings(info.context))

    @strawberry.field(extensions=only(IsContactPerson()), description="what their portal allows.")
    async def my_portal(self, info: Info) -> PortalCapabilities:
        settings, payment_methods = await resolve.my_portal(info.context)
        return PortalCapabilities.from_model(settings, payment_methods)

    @strawberry.field(description="the business behind a portal name, for its sign-in page; null when there is none.")
    async def public_portal(
        self, info: Info,
        portal_name: Annotated[str, strawberry.argument(description="The portal's name, as in its address.")],
    ) -> PublicPortal | None:
        found = await resolve.public_portal(info.context, portal_name)
        if found is None:
            return None
        organization, settings = found
        return PublicPortal(portal_name=organization.portal_name, name=organization.name,
                            banner_message=settings.banner_message)


@strawberry.type
class Mutation:
    @strawberry.mutation(extensions=only(IsStaff()), description="change the organization's profile.")
    async def update_organization(self, info: Info, input: Annotated[OrganizationInput, strawberry.argument(
                                      description="Only the fields sent change; null clears an optional one.")]
                                  ) -> Organization:
        changes = sent(input)
        if "address" in changes:
            changes["address"] = address_dict(input.address)
        with checked("input"):
            organization = await resolve.update_organization(info.context, changes)
        return Organization.from_model(organization)

    @strawberry.mutation(extensions=only(IsStaff()), description="change the portal settings.")
    async def update_portal_settings(self, info: Info, input: Annotated[PortalSettingsInput, strawberry.argument(
                                         description="Only the fields sent change.")]) -> PortalSettings:
        with checked("input"):
            settings = await resolve.update_portal_settings(info.context, sent(input))
        return await _portal_settings(info, settings)
