"""The typed activity recorders, alone: one per kind, each with its subject and its summary's words."""
from decimal import Decimal

import pytest
from memory import customer, estimate, invoice, payment

from portal.models.activity import ActivityKind
from portal.models.comments import Comment
from portal.models.customers import ContactPerson
from portal.models.payment_attempts import PaymentAttempt
from portal.models.projects import Project
from portal.models.reviews import Review
from portal.notifications import events

PAT = ContactPerson(id=5, organization_id=1, customer_id=1, first_name="Pat", last_name="Doe", email="pat@example.com")
ANN = ContactPerson(id=6, organization_id=1, customer_id=1, first_name="Ann", email="ann@example.com")


@pytest.fixture
def recorded(monkeypatch) -> list[dict]:
    """What the recorders hand to record_activity, instead of writing it."""
    calls = []

    async def record_activity(session, **event):
        calls.append(event)

    monkeypatch.setattr(events, "record_activity", record_activity)
    return calls


def comment_on(subject_type: str, *, by_staff: bool) -> Comment:
    return Comment(id=9, organization_id=1, customer_id=1, subject_type=subject_type, subject_id=3, body="Hi",
                   author_name="Olivia Owner" if by_staff else "Pat Doe", staff_user_id=2 if by_staff else None,
                   contact_person_id=None if by_staff else 5)


async def every_kind_once() -> None:
    """Each recorder, called the way its use case calls it."""
    sent = estimate(id=3, number="EST-00003")
    bill = invoice(id=4, number="INV-00004")
    await events.document_viewed(None, bill, PAT)
    await events.comment_added(None, comment_on("Project", by_staff=False), Project(id=3, name="Relaunch"))
    await events.payment_received(None, payment(id=8, number="PAY-00008", amount=Decimal("1250.5")), PAT,
                                  [bill, invoice(id=2, number="INV-00002")])
    await events.payment_failed(None, PaymentAttempt(organization_id=1, customer_id=1, amount=Decimal("99"),
                                                     currency="USD", failure_reason="Card declined."), PAT, bill)
    await events.estimate_accepted(None, sent, PAT)
    await events.estimate_declined(None, sent, PAT, "Too dear")
    await events.document_forwarded(None, sent, PAT, ANN)
    await events.details_updated(None, customer(display_name="Acme Corp"), PAT)
    await events.review_submitted(None, Review(id=7, organization_id=1, customer_id=1, contact_person_id=5, rating=4,
                                               author_name="Pat Doe"), PAT)
    await events.invite_accepted(None, PAT)


async def test_every_kind_has_its_recorder(recorded):
    await every_kind_once()

    assert sorted(event["kind"] for event in recorded) == sorted(ActivityKind)


async def test_each_event_points_at_its_subject_with_its_summary(recorded):
    await every_kind_once()

    assert [(event["kind"], event["subject_type"], event["subject_id"], event["summary"]) for event in recorded] == [
        (ActivityKind.VIEWED, "Invoice", 4, "Pat Doe viewed invoice INV-00004"),
        (ActivityKind.COMMENTED, "Project", 3, "Pat Doe commented on project Relaunch"),
        (ActivityKind.PAYMENT_RECEIVED, "Payment", 8, "Pat Doe paid USD 1,250.50 for INV-00004, INV-00002"),
        (ActivityKind.PAYMENT_FAILED, "Invoice", 4, "Pat Doe's payment of USD 99.00 failed: Card declined."),
        (ActivityKind.ESTIMATE_ACCEPTED, "Estimate", 3, "Pat Doe accepted estimate EST-00003"),
        (ActivityKind.ESTIMATE_DECLINED, "Estimate", 3, "Pat Doe declined estimate EST-00003: Too dear"),
        (ActivityKind.DOCUMENT_FORWARDED, "Estimate", 3, "Pat Doe forwarded estimate EST-00003 to ann@example.com"),
        (ActivityKind.DETAILS_UPDATED, "Customer", 1, "Pat Doe updated the details of Acme Corp"),
        (ActivityKind.REVIEW_SUBMITTED, "Review", 7, "Pat Doe left a 4-star review"),
        (ActivityKind.INVITE_ACCEPTED, "ContactPerson", 5, "Pat Doe accepted the invitation to the portal"),
    ]
    assert {event["contact_person_id"] for event in recorded} == {PAT.id}


async def test_a_decline_without_reason_ends_at_the_number(recorded):
    await events.estimate_declined(None, estimate(number="EST-00001"), PAT, None)

    assert recorded[0]["summary"] == "Pat Doe declined estimate EST-00001"


async def test_a_comment_event_names_its_comment_and_a_staff_author_has_no_contact(recorded):
    await events.comment_added(None, comment_on("Invoice", by_staff=True), invoice(id=3, number="INV-00003"))

    [event] = recorded
    assert (event["comment_id"], event["contact_person_id"], event["summary"]) == (
        9, None, "Olivia Owner commented on invoice INV-00003")
