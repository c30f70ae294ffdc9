"""The web client's pages, GraphiQL, and the links of every email: each opens one of the pages."""
import re
from urllib.parse import urlsplit

import pytest

from portal.web import pages

PAGE_PATHS = [  # OPERATIONS.md "Pages"
    r"/portal/[a-z0-9-]+/", r"/portal/[a-z0-9-]+/accept-invite", r"/portal/[a-z0-9-]+/documents/[A-Za-z0-9_-]+",
    r"/portal/[a-z0-9-]+/(invoices|estimates|payments|statement|pay|projects|account|review)",
    r"/portal/[a-z0-9-]+/projects/[A-Za-z0-9_-]+", r"/owner/", r"/owner/documents/[A-Za-z0-9_-]+",
]
INDEX = "<!doctype html><title>client</title><script src=\"/assets/index-AbC123.js\"></script>"
GRAPHIQL = "<!doctype html><title>GraphiQL</title>"
HTML = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}

COMMENT = "mutation($id: ID!, $body: String!) { addComment(subjectId: $id, body: $body) { id } }"
ACCEPT = "mutation($id: ID!) { acceptEstimate(id: $id) { id } }"
PAY = """mutation($id: ID!) { payInvoices(input: {invoiceIds: [$id], paymentMethod: {gatewayToken: "tok_visa"},
  idempotencyKey: "pages-pay"}) { status } }"""
FORWARD = "mutation($id: ID!, $email: String!) { forwardDocument(documentId: $id, email: $email) { id } }"
DETAILS = 'mutation { updateCompanyDetails(input: {companyName: "Acme Two"}) { companyName } }'
REVIEW = "mutation($ids: [ID!]!) { requestReview(contactPersonIds: $ids) }"


@pytest.fixture
def built_client(tmp_path, monkeypatch):
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text(INDEX)
    (tmp_path / "graphiql.html").write_text(GRAPHIQL)
    (tmp_path / "assets" / "index-AbC123.js").write_text("console.log('portal')")
    monkeypatch.setattr(pages, "CLIENT_DIR", tmp_path)
    return tmp_path


@pytest.fixture
def no_client(tmp_path, monkeypatch):
    monkeypatch.setattr(pages, "CLIENT_DIR", tmp_path / "missing")


@pytest.fixture
def graphiql(app, monkeypatch):
    def switch(on: bool) -> None:
        monkeypatch.setattr(app.state.services.settings, "graphiql", on)
    return switch


@pytest.mark.parametrize("path", ["/", "/portal/acme/", "/portal/acme", "/portal/acme/documents/SW52b2ljZTox",
                                  "/portal/acme/accept-invite?token=abc", "/owner/", "/owner",
                                  "/owner/documents/SW52b2ljZTox"])
async def test_every_page_path_answers_the_single_page_app_uncached(client, built_client, path):
    response = await client.get(path, headers=HTML)

    assert response.status_code == 200
    assert response.text == INDEX
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["cache-control"] == "no-store"
    assert "default-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"


async def test_without_a_built_client_the_base_url_says_how_to_build_it(client, no_client):
    unbuilt = await client.get("/", headers=HTML)

    assert unbuilt.status_code == 503 and "make web" in unbuilt.text


async def test_the_base_url_answers_head_with_the_landing_page_headers(client, built_client):
    response = await client.head("/")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["cache-control"] == "no-store"


async def test_hashed_assets_are_cached_for_good_and_unknown_ones_are_404(client, built_client):
    asset = await client.get("/assets/index-AbC123.js")
    missing = await client.get("/assets/index-Zzz999.js")

    assert asset.status_code == 200 and asset.text == "console.log('portal')"
    assert asset.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert "javascript" in asset.headers["content-type"]
    assert missing.status_code == 404 and "cache-control" not in missing.headers


async def test_without_a_built_client_pages_say_how_to_build_it(client, no_client, graphiql):
    graphiql(True)
    page = await client.get("/portal/acme/", headers=HTML)
    asset = await client.get("/assets/index-AbC123.js")
    ide = await client.get("/graphql", headers=HTML)

    assert page.status_code == 503 and "make web" in page.text
    assert page.headers["content-type"].startswith("text/plain")
    assert asset.status_code == 404
    assert ide.status_code == 404 and "make web" in ide.text and "GraphiQL" in ide.text


