"""How activity summaries and emails name things: "Invoice INV-00002", "project Relaunch", "USD 1,250.00"."""
from decimal import Decimal


def document_label(document) -> str:
    """'Invoice INV-00002', for the start of a sentence or a subject line."""
    return f"{type(document).__name__} {document.number}"


def lower_label(document) -> str:
    """'invoice INV-00002', for the middle of a sentence."""
    return f"{type(document).__name__.lower()} {document.number}"


def subject_label(subject_type: str, subject) -> str:
    """What a comment is on: 'project Relaunch', 'estimate EST-00001'."""
    return f"project {subject.name}" if subject_type == "Project" else f"{subject_type.lower()} {subject.number}"


def amount_label(currency: str, amount: Decimal) -> str:
    return f"{currency} {amount:,.2f}"


def invoice_numbers(invoices) -> str:
    return ", ".join(invoice.number for invoice in invoices)
