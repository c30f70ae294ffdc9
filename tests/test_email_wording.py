"""The emails' words, alone: each email function of notifications/emails.py, queued into a fake session."""
from dataclasses import dataclass
from decimal import Decimal

import pytest
from memory import customer, estimate, invoice, payment

from portal.core.ids import to_global_id
from portal.models.comments import Comment
from portal.models.customers import ContactPerson
from portal.models.organizations import Organization, PortalSettings, StaffUser
from portal.models.projects import Project
from portal.notifications import emails

ACME = Organization(id=1, name="Acme Books", portal_name="acme")
OWNER = StaffUser(id=2, organization_id=1, name="Olivia Owner", email="olivia@acme.example.com", password_hash="-")
PAT = ContactPerson(id=5, organization_id=1, customer_id=1, first_name="Pat", last_name="Doe", email="pat@example.com")
ANN = ContactPerson(id=6, organization_id=1, customer_id=1, first_name="Ann", email="ann@example.com")
PORTAL = "https://portal.example.com/portal/acme"
OWNER_PAGES = "https://portal.example.com/owner"


@dataclass
class Settings:
    base_url: str = "https://portal.example.com"
    invite_ttl_days: int = 7

    def link(self, path: str) -> str:
        return f"{self.base_url}{path}"


class Outbox:
    """Stands in for the session: keeps what is queued; the owner and their settings are read from here."""

    def __init__(self, *, notify_owner: bool = True) -> None:
        self.emails = []
        self.portal_settings = PortalSettings(organization_id=1, notify_owner_on_activity=notify_owner)

    def add(self, row) -> None:
        self.emails.append(row)

    async def get(self, model, pk):
        assert (model, pk) == (PortalSettings, ACME.id)
        return self.portal_settings

    async def scalar(self, query):
        return OWNER

    @property
    def only(self) -> tuple[str, str, str]:
        [email] = self.emails
        return email.to_address, email.subject, email.text_body


def comment(subject_type: str, *, by_staff: bool) -> Comment:
    return Comment(id=9, organization_id=1, customer_id=1, subject_type=subject_type, subject_id=3, body="Hi",
                   author_name="Olivia Owner" if by_staff else "Pat Doe", staff_user_id=2 if by_staff else None,
                   contact_person_id=None if by_staff else 5)


def test_a_forwarded_document_to_a_colleague_with_access():
    outbox = Outbox()

    emails.queue_forwarded_document(outbox, Settings(), ACME, invoice(id=4, number="INV-00004"), sender=PAT,
                                      recipient=ANN, message="Please pay")

    assert outbox.only == ("ann@example.com", "Pat Doe forwarded Invoice INV-00004 from Acme Books",
                           "Hello Ann,\n\nPat Doe forwarded Invoice INV-00004 from Acme Books to you.\n\n"
                           "Pat Doe wrote this message; it does not come from Acme Books:\n\n"
                           "> Please pay\n\n"
                           f"Open it in the portal: {PORTAL}/documents/{to_global_id('Invoice', 4)}\n\n— Acme Books\n")


def test_a_forwarded_document_names_itself_in_the_invitation():
    assert emails.forwarded_by(estimate(number="EST-00003"), PAT) == "Estimate EST-00003, forwarded by Pat Doe,"


def test_a_review_request():
    outbox = Outbox()

    emails.queue_review_request(outbox, Settings(), ACME, PAT)

    assert outbox.only == ("pat@example.com", "How did Acme Books do?",
                           "Hello Pat Doe,\n\nAcme Books would value your review. It takes a minute: rate us from 1 to "
                           f"5 and, if you like, say why.\n\nLeave a review: {PORTAL}/review\n\n— Acme Books\n")


def test_a_staff_comment_to_a_contact_person():
    outbox = Outbox()

    emails.queue_comment_notice(outbox, Settings(), ACME, comment("Invoice", by_staff=True),
                                  invoice(id=3, number="INV-00003"), PAT)

    assert outbox.only == ("pat@example.com", "Acme Books commented on invoice INV-00003",
                           "Hello Pat Doe,\n\nOlivia Owner of Acme Books commented on invoice INV-00003:\n\n> Hi\n\n"
                           f"Open it in the portal: {PORTAL}/documents/{to_global_id('Invoice', 3)}\n\n— Acme Books\n")


