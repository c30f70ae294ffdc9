"""Comment visibility, alone: what the customer's side sees, who is told, what hides with the projects."""
import pytest
from memory import estimate, invoice

from portal.models.comments import Comment, shown_in_portal, tells_customer
from portal.models.estimates import EstimateStatus
from portal.models.invoices import InvoiceStatus
from portal.models.organizations import PortalSettings
from portal.models.projects import Project, shown_only_with_projects

SENT_INVOICE = invoice(status=InvoiceStatus.SENT)
DRAFT_INVOICE = invoice(status=InvoiceStatus.DRAFT)
DRAFT_ESTIMATE = estimate(status=EstimateStatus.DRAFT)
PROJECT = Project(id=1, organization_id=1, customer_id=1, name="Relaunch")
TELLING = PortalSettings(organization_id=1, notify_customers_on_staff_comments=True)
SILENT = PortalSettings(organization_id=1, notify_customers_on_staff_comments=False)
PROJECTS_HIDDEN = PortalSettings(organization_id=1, notify_customers_on_staff_comments=True,
                                 show_projects_and_timesheets=False)


def comment(*, by_staff: bool, visible_in_portal: bool = True, subject_type: str = "Invoice") -> Comment:
    return Comment(id=1, organization_id=1, customer_id=1, subject_type=subject_type, subject_id=1, body="Hi",
                   author_name="Olivia Owner" if by_staff else "Pat Doe", staff_user_id=1 if by_staff else None,
                   contact_person_id=None if by_staff else 1, visible_in_portal=visible_in_portal)


@pytest.mark.parametrize(("note", "subject", "shown"), [
    (comment(by_staff=True), SENT_INVOICE, True),
    (comment(by_staff=True, visible_in_portal=False), SENT_INVOICE, False),
    (comment(by_staff=True), DRAFT_INVOICE, False),
    (comment(by_staff=True, subject_type="Estimate"), DRAFT_ESTIMATE, False),
    (comment(by_staff=True, subject_type="Project"), PROJECT, True),  # a project has no drafts
    (comment(by_staff=False), SENT_INVOICE, True),
])
def test_the_customer_sees_a_comment_unless_hidden_or_on_a_draft(note, subject, shown):
    assert shown_in_portal(note, subject) is shown


@pytest.mark.parametrize(("note", "subject", "settings", "told"), [
    (comment(by_staff=True), SENT_INVOICE, TELLING, True),
    (comment(by_staff=True, subject_type="Project"), PROJECT, TELLING, True),
    (comment(by_staff=True), SENT_INVOICE, SILENT, False),
    (comment(by_staff=True, visible_in_portal=False), SENT_INVOICE, TELLING, False),
    (comment(by_staff=True), DRAFT_INVOICE, TELLING, False),
    (comment(by_staff=False), SENT_INVOICE, TELLING, False),  # the owner is told instead
    (comment(by_staff=True, subject_type="Project"), PROJECT, PROJECTS_HIDDEN, False),  # not in the portal now
    (comment(by_staff=True), SENT_INVOICE, PROJECTS_HIDDEN, True),
])
def test_the_customer_is_told_of_staff_comments_it_sees_where_the_portal_asks(note, subject, settings, told):
    assert tells_customer(note, subject, settings) is told


@pytest.mark.parametrize(("type_name", "commented_type", "hidden"), [
    ("Project", None, True), ("ProjectTask", None, True), ("TimeEntry", None, True),
    ("Comment", "Project", True), ("Comment", "Invoice", False), ("Comment", "Estimate", False),
    ("Invoice", None, False), ("Customer", None, False),
])
def test_projects_take_their_tasks_time_and_comments_along(type_name, commented_type, hidden):
    assert shown_only_with_projects(type_name, commented_type=commented_type) is hidden
