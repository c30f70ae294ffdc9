"""The web client in a real browser (Debian's Chromium driven by Playwright) against `portal serve`.

One customer's story, with the owner watching live in a second browser: the invitation email's link, sign-in,
an invoice viewed (the owner sees it within a second), a comment and the owner's reply (shown without a
reload), a card payment and a declined card; the owner's page reloaded misses nothing. axe-core checks every
main page, and a screenshot of each is written to tests/artifacts/web/ (look at them).

Runs once, not per backend: on PostgreSQL when it is among the test backends, else on SQLite.
"""
import asyncio
import email
import email.policy
import os
import re
import shutil
import subprocess
import time
import uuid
from pathlib import Path

import asyncpg
import pytest
from live import HttpGraphQL, PortalProcess, free_port

from portal.core.settings import Settings
from portal.demo import OWNER_EMAIL, OWNER_PASSWORD, PORTAL_NAME, seed_demo
from portal.migrations import upgrade

ROOT = Path(__file__).parent.parent
CLIENT = ROOT / "portal" / "web" / "client"
AXE = ROOT / "web" / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = ROOT / "tests" / "artifacts" / "web"
CHROMIUM = os.environ.get("PORTAL_TEST_CHROMIUM", "/usr/bin/chromium")
POSTGRES_SERVER = os.environ.get("PORTAL_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
BACKENDS = os.environ.get("PORTAL_TEST_BACKENDS", "sqlite,postgresql").split(",")
PASSWORD = "Harbour-lights-7-violet"

LOGIN = """mutation($portal: String!, $email: String!, $password: String!) {
  login(portalName: $portal, email: $email, password: $password) { token } }"""
COMMENT = "mutation($id: ID!, $body: String!) { addComment(subjectId: $id, body: $body) { id } }"
SINCE = "query($after: String) { activity(after: $after, first: 100) { edges { cursor } } }"
STAFF_LOGIN = "mutation($e: String!, $p: String!) { staffLogin(email: $e, password: $p) { token } }"
ACME = '{ customers(search: "Acme") { edges { node { id displayName } } } }'
ADD_CONTACT = """mutation($customer: ID!) { addContactPerson(customerId: $customer,
  input: {firstName: "Erin", lastName: "Evans", email: "erin@acme.example.com"}) { id } }"""
ENABLE = "mutation($ids: [ID!]!) { enablePortalAccess(contactPersonIds: $ids) { id portalAccess } }"
NEW_INVOICE = """mutation($customer: ID!, $name: String!) { createInvoice(send: true, input: {customerId: $customer,
  lineItems: [{name: $name, quantity: "2", rate: "120.00", taxPercent: "10"}]}) { id number } }"""

def chromium_or_skip() -> None:
    if Path(CHROMIUM).exists():
        return
    if os.environ.get("CI"):  # .ci/run installs it: there, a browser test not run is a failure
        pytest.fail(f"{CHROMIUM} is missing: the web client's browser tests cannot run (apt-get install chromium)")
    pytest.skip(f"{CHROMIUM} is missing (Debian's chromium package): the web client's browser tests are not run")


def built_client() -> None:
    """The client as `make web` builds it; built here when a test run starts without it."""
    if (CLIENT / "index.html").is_file() and AXE.is_file():
        return
    if shutil.which("npm") is None:
        if os.environ.get("CI"):
            pytest.fail("npm is not on PATH: the web client cannot be built")
        pytest.skip("npm is not on PATH: the web client cannot be built, its browser tests are not run")
    subprocess.run(["make", "web"], cwd=ROOT, check=True, timeout=900)


async def fresh_database(folder: Path) -> tuple[str, object]:
    if "postgresql" not in BACKENDS:
        return f"sqlite+aiosqlite:///{folder / 'portal.db'}", None
    name = f"portal_web_{uuid.uuid4().hex[:12]}"
    server = await asyncpg.connect(POSTGRES_SERVER)
    try:
        await server.execute(f'CREATE DATABASE "{name}"')
    finally:
        await server.close()
    return f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}", name


