"""Rows built in memory and Hypothesis strategies, for the rule tests that need no database."""
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from math import floor

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from portal.models.customers import Customer
from portal.models.estimates import Estimate, EstimateStatus
from portal.models.invoices import Invoice, InvoiceStatus
from portal.models.payments import Payment

# Quick enough that a rule file runs in a second or two; deadline off, as a cold first example is slow.
QUICK = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
DAY_ONE = date(2024, 1, 1)


def half_up_cents(value: Fraction) -> Decimal:
    """The rounding rule computed from exact fractions: half away from zero, to cents."""
    cents = floor(abs(value) * 100 + Fraction(1, 2))
    return Decimal(cents if value >= 0 else -cents).scaleb(-2)


def cents(low: int = 0, high: int = 10**8):
    """Amounts in whole cents, from low to high cents."""
    return st.integers(low, high).map(lambda n: Decimal(n).scaleb(-2))


def days(low: int = 0, high: int = 90):
    return st.integers(low, high).map(lambda n: DAY_ONE + timedelta(days=n))


def customer(**fields) -> Customer:
    return Customer(**{"id": 1, "organization_id": 1, "display_name": "Acme Corp", "currency": "USD", **fields})


def invoice(**fields) -> Invoice:
    total = fields.pop("total", Decimal("100.00"))
    defaults = {"id": 1, "organization_id": 1, "customer_id": 1, "number": "INV-00001", "date": DAY_ONE,
                "due_date": DAY_ONE + timedelta(days=30), "status": InvoiceStatus.SENT, "currency": "USD",
                "sub_total": total, "tax_total": Decimal("0.00"), "total": total, "amount_paid": Decimal("0.00")}
    return Invoice(**{**defaults, **fields})


def payment(**fields) -> Payment:
    defaults = {"id": 1, "organization_id": 1, "customer_id": 1, "number": "PAY-00001", "date": DAY_ONE,
                "amount": Decimal("10.00"), "currency": "USD", "method": "OFFLINE"}
    return Payment(**{**defaults, **fields})


def estimate(**fields) -> Estimate:
    defaults = {"id": 1, "organization_id": 1, "customer_id": 1, "number": "EST-00001", "date": DAY_ONE,
                "expiry_date": DAY_ONE + timedelta(days=30), "status": EstimateStatus.SENT, "currency": "USD",
                "sub_total": Decimal("100.00"), "tax_total": Decimal("0.00"), "total": Decimal("100.00")}
    return Estimate(**{**defaults, **fields})


def snapshot(row) -> dict:
    """A row's field values, to show that a refused change left it as it was."""
    return {name: getattr(row, name) for name in type(row).model_fields}
