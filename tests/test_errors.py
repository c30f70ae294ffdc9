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


async def test_huge_documents_are_refused(business):
    query = "{ " + " ".join(f"a{n}: __typename" for n in range(3000)) + " }"

    body = await business.staff.request(query)

    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_browser_apps_on_the_base_origin_may_call_the_api(client):
    preflight = await client.options("/graphql", headers={
        "Origin": "http://portal.test", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type"})
    foreign = await client.options("/graphql", headers={
        "Origin": "http://evil.example.com", "Access-Control-Request-Method": "POST"})

    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "http://portal.test"
    assert "access-control-allow-origin" not in foreign.headers


async def test_a_syntax_error_is_bad_user_input(business):
    assert await business.staff.error_code("{ viewer { ") == "BAD_USER_INPUT"


async def test_an_empty_selection_is_a_syntax_error_not_a_crash(business):
    # graphql-core parses `{ }`; Strawberry's depth limiter then failed on it with an unmasked ValueError.
    for query in ("{ viewer { } }", "{ invoices(first: 1) { edges { node { ... on Document { } } } } }",
                  "{ viewer { ...empty } } fragment empty on Viewer { }"):
        body = await business.staff.request(query)
        assert [error["extensions"]["code"] for error in body["errors"]] == ["BAD_USER_INPUT"], body
        assert "Syntax Error" in body["errors"][0]["message"]