async def drop_database(name: str) -> None:
    server = await asyncpg.connect(POSTGRES_SERVER)
    try:
        await server.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await server.close()


class PagesServer(PortalProcess):
    """`portal serve` whose PORTAL_BASE_URL is its own address: the emailed links and the CSP name it."""

    def __init__(self, environment: dict, log_dir: Path, port: int) -> None:
        self.port = port
        self.base = f"http://127.0.0.1:{port}"
        self.ws_url = f"ws://127.0.0.1:{port}/graphql"
        self.log = log_dir / f"portal-serve-{port}.log"
        self.environment, self.workers = environment, 1
        self.start()


@pytest.fixture(scope="module")
async def server(tmp_path_factory):
    chromium_or_skip()
    await asyncio.to_thread(built_client)
    folder = tmp_path_factory.mktemp("web-server")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    url, created = await fresh_database(folder)
    mail = folder / "mail"
    try:
        await asyncio.to_thread(upgrade, url)
        await seed_demo(Settings(database_url=url, mail_dir=str(mail), base_url=base))
        environment = {"PORTAL_DATABASE_URL": url, "PORTAL_MAIL_DIR": str(mail), "PORTAL_BASE_URL": base,
                       "PORTAL_GRAPHIQL": "true"}  # on by default only with the embedded database
        process = PagesServer(environment, folder, port)
        process.mail = mail
        try:
            await process.ready()
            yield process
        finally:
            await process.stop()
    finally:
        if created:
            await drop_database(created)


@pytest.fixture(scope="module")
async def browser(server):
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield browser
        finally:
            await browser.close()


async def graphql(server, query: str, token: str | None = None, **variables) -> dict:
    return await HttpGraphQL(server.base, token).data(query, **variables)


class Watched:
    """A page whose CSP violations and uncaught errors fail the test."""

    def __init__(self, page, server) -> None:
        self.page = page
        self.server = server
        self.problems: list[str] = []
        self.page.on("pageerror", lambda error: self.problems.append(f"uncaught: {error}"))
        self.page.on("console", self._console)

    @classmethod
    async def new(cls, context, server) -> "Watched":
        watched = cls(await context.new_page(), server)
        # axe-core, served from this origin so that the self-only CSP lets the page load it.
        await watched.page.route("**/__test__/axe.min.js", lambda route: route.fulfill(
            path=str(AXE), content_type="text/javascript"))
        return watched

    def _console(self, message) -> None:
        if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text:
            self.problems.append(f"CSP: {message.text}")

    async def open(self, path: str):
        await self.page.goto(f"{self.server.base}{path}")
        return self.page

    async def check(self, name: str) -> None:
        """Screenshot to the artifacts, then axe-core: no serious or critical violation, no CSP refusal."""
        page = self.page
        await page.wait_for_load_state("networkidle")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
        await page.add_script_tag(url=f"{self.server.base}/__test__/axe.min.js")
        result = await page.evaluate("""async () => {
          const result = await axe.run(document, { resultTypes: ["violations"] });
          return result.violations.filter((v) => v.impact === "serious" || v.impact === "critical")
            .map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
        }""")
        assert result == [], f"{name}: {result}"
        assert self.problems == [], f"{name}: {self.problems}"


def link_in_outbox(mail: Path, address: str) -> str | None:
    """The invitation link of the .eml written to `address`, if there is one yet."""
    for path in sorted(mail.glob("*.eml")) if mail.is_dir() else []:
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if address in str(message["To"]):
            body = message.get_body(preferencelist=("plain", "html")).get_content()
            return re.search(r"https?://\S+/accept-invite\?token=[\w-]+", body).group(0)
    return None