async def test_graphiql_opens_in_a_browser_where_allowed_and_api_gets_still_work(client, built_client, graphiql):
    graphiql(True)
    ide = await client.get("/graphql", headers=HTML)
    api = await client.get("/graphql", params={"query": "{ __typename }"}, headers=HTML)
    json_get = await client.get("/graphql", params={"query": "{ __typename }"})
    no_query = await client.get("/graphql", headers={"Accept": "application/json"})

    assert ide.status_code == 200 and ide.text == GRAPHIQL
    assert "script-src 'self'" in ide.headers["content-security-policy"]
    assert api.json() == json_get.json() == {"data": {"__typename": "Query"}}
    assert no_query.status_code == 400 and no_query.json()["errors"]


async def test_graphiql_switched_off_leaves_get_graphql_to_the_api(client, built_client, graphiql):
    graphiql(False)
    response = await client.get("/graphql", headers=HTML)

    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_graphiql_is_on_by_default_only_with_the_embedded_database():
    from portal.core.settings import Settings

    assert Settings(database_url="sqlite+aiosqlite:///portal.db").graphiql_enabled
    assert not Settings(database_url="postgresql+asyncpg://postgres@127.0.0.1/portal").graphiql_enabled
    assert not Settings(database_url="sqlite+aiosqlite:///portal.db", graphiql=False).graphiql_enabled
    assert Settings(database_url="postgresql+asyncpg://postgres@127.0.0.1/portal", graphiql=True).graphiql_enabled


def links_in(messages) -> list[str]:
    return [link for message in messages
            for link in re.findall(r"https?://\S+", message.get_body(("plain",)).get_content())]


async def test_every_emailed_link_opens_a_page(client, built_client, business, mailbox):
    customer = await business.customer()
    invoice = await business.invoice(customer["id"])
    estimate = await business.estimate(customer["id"])
    portal, contact = await business.portal_user(customer["id"], "pat@pages.example.com", mailbox)
    await business.portal_user(customer["id"], "ann@pages.example.com", mailbox)
    await business.staff.data(COMMENT, id=invoice["id"], body="From the owner")
    await portal.data(COMMENT, id=invoice["id"], body="From the customer")
    await portal.data(ACCEPT, id=estimate["id"])
    await portal.data(DETAILS)
    await portal.data(PAY, id=invoice["id"])
    await portal.data(FORWARD, id=invoice["id"], email="ann@pages.example.com")
    await portal.data(FORWARD, id=invoice["id"], email="new@pages.example.com")
    await business.staff.data(REVIEW, ids=[contact["id"]])

    to_customer = links_in(await mailbox.to("@pages.example.com"))
    to_owner = links_in(await mailbox.to(business.owner_email))

    assert len(to_customer) >= 6 and len(to_owner) >= 4
    for link in to_customer + to_owner:
        url = urlsplit(link)
        assert f"{url.scheme}://{url.netloc}" == "http://portal.test"
        assert any(re.fullmatch(pattern, url.path) for pattern in PAGE_PATHS), link
        assert (await client.get(f"{url.path}?{url.query}", headers=HTML)).text == INDEX, link
    assert all(urlsplit(link).path.startswith("/owner/") for link in to_owner)
    assert all(urlsplit(link).path.startswith(f"/portal/{business.portal_name}/") for link in to_customer)
    assert f"/owner/documents/{estimate['id']}" in " ".join(to_owner)
    assert f"/portal/{business.portal_name}/documents/{invoice['id']}" in " ".join(to_customer)


PUBLIC_PORTAL = "query($name: String!) { publicPortal(portalName: $name) { portalName name bannerMessage } }"


async def test_the_page_before_sign_in_can_name_the_business(gql, business):
    found = await gql.data(PUBLIC_PORTAL, name=business.portal_name)
    missing = await gql.data(PUBLIC_PORTAL, name="no-such-portal")

    assert found["publicPortal"]["name"] == f"Business {business.portal_name}"
    assert found["publicPortal"]["portalName"] == business.portal_name
    assert missing["publicPortal"] is None
