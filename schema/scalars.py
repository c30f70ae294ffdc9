"""One wire format per scalar, the same in answers and in inputs, and documented in the scalar itself.

Strawberry's own Decimal, DateTime and Date print what Python prints ("49", "0.0", microseconds,
"+00:00") and take JSON numbers for money; these replace them under the same names.
"""
import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import strawberry
from graphql import GraphQLError, ValueNode, value_from_ast_untyped
from strawberry.types.scalar import ScalarDefinition

from portal.models.money import shown_decimal

PLAIN_DECIMAL = re.compile(r"-?[0-9]+(\.[0-9]+)?")
ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
ISO_DATE_TIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?(Z|[+-][0-9]{2}:[0-9]{2})")

DECIMAL_DESCRIPTION = """\
An exact decimal number, always a JSON string in plain notation: an optional minus sign, digits, \
a decimal point and at least two decimals, never an exponent. Amounts and totals have exactly two \
decimals ("49.00"); rates, quantities, hours and tax percentages keep the decimals they have, at \
least two ("49.00", "0.1825", "1.50").
As input, a string of the same form, where the decimal point and decimals may be left out ("49", \
"49.5", "-3.25"). A JSON number or a string with an exponent ("1E+1") is refused with \
BAD_USER_INPUT: money and quantities are strings, so that no float ever rounds them."""

DATE_TIME_DESCRIPTION = """\
An instant, as ISO 8601 in UTC with `Z` and milliseconds: "2026-03-01T14:05:09.123Z".
As input, ISO 8601 with seconds and `Z` or an offset ("2026-03-01T15:05:09+01:00"); it is read as \
that instant and answered in UTC."""

DATE_DESCRIPTION = """\
A calendar date, ISO 8601 `YYYY-MM-DD` ("2026-03-01"), the same in answers and inputs. "Today" is the \
date in the organization's time zone."""


def parse_decimal(value: Any) -> Decimal:
    if not isinstance(value, str):
        raise GraphQLError(f"Money and quantities are strings, like \"49.00\", never JSON numbers; got {value!r}.")
    if not PLAIN_DECIMAL.fullmatch(value):
        raise GraphQLError(
            f"A Decimal is digits with an optional minus sign and decimal point, like \"49.00\" or \"0.1825\", "
            f"without exponent or spaces; got {_shown(value)}.")
    return Decimal(value)


def format_date_time(value: datetime) -> str:
    """ISO 8601 in UTC with `Z`, cut to milliseconds: never later than the instant it shows."""
    instant = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return instant.strftime("%Y-%m-%dT%H:%M:%S.") + f"{instant.microsecond // 1000:03d}Z"


def parse_date_time(value: Any) -> datetime:
    if not isinstance(value, str) or not ISO_DATE_TIME.fullmatch(value):
        raise GraphQLError(
            f"A DateTime is ISO 8601 with seconds and `Z` or an offset, like \"2026-03-01T14:05:09.123Z\"; "
            f"got {_shown(value)}.")
    try:
        return datetime.fromisoformat(value).astimezone(UTC)
    except ValueError:
        raise GraphQLError(f"No such instant: {_shown(value)}.") from None


def format_date(value: date) -> str:
    return value.isoformat()


def parse_date(value: Any) -> date:
    if not isinstance(value, str) or not ISO_DATE.fullmatch(value):
        raise GraphQLError(f"A Date is YYYY-MM-DD, like \"2026-03-01\"; got {_shown(value)}.")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise GraphQLError(f"No such date: {_shown(value)}.") from None


def literal_parser(parse: Callable[[Any], Any]) -> Callable[..., Any]:
    """`parse` for a value written in the document: its errors point at the value, so a client sees where."""

    def parse_literal(node: ValueNode, variables: dict[str, Any] | None = None) -> Any:
        try:
            return parse(value_from_ast_untyped(node, variables))
        except GraphQLError as error:
            raise GraphQLError(error.message, node) from None

    return parse_literal


def _shown(value: Any) -> str:
    """The refused value as the client wrote it, shortened: an error message must not echo megabytes."""
    text = repr(value)
    return text if len(text) <= 40 else text[:39] + "…"


DecimalScalar: ScalarDefinition = strawberry.scalar(
    name="Decimal", description=DECIMAL_DESCRIPTION, serialize=shown_decimal, parse_value=parse_decimal,
    parse_literal=literal_parser(parse_decimal))
DateTimeScalar: ScalarDefinition = strawberry.scalar(
    name="DateTime", description=DATE_TIME_DESCRIPTION, serialize=format_date_time, parse_value=parse_date_time,
    parse_literal=literal_parser(parse_date_time))
DateScalar: ScalarDefinition = strawberry.scalar(
    name="Date", description=DATE_DESCRIPTION, serialize=format_date, parse_value=parse_date,
    parse_literal=literal_parser(parse_date))

# The Python types the schema's fields use, and the scalar each is served as.
SCALARS: dict[object, ScalarDefinition] = {Decimal: DecimalScalar, datetime: DateTimeScalar, date: DateScalar}