async def invitation_link(mail: Path, address: str, seconds: float = 15) -> str:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if link := await asyncio.to_thread(link_in_outbox, mail, address):
            return link
        await asyncio.sleep(0.1)
    raise AssertionError(f"no invitation email to {address} in {mail}")


@pytest.fixture(scope="module")
async def story(server):
    """The owner's token, Acme's new contact person invited by email, and two new invoices for Acme."""
    owner = (await graphql(server, STAFF_LOGIN, e=OWNER_EMAIL, p=OWNER_PASSWORD))["staffLogin"]["token"]
    acme = (await graphql(server, ACME, owner))["customers"]["edges"][0]["node"]["id"]
    contact = (await graphql(server, ADD_CONTACT, owner, customer=acme))["addContactPerson"]["id"]
    await graphql(server, ENABLE, owner, ids=[contact])
    paid = (await graphql(server, NEW_INVOICE, owner, customer=acme, name="Site audit"))["createInvoice"]
    declined = (await graphql(server, NEW_INVOICE, owner, customer=acme, name="Hosting upgrade"))["createInvoice"]
    return {"owner": owner, "link": await invitation_link(server.mail, "erin@acme.example.com"), "paid": paid,
            "declined": declined}


async def feed_cursors(page) -> list[str]:
    return await page.locator(".feed li.event").evaluate_all("(items) => items.map((item) => item.dataset.cursor)")


