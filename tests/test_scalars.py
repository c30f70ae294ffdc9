"""One wire format per scalar: Decimal in plain notation with at least two decimals, accepted only as a string;
DateTime in UTC with `Z` and milliseconds; Date as YYYY-MM-DD."""
import re
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from factories import CREATE_INVOICE, OWNER_PASSWORD, RECORD_PAYMENT, STAFF_LOGIN
from graphql import GraphQLError

from portal.models.money import shown_decimal
from portal.schema import schema
from portal.schema.scalars import format_date_time, parse_date, parse_date_time, parse_decimal

ISO_UTC_MILLISECONDS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
PAYMENT = "query($id: ID!) { node(id: $id) { ... on Payment { amount } } }"
LOG_TIME = """mutation($t: ID!, $h: Decimal!) { logTime(taskId: $t, date: "2026-01-05", hours: $h) {
  hours task { loggedHours billedHours unbilledHours } } }"""


@pytest.mark.parametrize(("value", "shown"), [
    (Decimal("49"), "49.00"), (Decimal("49.00"), "49.00"), (Decimal("0.1825"), "0.1825"), (Decimal("1.5"), "1.50"),
    (Decimal("1.5000"), "1.50"), (Decimal("10.000"), "10.00"), (Decimal("1E+1"), "10.00"), (Decimal("0"), "0.00"),
    (Decimal("-0.00"), "0.00"), (Decimal("-3.25"), "-3.25"), (Decimal("12345678901.2"), "12345678901.20"),
])
def test_decimals_are_plain_with_at_least_two_decimals(value, shown):
    assert shown_decimal(value) == shown


@pytest.mark.parametrize("sent", [49, 49.5, True, "1E+1", "1e-7", " 1", "1.", ".5", "+1", "NaN", "Infinity", "1_000",
                                  ""])
def test_decimals_are_taken_only_as_plain_strings(sent):
    with pytest.raises(GraphQLError):
        parse_decimal(sent)


def test_a_json_number_is_refused_saying_money_is_a_string():
    with pytest.raises(GraphQLError, match="Money and quantities are strings"):
        parse_decimal(49.99)


@pytest.mark.parametrize(("sent", "value"), [("49", Decimal("49")), ("-3.25", Decimal("-3.25")),
                                             ("0.1825", Decimal("0.1825"))])
def test_plain_decimal_strings_are_read_exactly(sent, value):
    assert parse_decimal(sent) == value


def test_date_times_are_utc_with_z_and_milliseconds():
    paris = timezone(timedelta(hours=1))

    assert format_date_time(datetime(2026, 3, 1, 15, 5, 9, 123999, tzinfo=paris)) == "2026-03-01T14:05:09.123Z"
    assert format_date_time(datetime(2026, 3, 1, 14, 5, 9, tzinfo=UTC)) == "2026-03-01T14:05:09.000Z"


def test_date_times_are_read_with_their_offset_and_never_without_one():
    assert parse_date_time("2026-03-01T15:05:09+01:00") == datetime(2026, 3, 1, 14, 5, 9, tzinfo=UTC)
    assert parse_date_time("2026-03-01T14:05:09.123Z") == datetime(2026, 3, 1, 14, 5, 9, 123000, tzinfo=UTC)
    for sent in ("2026-03-01T14:05:09", "2026-03-01", "yesterday", 1772373909, "2026-02-30T00:00:00Z"):
        with pytest.raises(GraphQLError):
            parse_date_time(sent)


def test_dates_are_yyyy_mm_dd_only():
    assert parse_date("2026-03-01") == date(2026, 3, 1)
    for sent in ("20260301", "2026-W09-7", "2026-02-30", "2026-03-01T00:00:00Z", 20260301):
        with pytest.raises(GraphQLError):
            parse_date(sent)


def test_the_scalars_keep_their_names_and_document_their_format():
    printed = schema.as_str()

    for name in ("Decimal", "DateTime", "Date"):
        assert f"scalar {name}\n" in printed
    assert '"49.00", "0.1825", "1.50"' in schema._schema.type_map["Decimal"].description
    assert "`Z`" in schema._schema.type_map["DateTime"].description
    assert "YYYY-MM-DD" in schema._schema.type_map["Date"].description


async def test_rates_quantities_and_amounts_have_one_format(business):
    customer = await business.customer()

    invoice = await business.invoice(customer["id"], lines=[
        {"name": "Consulting", "quantity": "1.5", "rate": "49", "taxPercent": "18.25"},
        {"name": "Fee", "quantity": "2", "rate": "0.1825"},
    ])

    assert invoice["lineItems"] == [
        {"name": "Consulting", "quantity": "1.50", "rate": "49.00", "taxPercent": "18.25", "amount": "73.50"},
        {"name": "Fee", "quantity": "2.00", "rate": "0.1825", "taxPercent": "0.00", "amount": "0.37"},
    ]
    assert (invoice["subTotal"], invoice["taxTotal"], invoice["total"]) == ("73.87", "13.41", "87.28")


async def test_hours_have_the_same_format(business):
    customer = await business.customer()
    project = await business.staff.data('mutation($c: ID!) { createProject(customerId: $c, name: "Site") { id } }',
                                        c=customer["id"])
    task = await business.staff.data('mutation($p: ID!) { addProjectTask(projectId: $p, name: "Design") { id } }',
                                      p=project["createProject"]["id"])

    logged = (await business.staff.data(LOG_TIME, t=task["addProjectTask"]["id"], h="1.5"))["logTime"]

    assert logged == {"hours": "1.50",
                      "task": {"loggedHours": "1.50", "billedHours": "0.00", "unbilledHours": "1.50"}}


async def test_money_sent_as_a_json_number_is_bad_user_input_at_its_field(business):
    customer = await business.customer()

    body = await business.staff.request(CREATE_INVOICE, input={
        "customerId": customer["id"], "lineItems": [{"name": "Design", "quantity": 1, "rate": 49.99}]})

    assert [(error["extensions"]["code"], error["extensions"]["field"]) for error in body["errors"]] == [
        ("BAD_USER_INPUT", "input.lineItems[0].quantity"), ("BAD_USER_INPUT", "input.lineItems[0].rate")]
    assert all("Money and quantities are strings" in error["message"] for error in body["errors"])


async def test_a_number_written_in_the_query_is_refused_too(business):
    body = await business.staff.request(
        'mutation { recordPayment(input: {invoiceId: "SW52b2ljZTox", amount: 10}) { id } }')

    [error] = body["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "input.amount"}
    assert "Money and quantities are strings" in error["message"]


async def test_an_exponent_is_refused(business):
    customer = await business.customer()
    invoice = await business.invoice(customer["id"])

    body = await business.staff.request(RECORD_PAYMENT, input={"invoiceId": invoice["id"], "amount": "1E+1"})

    [error] = body["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "input.amount"}


async def test_record_payment_answers_the_amount_later_reads_give(business):
    customer = await business.customer()
    invoice = await business.invoice(customer["id"])

    recorded = (await business.staff.data(RECORD_PAYMENT, input={"invoiceId": invoice["id"], "amount": "10.5"}))

    payment = recorded["recordPayment"]
    assert payment["amount"] == payment["allocations"][0]["amount"] == "10.50"
    assert (await business.staff.data(PAYMENT, id=payment["id"]))["node"]["amount"] == "10.50"


async def test_timestamps_are_utc_with_milliseconds(business, gql):
    signed_in = await gql.data(STAFF_LOGIN, email=business.owner_email, password=OWNER_PASSWORD)

    assert ISO_UTC_MILLISECONDS.fullmatch(signed_in["staffLogin"]["expiresAt"])
