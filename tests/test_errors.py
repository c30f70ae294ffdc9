"""Expected failures carry a code; unexpected ones are masked and logged with a request id."""
import logging

from portal.resolvers import organizations


async def test_an_unexpected_error_is_masked_and_logged(business, monkeypatch, caplog):
    def explode(ctx):
        raise RuntimeError("SELECT secret FROM /etc/passwd")

    monkeypatch.setattr(organizations, "portal_url", explode)
    with caplog.at_level(logging.ERROR, logger="portal.graphql"):
        body = await business.staff.request("{ portalSettings { portalUrl } }")

    [error] = body["errors"]
    assert error["message"] == "Internal server error."
    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert "secret" not in str(body) and "Traceback" not in str(body)
    assert any(error["extensions"]["requestId"] in record.getMessage() for record in caplog.records)


async def test_invalid_variables_are_bad_user_input(business):
    body = await business.staff.request("mutation($d: Decimal!) { recordPayment(input: {invoiceId: \"x\", "
                                        "amount: $d}) { id } }", d="lots")

    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_more_than_a_hundred_is_bad_user_input(business):
    assert await business.staff.error_code("{ invoices(first: 101) { totalCount } }") == "BAD_USER_INPUT"