async def test_a_customer_and_the_owner_live(server, browser, story):
    from playwright.async_api import expect

    base = f"/portal/{PORTAL_NAME}"
    paid, declined = story["paid"], story["declined"]
    owner_context = await browser.new_context()
    customer_context = await browser.new_context()
    try:
        # The owner signs in and watches the feed.
        owner = await Watched.new(owner_context, server)
        feed = await owner.open("/owner/")
        await owner.check("owner-sign-in")
        await feed.get_by_label("Email").fill(OWNER_EMAIL)
        await feed.get_by_label("Password").fill(OWNER_PASSWORD)
        await feed.get_by_role("button", name="Sign in").click()
        await expect(feed.get_by_role("heading", name="Portal activity")).to_be_visible()
        await expect(feed.get_by_text("Live: new events appear")).to_be_visible()
        await owner.check("owner-feed")
        views_today = int(await feed.locator('dd[data-kind="VIEWED"]').inner_text())

        # The contact opens the invitation email's link, sets a password, and is signed in.
        customer = await Watched.new(customer_context, server)
        page = customer.page
        await page.goto(story["link"])
        await expect(page.get_by_role("heading", name="Accept your invitation")).to_be_visible()
        await expect(page.get_by_text("Northwind Studio").first).to_be_visible()
        await customer.check("customer-accept-invite")
        await page.get_by_label("New password").fill(PASSWORD)
        await page.get_by_label("Repeat the password").fill(PASSWORD)
        await page.get_by_role("button", name="Set password and sign in").click()
        await expect(page.get_by_role("heading", name="Welcome, Erin")).to_be_visible()

        # Signs out, and in again with the new password; the sign-in page names the business first.
        await page.get_by_role("button", name="Sign out").click()
        await expect(page.get_by_role("heading", name="Sign in to your portal")).to_be_visible()
        await expect(page.get_by_text("Northwind Studio").first).to_be_visible()
        await customer.check("customer-sign-in")
        await page.get_by_label("Email").fill("erin@acme.example.com")
        await page.get_by_label("Password").fill(PASSWORD)
        await page.get_by_role("button", name="Sign in").click()
        await expect(page.get_by_role("heading", name="Welcome, Erin")).to_be_visible()
        await customer.check("customer-dashboard")

        await page.get_by_role("navigation", name="Portal").get_by_role("link", name="Invoices").click()
        await expect(page.get_by_role("link", name=paid["number"])).to_be_visible()
        await expect(page.get_by_role("button", name="Show more")).to_be_hidden()  # all fit on one page
        await page.get_by_label("Status").select_option(label="Paid")
        await expect(page.get_by_role("link", name=paid["number"])).to_have_count(0)
        await page.get_by_label("Status").select_option(label="Outstanding")
        await expect(page.get_by_role("link", name=paid["number"])).to_be_visible()
        await customer.check("customer-invoices")

        # Opens the invoice: the owner's feed shows VIEWED within a second.
        await page.get_by_role("link", name=paid["number"]).click()
        await expect(page.get_by_role("heading", name=f"Invoice {paid['number']}")).to_be_visible()
        await expect(feed.locator(".event-viewed", has_text=paid["number"])).to_have_count(1, timeout=1000)
        await expect(feed.locator('dd[data-kind="VIEWED"]')).to_have_text(str(views_today + 1))
        await page.evaluate("window.__sameDocument = true")  # gone if anything reloads the page

        # Comments; the owner follows the event's link and replies, visible in the portal.
        await page.get_by_label("Your comment").fill("Could you add our PO number 4471?")
        await page.get_by_role("button", name="Add comment").click()
        await expect(page.locator("#comments-list")).to_contain_text("Could you add our PO number 4471?")
        await customer.check("customer-document")
        commented = feed.locator(".event-commented", has_text="Could you add our PO number 4471?")
        await expect(commented).to_have_count(1)
        owner_document = await Watched.new(owner_context, server)
        reply_page = owner_document.page
        await reply_page.goto(f"{server.base}{await commented.get_by_role('link').get_attribute('href')}")
        await expect(reply_page.get_by_role("heading", name=f"Invoice {paid['number']}")).to_be_visible()
        await expect(reply_page.locator("#comments-list")).to_contain_text("Could you add our PO number 4471?")
        await reply_page.get_by_label("Your reply").fill("Done: PO 4471 is on the invoice now.")
        await reply_page.get_by_role("button", name="Add reply").click()
        await expect(reply_page.locator("#comments-list")).to_contain_text("Done: PO 4471")
        await owner_document.check("owner-document")

        # The customer's open page shows the reply without a reload.
        await expect(page.locator("#comments-list")).to_contain_text("Done: PO 4471 is on the invoice now.")
        assert await page.evaluate("window.__sameDocument") is True

        # Pays by card through the gateway's card form and sees PAID.
        await page.get_by_role("link", name="Pay now").click()
        await expect(page.get_by_role("heading", name="Pay invoices")).to_be_visible()
        await expect(page.get_by_role("checkbox", name=re.compile(paid["number"]))).to_be_checked()
        await expect(page.get_by_role("checkbox", name=re.compile(declined["number"]))).not_to_be_checked()
        await page.get_by_label("Name on card").fill("Erin Evans")
        await page.get_by_label("Card number").fill("4242 4242 4242 4242")
        await page.get_by_label("CVC").fill("123")
        await customer.check("customer-pay")
        await page.get_by_role("button", name="Pay", exact=True).click()
        await expect(page.get_by_role("heading", name="Thank you")).to_be_visible()
        await page.get_by_role("link", name=f"Open {paid['number']}").click()
        await expect(page.get_by_test_id("facts")).to_contain_text("Paid")
        await expect(feed.locator(".event-payment_received")).not_to_have_count(0)

        # A declined card is a message, not a crash; nothing is paid.
        await customer.open(f"{base}/pay?invoice={declined['id']}")
        await page.get_by_label("Name on card").fill("Erin Evans")
        await page.get_by_label("Card number").fill("4000 0000 0000 0002")
        await page.get_by_label("CVC").fill("123")
        await page.get_by_role("button", name="Pay", exact=True).click()
        await expect(page.get_by_role("status").filter(has_text="did not go through")).to_be_visible()
        await expect(page.get_by_role("heading", name="Pay invoices")).to_be_visible()
        await customer.check("customer-pay-declined")

        # The owner's page, reloaded after missing an event, shows everything once.
        before = await feed_cursors(feed)
        await feed.close()
        await customer.open(f"{base}/documents/{declined['id']}")
        await page.get_by_label("Your comment").fill("While you were away")
        await page.get_by_role("button", name="Add comment").click()
        await expect(page.locator("#comments-list")).to_contain_text("While you were away")
        erin = (await graphql(server, LOGIN, portal=PORTAL_NAME, email="erin@acme.example.com",
                              password=PASSWORD))["login"]["token"]
        for number in range(60):  # more than the latest page the feed opens with
            await graphql(server, COMMENT, erin, id=declined["id"], body=f"Away note {number}")
        feed = (await Watched.new(owner_context, server)).page
        await feed.goto(f"{server.base}/owner/")
        await expect(feed.locator(".event-commented", has_text="While you were away")).to_have_count(1)
        await expect(feed.locator(".event-commented", has_text="Away note")).to_have_count(60)
        after = await feed_cursors(feed)
        assert len(after) == len(set(after))
        since = (await graphql(server, SINCE, story["owner"], after=before[0]))["activity"]
        missed = {edge["cursor"] for edge in since["edges"]}
        assert len(missed) >= 62 and missed <= set(after), "every event since the page was closed is shown"

        # The other main pages.
        for path, heading, name in [("/estimates", "Estimates", "customer-estimates"),
                                    ("/payments", "Payments", "customer-payments"),
                                    ("/statement", "Statement of accounts", "customer-statement"),
                                    ("/projects", "Projects", "customer-projects"),
                                    ("/account", "My account", "customer-account"),
                                    ("/review", "Review Northwind Studio", "customer-review")]:
            await customer.open(f"{base}{path}")
            await expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
            await customer.check(name)
        await customer.open(f"{base}/projects")
        await page.get_by_role("link", name="Website relaunch").click()
        await expect(page.get_by_role("heading", name="Timesheets")).to_be_visible()
        await customer.check("customer-project")
        await page.set_viewport_size({"width": 360, "height": 740})
        await customer.open(f"{base}/documents/{paid['id']}")
        await expect(page.get_by_role("heading", name=f"Invoice {paid['number']}")).to_be_visible()
        await customer.check("phone-document")
    finally:
        await owner_context.close()
        await customer_context.close()


