"""The demo business: enough of everything to try the portal from both sides."""
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlmodel import col

from portal.core.database import AsyncSession, create_engine, session_factory
from portal.core.settings import Settings
from portal.demo_activity import seed_week_of_activity
from portal.models.auth import Principal, hash_password, issue_invitation
from portal.models.comments import new_comment
from portal.models.customers import ContactPerson, Customer, PortalAccess, add_contact_person, create_customer
from portal.models.documents import LineDraft
from portal.models.estimates import Estimate, EstimateStatus, create_estimate
from portal.models.invoices import Invoice, InvoiceKind, PaymentMethodKind, create_invoice, void_invoice
from portal.models.organizations import Organization, StaffUser, create_organization, owner_of, today_in
from portal.models.payments import record_offline_payment
from portal.models.projects import add_task, create_project, log_time
from portal.models.rows import saved_id
from portal.notifications.emails import invitation_ttl, portal_link

PORTAL_NAME = "demo"
OWNER_EMAIL = "owner@northwind.example.com"
OWNER_PASSWORD = "demo-owner-password"
CONTACT_PASSWORD = "demo-password"


def _lines(*items: tuple[str, str, str, str]) -> list[LineDraft]:
    return [LineDraft(name=name, quantity=Decimal(quantity), rate=Decimal(rate), tax_percent=Decimal(tax))
            for name, quantity, rate, tax in items]


WEBSITE = _lines(("Website design", "12", "95.00", "7.5"), ("Content migration", "6", "65.00", "7.5"))
HOSTING = _lines(("Managed hosting (monthly)", "1", "49.00", "0"))
SUPPORT = _lines(("Support retainer", "10", "80.00", "0"))
BRANDING = _lines(("Logo and brand guide", "1", "1800.00", "7.5"), ("Business cards", "500", "0.18", "7.5"))


async def seed_demo(settings: Settings) -> str:
    """Create the demo business once; return the logins to print."""
    engine = create_engine(settings.database_url)
    try:
        async with session_factory(engine)() as session:
            existing = await session.scalar(select(Organization).where(col(Organization.portal_name) == PORTAL_NAME))
            invite_link = None
            if existing is None:
                invite_link = await _seed(session, settings)
                await session.commit()
            return _logins(settings, invite_link)
    finally:
        await engine.dispose()


def _logins(settings: Settings, invite_link: str | None) -> str:
    lines = [
        "Demo logins (portal name: demo)",
        f"  owner (staffLogin):   {OWNER_EMAIL} / {OWNER_PASSWORD}",
        f"  contacts (login):     alice@acme.example.com, carol@globex.example.com, dave@initech.example.com"
        f" / {CONTACT_PASSWORD}",
        "  invited, not yet active: bob@acme.example.com",
        f"  GraphQL: {settings.base_url}/graphql",
        f"  Customer pages: {settings.link(f'/portal/{PORTAL_NAME}/')}  (a business's: /portal/<portalName>/)",
        f"  Owner page: {settings.link('/owner/')}",
    ]
    if invite_link:
        lines.append(f"  Bob's invitation link: {invite_link}")
    return "\n".join(lines)


async def _seed(session: AsyncSession, settings: Settings) -> str:
    organization = await create_organization(
        session, name="Northwind Studio", portal_name=PORTAL_NAME, owner_name="Olivia Northwind",
        owner_email=OWNER_EMAIL, password_hash=await hash_password(OWNER_PASSWORD))
    organization.phone = "+1 555 0100"
    organization.address = {"street1": "12 Harbour Road", "city": "Portland", "state": "OR", "zip": "97201",
                            "country": "United States"}
    organization_id = saved_id(organization)
    owner = await owner_of(session, organization_id)
    staff = Principal(organization_id=organization_id, session_id=0, staff_user_id=owner.id)
    today = today_in(organization)
    password_hash = await hash_password(CONTACT_PASSWORD)

    acme = await create_customer(session, staff, display_name="Acme Corp", company_name="Acme Corporation",
                                 currency="USD", billing_address={"street1": "1 Main St", "city": "Springfield",
                                                                  "country": "United States"},
                                 shipping_address=None)
    globex = await create_customer(session, staff, display_name="Globex", company_name="Globex Inc.",
                                   currency="USD", billing_address=None, shipping_address=None)
    globex.ach_enabled = True
    initech = await create_customer(session, staff, display_name="Initech", company_name="Initech LLC",
                                    currency="EUR", billing_address=None, shipping_address=None)
    contacts: dict[str, ContactPerson] = {}
    for customer, first, last, email in ((acme, "Alice", "Anders", "alice@acme.example.com"),
                                         (acme, "Bob", "Baker", "bob@acme.example.com"),
                                         (globex, "Carol", "Chen", "carol@globex.example.com"),
                                         (initech, "Dave", "Diaz", "dave@initech.example.com")):
        contact = await add_contact_person(session, customer, first_name=first, last_name=last, email=email,
                                           phone=None, mobile=None)
        contact.portal_access, contact.password_hash = PortalAccess.ACTIVE, password_hash
        contacts[first] = contact
    contacts["Bob"].portal_access, contacts["Bob"].password_hash = PortalAccess.INVITED, None
    token = await issue_invitation(session, organization_id=organization_id,
                                   contact_person_id=saved_id(contacts["Bob"]), ttl=invitation_ttl(settings))

    await _estimates(session, acme, today)
    await _invoices(session, acme, globex, initech, today)
    await _project(session, staff, acme, contacts["Alice"], owner, today)
    await seed_week_of_activity(session, organization)
    return portal_link(settings, organization, "/accept-invite", token=token)


