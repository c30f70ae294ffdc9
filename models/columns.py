"""Column types that read back exactly what was written, on PostgreSQL and SQLite."""
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import DateTime, Dialect, Numeric
from sqlalchemy.sql.type_api import _ResultProcessorType
from sqlalchemy.types import TypeDecorator

from portal.models.money import plain_decimal, round_money

FOUR_PLACES = Decimal("0.0001")


class Money(TypeDecorator[Decimal]):
    """NUMERIC(14, 2), read back as an exact two-place Decimal.

    SQLite keeps NUMERIC as REAL; quantizing on the way out restores the exact cents.
    """

    impl = Numeric(14, 2)
    cache_ok = True

    def process_bind_param(self, value: Decimal | int | None, dialect: Dialect) -> Decimal | None:
        return None if value is None else round_money(Decimal(value))

    def result_processor(self, dialect: Dialect, coltype: object) -> _ResultProcessorType[Decimal] | None:
        if dialect.name == "postgresql":
            return None  # NUMERIC(14, 2) arrives as an exact two-place Decimal: nothing to do per value
        return super().result_processor(dialect, coltype)

    def process_result_value(self, value: Decimal | None, dialect: Dialect) -> Decimal | None:
        return None if value is None else round_money(Decimal(value))


class Quantity(TypeDecorator[Decimal]):
    """NUMERIC(14, 4) for quantities, rates, hours and tax percentages."""

    impl = Numeric(14, 4)
    cache_ok = True

    def process_bind_param(self, value: Decimal | int | None, dialect: Dialect) -> Decimal | None:
        return None if value is None else Decimal(value).quantize(FOUR_PLACES)

    def result_processor(self, dialect: Dialect, coltype: object) -> _ResultProcessorType[Decimal] | None:
        if dialect.name == "postgresql":
            # NUMERIC(14, 4) arrives exact (2.5000): equal to 2.5, and shown alike by `shown_decimal` and in
            # PDFs, so the trailing zeros are not worth a conversion per value.
            return None
        return super().result_processor(dialect, coltype)

    def process_result_value(self, value: Decimal | None, dialect: Dialect) -> Decimal | None:
        return None if value is None else plain_decimal(Decimal(value).quantize(FOUR_PLACES))


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that is always timezone-aware UTC, also on SQLite."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.astimezone(UTC)

    def result_processor(self, dialect: Dialect, coltype: object) -> _ResultProcessorType[datetime] | None:
        if dialect.name == "postgresql":
            return None  # TIMESTAMP WITH TIME ZONE arrives as an aware datetime
        return super().result_processor(dialect, coltype)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None or value.tzinfo is not None:
            return value
        return value.replace(tzinfo=UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)