NEW_ESTIMATE = """mutation($customer: ID!, $name: String!) { createEstimate(send: true, input: {customerId: $customer,
  lineItems: [{name: $name, quantity: "1", rate: "900.00"}]}) { id number } }"""
HIDDEN_NOTE = """mutation($id: ID!) { addComment(subjectId: $id, body: "Internal: chase them next week",
  visibleInPortal: false) { id } }"""
VOID = "mutation($id: ID!) { voidInvoice(id: $id) { status } }"
RECORD = """mutation($id: ID!) { recordPayment(input: {invoiceId: $id, amount: "100.00", reference: "Wire 88"}) {
  number } }"""


async def test_estimates_forwarding_and_what_the_owner_does_shows_live(server, browser, story):
    from playwright.async_api import expect

    owner, base = story["owner"], f"/portal/{PORTAL_NAME}"
    acme = (await graphql(server, ACME, owner))["customers"]["edges"][0]["node"]["id"]
    accepted = (await graphql(server, NEW_ESTIMATE, owner, customer=acme, name="Brand refresh"))["createEstimate"]
    declined = (await graphql(server, NEW_ESTIMATE, owner, customer=acme, name="Photo shoot"))["createEstimate"]
    invoice = (await graphql(server, NEW_INVOICE, owner, customer=acme, name="Extra pages"))["createInvoice"]
    voided = (await graphql(server, NEW_INVOICE, owner, customer=acme, name="Duplicate"))["createInvoice"]
    context = await browser.new_context()
    try:
        customer = await Watched.new(context, server)
        page = await customer.open(f"{base}/")
        await page.get_by_label("Email").fill("alice@acme.example.com")
        await page.get_by_label("Password").fill("demo-password")
        await page.get_by_role("button", name="Sign in").click()
        await expect(page.get_by_role("heading", name="Welcome, Alice")).to_be_visible()

        await page.get_by_role("navigation", name="Portal").get_by_role("link", name="Estimates").click()
        await page.get_by_role("link", name=accepted["number"]).click()
        await page.get_by_role("button", name="Accept estimate").click()
        await expect(page.get_by_test_id("facts")).to_contain_text("Accepted")
        await customer.check("customer-estimate-accepted")

        await customer.open(f"{base}/documents/{declined['id']}")
        await page.get_by_text("Decline…").click()
        await page.get_by_label("Reason for declining (optional)").fill("Over our budget this quarter.")
        await page.get_by_role("button", name="Decline estimate").click()
        await expect(page.get_by_test_id("facts")).to_contain_text("Declined")
        await expect(page.get_by_test_id("facts")).to_contain_text("Over our budget this quarter.")

        # Forwarding the invoice to a colleague.
        await customer.open(f"{base}/documents/{invoice['id']}")
        await page.get_by_text("Forward to a colleague").click()
        await page.get_by_label("Their email").fill("frank@acme.example.com")
        await page.get_by_label("Their name (optional)").fill("Frank Fisher")
        await page.get_by_role("button", name="Forward").click()
        await expect(page.get_by_text("Sent to frank@acme.example.com.")).to_be_visible()

        # While a page is open the owner records a payment, writes a hidden note, voids an invoice:
        # the payment and the void show without a reload, the hidden note never.
        await page.evaluate("window.__sameDocument = true")
        await graphql(server, RECORD, owner, id=invoice["id"])
        await expect(page.get_by_test_id("facts")).to_contain_text("Partially paid")
        await page.get_by_role("navigation", name="Portal").get_by_role("link", name="Invoices").click()
        await page.get_by_role("link", name=voided["number"]).click()
        await expect(page.get_by_role("heading", name=f"Invoice {voided['number']}")).to_be_visible()
        await graphql(server, HIDDEN_NOTE, owner, id=voided["id"])
        await graphql(server, VOID, owner, id=voided["id"])
        await expect(page.get_by_test_id("facts")).to_contain_text("Void")
        await expect(page.get_by_text("Internal: chase them next week")).to_have_count(0)
        assert await page.evaluate("window.__sameDocument") is True
        await customer.check("customer-document-void")

        # Paying the rest with a card saved for later, then another invoice with the saved card.
        await customer.open(f"{base}/pay?invoice={invoice['id']}")
        await page.get_by_label("Name on card").fill("Alice Anders")
        await page.get_by_label("Card number").fill("4242424242424242")
        await page.get_by_label("CVC").fill("321")
        await page.get_by_label("Save this card for later").check()
        await page.get_by_role("button", name="Pay", exact=True).click()
        await expect(page.get_by_role("heading", name="Thank you")).to_be_visible()
        await customer.open(f"{base}/account")
        await expect(page.get_by_text("Visa ending 4242")).to_be_visible()
        again = (await graphql(server, NEW_INVOICE, owner, customer=acme, name="Second audit"))["createInvoice"]
        await customer.open(f"{base}/pay?invoice={again['id']}")
        await page.get_by_label("Visa ending 4242").check()
        await expect(page.get_by_label("Card number")).to_be_hidden()
        await page.get_by_role("button", name="Pay", exact=True).click()
        await expect(page.get_by_role("heading", name="Thank you")).to_be_visible()

        # PDFs are fetched with the bearer token and opened from blob: URLs.
        for path, button in [(f"/documents/{voided['id']}", "Download PDF"), ("/statement", "Download statement PDF")]:
            await customer.open(f"{base}{path}")
            async with page.expect_popup() as opened:
                await page.get_by_role("button", name=button).click()
            pdf = await opened.value
            await pdf.wait_for_url(re.compile(r"^blob:"))
            await pdf.close()

        # My account and a review.
        await customer.open(f"{base}/account")
        await page.get_by_label("Mobile").fill("+1 555 0199")
        await page.get_by_role("button", name="Save my details").click()
        await expect(page.get_by_text("Your details are saved.")).to_be_visible()
        await page.get_by_role("link", name="Rate and review us").click()
        await page.get_by_label("5 of 5").check()
        await page.get_by_label("Your review (optional)").fill("Quick and friendly.")
        await page.get_by_role("button", name="Submit review").click()
        await expect(page.get_by_text("Your review was sent to Northwind Studio.")).to_be_visible()

        # GraphiQL at GET /graphql, all of it served by the portal under its own CSP.
        ide = await Watched.new(context, server)
        await ide.open("/graphql")
        await expect(ide.page.locator(".graphiql-container")).to_be_visible()
        await ide.page.wait_for_load_state("networkidle")
        await ide.page.screenshot(path=str(ARTIFACTS / "graphiql.png"))
        assert ide.problems == []
    finally:
        await context.close()