async def test_a_contact_persons_comment_on_a_project_to_the_owner():
    outbox = Outbox()

    await emails.notify_owner_of_comment(outbox, Settings(), ACME, comment("Project", by_staff=False),
                                           Project(id=3, organization_id=1, customer_id=1, name="Relaunch"))

    assert outbox.only == ("olivia@acme.example.com", "Pat Doe commented on project Relaunch",
                           "Pat Doe commented on project Relaunch:\n\n> Hi\n\n"
                           f"Open it in the portal: {OWNER_PAGES}/\n\n— Acme Books\n")


async def test_an_accepted_estimate_to_the_owner():
    outbox = Outbox()

    await emails.notify_estimate_accepted(outbox, Settings(), ACME, estimate(id=3, number="EST-00003"),
                                            customer=customer(display_name="Acme Corp"), contact=PAT)

    assert outbox.only == ("olivia@acme.example.com", "Pat Doe accepted estimate EST-00003",
                           "Pat Doe of Acme Corp accepted estimate EST-00003 (USD 100.00).\n\n"
                           f"Open it in the portal: {OWNER_PAGES}/documents/{to_global_id('Estimate', 3)}\n\n"
                           "— Acme Books\n")


async def test_a_declined_estimate_to_the_owner_quotes_the_reason():
    outbox = Outbox()

    await emails.notify_estimate_declined(outbox, Settings(), ACME,
                                            estimate(id=3, number="EST-00003", total=Decimal("1100.00")),
                                            customer=customer(display_name="Acme Corp"), contact=PAT, reason="Too dear")

    assert outbox.only == ("olivia@acme.example.com", "Pat Doe declined estimate EST-00003",
                           "Pat Doe of Acme Corp declined estimate EST-00003 (USD 1,100.00).\n\nTheir reason:\n\n"
                           "> Too dear\n\n"
                           f"Open it in the portal: {OWNER_PAGES}/documents/{to_global_id('Estimate', 3)}\n\n"
                           "— Acme Books\n")


@pytest.mark.parametrize(("changed", "fields"), [
    (["company_name", "billing_address"], "company name, billing address"),
    (["shipping_address"], "shipping address"),
    ([], "nothing"),
])
async def test_updated_company_details_to_the_owner(changed, fields):
    outbox = Outbox()

    await emails.notify_details_updated(outbox, Settings(), ACME, customer(display_name="Acme Corp"), contact=PAT,
                                          changed=changed)

    assert outbox.only == ("olivia@acme.example.com", "Pat Doe updated the details of Acme Corp",
                           f"Pat Doe updated the company details of Acme Corp: {fields}.\n\n"
                           f"Open it in the portal: {OWNER_PAGES}/\n\n— Acme Books\n")


async def test_a_payment_to_the_owner_and_a_receipt_to_the_payer():
    outbox = Outbox()
    paid = payment(number="PAY-00008", amount=Decimal("1250.5"), method="BANK_ACCOUNT", reference="ch_1")
    invoices = [invoice(id=4, number="INV-00004"), invoice(id=2, number="INV-00002")]

    await emails.notify_payment_received(outbox, Settings(), ACME, paid, contact=PAT, invoices=invoices)
    emails.queue_receipt(outbox, Settings(), ACME, paid, contact=PAT, invoices=invoices)

    notice, receipt = [(email.to_address, email.subject, email.text_body) for email in outbox.emails]
    assert notice == ("olivia@acme.example.com", "Payment received: USD 1,250.50 from Pat Doe",
                      "Pat Doe paid USD 1,250.50 by bank account for INV-00004, INV-00002 (PAY-00008, reference ch_1)."
                      f"\n\nOpen it in the portal: {OWNER_PAGES}/documents/{to_global_id('Invoice', 4)}\n\n"
                      "— Acme Books\n")
    assert receipt == ("pat@example.com", "Receipt for your payment PAY-00008 to Acme Books",
                       "Hello Pat Doe,\n\nThank you: Acme Books received USD 1,250.50 for INV-00004, INV-00002.\n\n"
                       "Payment PAY-00008, 2024-01-01, reference ch_1.\n\n"
                       f"See the invoice in the portal: {PORTAL}/documents/{to_global_id('Invoice', 4)}\n\n"
                       "— Acme Books\n")


async def test_the_owner_is_not_told_when_the_portal_settings_say_so():
    outbox = Outbox(notify_owner=False)

    await emails.notify_details_updated(outbox, Settings(), ACME, customer(), contact=PAT, changed=["company_name"])

    assert outbox.emails == []
