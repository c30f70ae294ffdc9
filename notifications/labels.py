"""How activity summaries and emails name things: "Invoice INV-00002", "project Relaunch", "USD 1,250.00"."""
from collections.abc import Iterable
from decimal import Decimal

from portal.models.comments import Commentable
from portal.models.estimates import Estimate
from portal.models.invoices import Invoice
from portal.models.projects import Project


def document_label(document: Estimate | Invoice) -> str:
    """'Invoice INV-00002', for the start of a sentence or a subject line."""
    return f"{type(document).__name__} {document.number}"


def lower_label(document: Estimate | Invoice) -> str:
    """'invoice INV-00002', for the middle of a sentence."""
    return f"{type(document).__name__.lower()} {document.number}"


def subject_label(subject: Commentable) -> str:
    """What a comment is on: 'project Relaunch', 'estimate EST-00001'."""
    return f"project {subject.name}" if isinstance(subject, Project) else lower_label(subject)


def amount_label(currency: str, amount: Decimal) -> str:
    return f"{currency} {amount:,.2f}"


def invoice_numbers(invoices: Iterable[Invoice]) -> str:
    return ", ".join(invoice.number for invoice in invoices)