async def test_the_owner_feed_resumes_after_the_server_restarts(server, browser, story):
    from playwright.async_api import expect

    alice = (await graphql(server, LOGIN, portal=PORTAL_NAME, email="alice@acme.example.com",
                           password="demo-password"))["login"]["token"]
    context = await browser.new_context()
    try:
        owner = await Watched.new(context, server)
        feed = await owner.open("/owner/")
        await feed.get_by_label("Email").fill(OWNER_EMAIL)
        await feed.get_by_label("Password").fill(OWNER_PASSWORD)
        await feed.get_by_role("button", name="Sign in").click()
        await expect(feed.get_by_text("Live: new events appear")).to_be_visible()

        await server.stop()
        await expect(feed.get_by_text("Reconnecting")).to_be_visible()
        server.start()
        await server.ready()
        # Made before the page is back on the WebSocket: it comes with the replay from `after`.
        await graphql(server, COMMENT, alice, id=story["paid"]["id"], body="Made while you reconnected")
        await graphql(server, COMMENT, alice, id=story["paid"]["id"], body="And one more")

        await expect(feed.get_by_text("Live: new events appear")).to_be_visible(timeout=20_000)
        await expect(feed.locator(".event-commented", has_text="Made while you reconnected")).to_have_count(1)
        await expect(feed.locator(".event-commented", has_text="And one more")).to_have_count(1)
        cursors = await feed_cursors(feed)
        assert len(cursors) == len(set(cursors))
        assert owner.problems == []
    finally:
        await context.close()


