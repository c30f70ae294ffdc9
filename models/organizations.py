"""The business that runs a portal, its owner and its portal settings."""
import re
from datetime import date, datetime
from functools import cache
from typing import TypeVar
from zoneinfo import ZoneInfo, available_timezones

from sqlalchemy import JSON, Column, Select, false, func, select
from sqlmodel import Field, SQLModel, col

from portal.core.database import AsyncSession
from portal.core.errors import BadUserInput, Conflict, Forbidden, InputCheck, NotFound
from portal.models.auth import Principal
from portal.models.columns import UTCDateTime, utcnow
from portal.models.customers import clean_address, normalize_email
from portal.models.rows import saved_id
from portal.models.sequences import new_sequences
from portal.models.text import single_line

PORTAL_NAME = re.compile(r"[a-z0-9-]{3,63}")
T = TypeVar("T")
MAX_TIME_ZONE = 64  # the column's length


class Organization(SQLModel, table=True):
    __tablename__ = "organizations"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    portal_name: str = Field(max_length=63, unique=True)
    email: str | None = Field(default=None, max_length=320)
    phone: str | None = Field(default=None, max_length=50)
    address: dict | None = Field(default=None, sa_column=Column(JSON))
    time_zone: str = Field(default="UTC", max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class StaffUser(SQLModel, table=True):
    __tablename__ = "staff_users"

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organizations.id", index=True)
    name: str = Field(max_length=200)
    email: str = Field(max_length=320, unique=True)
    password_hash: str
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


def organizations_visible_to(principal: Principal) -> Select[Organization]:
    """Everyone signed in sees their own organization, and only it."""
    return select(Organization).where(col(Organization.id) == principal.organization_id)


def staff_users_visible_to(principal: Principal) -> Select[StaffUser]:
    """Staff see the organization's staff; contact persons none."""
    query = select(StaffUser).where(col(StaffUser.organization_id) == principal.organization_id)
    if not principal.is_staff:
        query = query.where(false())
    return query


class PortalSettings(SQLModel, table=True):
    __tablename__ = "portal_settings"

    organization_id: int = Field(foreign_key="organizations.id", primary_key=True)
    banner_message: str | None = Field(default=None, max_length=2000)
    notify_owner_on_activity: bool = True
    allow_forwarding: bool = True
    notify_customers_on_staff_comments: bool = True
    show_projects_and_timesheets: bool = True
    allow_customers_to_edit_details: bool = True


# The portal's feature switches: what each lets contact persons do, and their answer while it is off.
PORTAL_FEATURES = {
    "allow_forwarding": ("forwarding documents", "This portal does not allow forwarding documents."),
    "show_projects_and_timesheets": ("projects and timesheets", "This portal does not show projects and timesheets."),
    "allow_customers_to_edit_details": ("customers editing their details",
                                        "This portal does not let customers edit their details."),
}


def check_portal_allows(settings: PortalSettings, feature: str) -> None:
    """Refuse a contact person a feature the owner has switched off."""
    if not getattr(settings, feature):
        raise Forbidden(PORTAL_FEATURES[feature][1])


def validate_portal_name(portal_name: str) -> str:
    if not PORTAL_NAME.fullmatch(portal_name):  # not match(): "$" would let a final line break through
        raise BadUserInput("A portal name is 3-63 lower-case letters, digits and hyphens.")
    return portal_name


def validate_time_zone(time_zone: str) -> str:
    """An IANA zone name the system knows, like "Europe/Berlin"; nothing that is only a path to a file."""
    if time_zone not in known_time_zones():
        shown = time_zone if len(time_zone) <= 40 else time_zone[:39] + "…"
        raise BadUserInput(f"Unknown time zone: {shown!r}.")
    return time_zone


@cache
def known_time_zones() -> frozenset[str]:
    return frozenset(zone for zone in available_timezones() if len(zone) <= MAX_TIME_ZONE)


def not_null(value: T | None, key: str) -> T:
    """The value of a field that an update may leave out but not clear."""
    if value is None:
        raise BadUserInput(f"{key} cannot be null.")
    return value


def today_in(organization: Organization) -> date:
    """'Today' for overdue, expiry and statements: the date in the organization's zone."""
    return today_in_zone(organization.time_zone)


def today_in_zone(time_zone: str) -> date:
    return datetime.now(ZoneInfo(time_zone)).date()


async def ensure_portal_name_free(session: AsyncSession, portal_name: str, *,
                                  organization_id: int | None = None) -> None:
    taken = await session.scalar(
        select(func.count()).select_from(Organization).where(
            col(Organization.portal_name) == portal_name, col(Organization.id) != organization_id
        )
    )
    if taken:
        raise Conflict(f"The portal name {portal_name!r} is taken.")


async def find_portal(session: AsyncSession, portal_name: str) -> tuple[Organization, PortalSettings] | None:
    """The organization behind a portal name, with its portal settings; None when there is none."""
    found = (await session.execute(
        select(Organization, PortalSettings)
        .join(PortalSettings, col(PortalSettings.organization_id) == col(Organization.id))
        .where(col(Organization.portal_name) == portal_name))).first()
    return None if found is None else (found[0], found[1])


async def read_portal_settings(session: AsyncSession, organization_id: int) -> PortalSettings:
    settings = await session.get(PortalSettings, organization_id)
    if settings is None:  # made with the organization: only a deleted organization has none
        raise NotFound("Organization")
    return settings


async def create_organization(session: AsyncSession, *, name: str, portal_name: str, owner_name: str,
                              owner_email: str, password_hash: str) -> Organization:
    check = InputCheck()
    with check.field("name"):
        name = single_line(name, "The organization's name", limit=200, required=True)
    with check.field("owner_name"):
        owner_name = single_line(owner_name, "The owner's name", limit=200, required=True)
    with check.field("portal_name"):
        validate_portal_name(portal_name)
    with check.field("owner_email"):
        owner_email = normalize_email(owner_email)
    check.done()
    await ensure_portal_name_free(session, portal_name)
    if await session.scalar(select(func.count()).select_from(StaffUser).where(col(StaffUser.email) == owner_email)):
        raise Conflict(f"A staff account for {owner_email} exists already.")
    organization = Organization(name=name, portal_name=portal_name, email=owner_email)
    session.add(organization)
    await session.flush()
    organization_id = saved_id(organization)
    session.add(StaffUser(organization_id=organization_id, name=owner_name,
                          email=owner_email, password_hash=password_hash))
    session.add(PortalSettings(organization_id=organization_id))
    session.add_all(new_sequences(organization_id))
    await session.flush()
    return organization


async def owner_of(session: AsyncSession, organization_id: int) -> StaffUser:
    owner = await session.scalar(
        select(StaffUser).where(col(StaffUser.organization_id) == organization_id).order_by(col(StaffUser.id)).limit(1)
    )
    if owner is None:  # made with the organization: only a deleted organization has none
        raise NotFound("Organization")
    return owner


async def update_organization(session: AsyncSession, organization: Organization, changes: dict) -> Organization:
    check = InputCheck()
    with check.field("name"):
        if "name" in changes:
            changes["name"] = single_line(not_null(changes["name"], "name"), "The organization's name", limit=200,
                                          required=True)
    with check.field("phone"):
        if "phone" in changes:
            changes["phone"] = single_line(changes["phone"], "A phone number", limit=50)
    with check.field("email"):
        if changes.get("email") is not None:
            changes["email"] = normalize_email(changes["email"])
    with check.field("address"):
        if "address" in changes:
            changes["address"] = clean_address(changes["address"])
    with check.field("time_zone"):
        if "time_zone" in changes:
            validate_time_zone(not_null(changes["time_zone"], "time_zone"))
    check.done()
    for key, value in changes.items():
        setattr(organization, key, value)
    await session.flush()
    return organization


async def update_portal_settings(session: AsyncSession, organization: Organization, settings: PortalSettings,
                                 changes: dict) -> PortalSettings:
    check = InputCheck()
    for key, value in changes.items():
        with check.field(key):
            _check_portal_setting(key, value)
    check.done()
    portal_name = changes.pop("portal_name", None)
    if portal_name is not None and portal_name != organization.portal_name:
        await ensure_portal_name_free(session, portal_name, organization_id=organization.id)
        organization.portal_name = portal_name
    for key, value in changes.items():
        setattr(settings, key, value)
    await session.flush()
    return settings


def _check_portal_setting(key: str, value: str | bool | None) -> None:
    """A banner message may be cleared (null); the portal name and the switches may not."""
    if key == "banner_message":
        if isinstance(value, str) and len(value) > 2000:
            raise BadUserInput("A banner message has at most 2,000 characters.")
    elif key == "portal_name":
        validate_portal_name(str(not_null(value, key)))
    else:
        not_null(value, key)