async def _estimates(session: AsyncSession, customer: Customer, today: date) -> None:
    async def estimate(lines: list[LineDraft], *, days_ago: int, expires_in: int | None,
                       status: EstimateStatus) -> Estimate:
        row = await create_estimate(session, customer, today=today, estimate_date=today - timedelta(days=days_ago),
                                    expiry_date=today + timedelta(days=expires_in) if expires_in is not None else None,
                                    lines=lines, send=False)
        row.status = status  # as it would be by now: sent ones may have expired since, which sending refuses
        return row

    await estimate(BRANDING, days_ago=60, expires_in=-30, status=EstimateStatus.SENT)  # expired
    await estimate(WEBSITE, days_ago=40, expires_in=20, status=EstimateStatus.INVOICED)
    declined = await estimate(HOSTING, days_ago=20, expires_in=10, status=EstimateStatus.DECLINED)
    declined.decline_reason = "We host in-house for now."
    await estimate(SUPPORT, days_ago=10, expires_in=20, status=EstimateStatus.ACCEPTED)
    await estimate(WEBSITE, days_ago=3, expires_in=27, status=EstimateStatus.SENT)
    await estimate(BRANDING, days_ago=1, expires_in=29, status=EstimateStatus.DRAFT)


async def _invoices(session: AsyncSession, acme: Customer, globex: Customer, initech: Customer, today: date) -> None:
    async def invoice(customer: Customer, lines: list[LineDraft], *, days_ago: int, send: bool = True,
                      kind: InvoiceKind = InvoiceKind.STANDARD,
                      options: tuple[PaymentMethodKind, ...] = (PaymentMethodKind.CARD,)) -> Invoice:
        issued = today - timedelta(days=days_ago)
        return await create_invoice(session, customer, today=today, kind=kind, invoice_date=issued,
                                    due_date=issued + timedelta(days=30), lines=lines,
                                    payment_options=list(options), send=send)

    paid = await invoice(acme, HOSTING, days_ago=75)
    await record_offline_payment(session, paid, amount=paid.total, payment_date=today - timedelta(days=70),
                                 reference="Bank transfer 0042")
    await invoice(acme, WEBSITE, days_ago=50)  # overdue
    partial = await invoice(acme, BRANDING, days_ago=12, options=(PaymentMethodKind.CARD,
                                                                   PaymentMethodKind.BANK_ACCOUNT))
    await record_offline_payment(session, partial, amount=Decimal("500.00"), payment_date=today - timedelta(days=5),
                                 reference="Cheque 1187")
    await invoice(acme, HOSTING, days_ago=2)  # sent
    await invoice(acme, SUPPORT, days_ago=8, kind=InvoiceKind.RETAINER)
    void_invoice(await invoice(acme, HOSTING, days_ago=30))
    await invoice(acme, SUPPORT, days_ago=0, send=False)  # draft, never shown in the portal
    await invoice(globex, WEBSITE, days_ago=6, options=(PaymentMethodKind.CARD, PaymentMethodKind.BANK_ACCOUNT))
    await invoice(globex, HOSTING, days_ago=4, options=(PaymentMethodKind.CARD, PaymentMethodKind.BANK_ACCOUNT))
    await invoice(initech, BRANDING, days_ago=9)


async def _project(session: AsyncSession, staff: Principal, customer: Customer, contact: ContactPerson,
                   owner: StaffUser, today: date) -> None:
    customer_id = saved_id(customer)
    project = await create_project(session, organization_id=customer.organization_id, customer_id=customer_id,
                                   name="Website relaunch", description="New site, new content, new hosting.")
    design = await add_task(session, project, name="Design", billable=True)
    build = await add_task(session, project, name="Build", billable=True)
    await add_task(session, project, name="Internal review", billable=False)
    for days_ago, task, hours, billed in ((14, design, "6", True), (12, design, "4.5", True),
                                          (7, build, "8", False), (3, build, "5.25", False)):
        await log_time(session, task, entry_date=today - timedelta(days=days_ago), hours=Decimal(hours),
                       notes=f"{task.name} work", billed=billed)
    client = Principal(organization_id=customer.organization_id, session_id=0, contact_person_id=contact.id,
                       customer_id=customer_id)
    project_id = saved_id(project)
    session.add(new_comment(client, subject_type="Project", subject_id=project_id, customer_id=customer_id,
                            body="Can we see the new homepage draft this week?", author_name=contact.full_name,
                            visible_in_portal=True))
    session.add(new_comment(staff, subject_type="Project", subject_id=project_id, customer_id=customer_id,
                            body="Yes — it goes up on Thursday.", author_name=owner.name, visible_in_portal=True))
    session.add(new_comment(staff, subject_type="Project", subject_id=project_id, customer_id=customer_id,
                            body="Internal: check hours before invoicing.", author_name=owner.name,
                            visible_in_portal=False))