REWORK = """mutation($id: ID!, $customer: ID!) { updateEstimate(id: $id, input: {customerId: $customer,
  lineItems: [{name: "Photo shoot, half day", quantity: "1", rate: "450.00"}]}) { status } }"""
SEND_ESTIMATE = "mutation($id: ID!) { sendEstimate(id: $id) { status } }"
DECLINE = "mutation($id: ID!) { declineEstimate(id: $id, reason: \"Too dear\") { status } }"
UUID4 = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")


async def test_landing_page_a_payment_whose_answer_is_lost_and_an_estimate_being_revised(server, browser, story):
    from playwright.async_api import expect

    owner, base = story["owner"], f"/portal/{PORTAL_NAME}"
    acme = (await graphql(server, ACME, owner))["customers"]["edges"][0]["node"]["id"]
    invoice = (await graphql(server, NEW_INVOICE, owner, customer=acme, name="Lost answer"))["createInvoice"]
    estimate = (await graphql(server, NEW_ESTIMATE, owner, customer=acme, name="Photo shoot"))["createEstimate"]
    context = await browser.new_context()
    # As on http://<LAN address>, not a secure context: no crypto.randomUUID.
    await context.add_init_script("Object.defineProperty(Crypto.prototype, 'randomUUID', { value: undefined })")
    try:
        # The base URL: where the customer and owner pages are.
        visitor = await Watched.new(context, server)
        page = await visitor.open("/")
        await expect(page.get_by_role("heading", name="Customer portal")).to_be_visible()
        await expect(page.get_by_text(f"{server.base}/portal/<portal name>/")).to_be_visible()
        await visitor.check("landing")
        await page.get_by_role("link", name="The owner's page").click()
        await expect(page.get_by_role("heading", name="Business owner sign-in")).to_be_visible()

        page = await visitor.open(f"{base}/")
        await page.get_by_label("Email").fill("alice@acme.example.com")
        await page.get_by_label("Password").fill("demo-password")
        await page.get_by_role("button", name="Sign in").click()
        await expect(page.get_by_role("heading", name="Welcome, Alice")).to_be_visible()

        # The server pays, the answer is lost on the way; paying again gets that same payment, not a second one.
        sent, lost = [], []

        async def lose_the_first_answer(route) -> None:
            body = route.request.post_data_json if route.request.method == "POST" else None
            if body and "payInvoices" in body["query"]:
                sent.append(body["variables"]["input"])
                if not lost:
                    lost.append(await (await route.fetch()).json())
                    await route.abort("connectionreset")
                    return
            await route.continue_()

        await page.route("**/graphql", lose_the_first_answer)
        await visitor.open(f"{base}/pay?invoice={invoice['id']}")
        await page.get_by_label("Name on card").fill("Alice Anders")
        await page.get_by_label("Card number").fill("4242 4242 4242 4242")
        await page.get_by_label("CVC").fill("123")
        await page.get_by_role("button", name="Pay", exact=True).click()
        await expect(page.get_by_text("The portal cannot be reached")).to_be_visible()
        await page.get_by_role("button", name="Pay", exact=True).click()
        await expect(page.get_by_role("heading", name="Thank you")).to_be_visible()
        await page.unroute("**/graphql")

        first = lost[0]["data"]["payInvoices"]
        assert first["status"] == "SUCCEEDED"
        await expect(page.get_by_text(f"Payment {first['payment']['number']} of")).to_be_visible()
        assert len(sent) == 2 and sent[0] == sent[1], "the retry is the same request: key and card token"
        assert UUID4.fullmatch(sent[0]["idempotencyKey"])

        # The estimate open in the portal is reworked by the owner: the page says it is being revised,
        # without its new content, and shows it again once it is sent.
        alice = (await graphql(server, LOGIN, portal=PORTAL_NAME, email="alice@acme.example.com",
                               password="demo-password"))["login"]["token"]
        await visitor.open(f"{base}/documents/{estimate['id']}")
        await expect(page.get_by_role("heading", name=f"Estimate {estimate['number']}")).to_be_visible()
        await page.evaluate("window.__sameDocument = true")
        await graphql(server, DECLINE, alice, id=estimate["id"])
        await graphql(server, REWORK, owner, id=estimate["id"], customer=acme)
        await expect(page.get_by_text("is no longer shown in your portal: the business is revising it")).to_be_visible()
        await expect(page.get_by_role("button", name="Download PDF")).to_be_hidden()
        await expect(page.get_by_text("Photo shoot, half day")).to_have_count(0)
        await visitor.check("customer-estimate-being-revised")
        await graphql(server, SEND_ESTIMATE, owner, id=estimate["id"])
        await expect(page.get_by_text("Photo shoot, half day")).to_be_visible()
        await expect(page.get_by_text("is no longer shown in your portal")).to_be_hidden()
        await expect(page.get_by_role("button", name="Accept estimate")).to_be_visible()
        assert await page.evaluate("window.__sameDocument") is True
    finally:
        await context.close()
