"""Webhooks: real receivers (uvicorn on local ports) verify every request with the Standard Webhooks
reference verifier; deliveries are retried, survive a receiver that is down, are sent once per attempt by
two workers, and one organization's hanging endpoint holds up nobody else.

The service under test here has a database of its own and PORTAL_WEBHOOK_ALLOW_PRIVATE on (the receivers
listen on 127.0.0.1), with retry delays of a fraction of a second; the refusal of private addresses is
tested against the shared app, which has the setting off.
"""
import asyncio
import ipaddress
import itertools
import json
import shutil
import ssl
import subprocess
import time
from collections import Counter
from dataclasses import dataclass

import httpx
import pytest
import uvicorn
from conftest import GraphQLClient, Mailbox, database_of_its_own, unique
from factories import new_business
from live import COMMENT, MARK_VIEWED, HttpGraphQL, free_port, portal_serving
from sqlalchemy import update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from portal.core.ids import from_global_id, to_global_id
from portal.core.settings import Settings
from portal.migrations import upgrade
from portal.models.columns import utcnow
from portal.models.webhooks import WebhookEndpoint, retry_delay
from portal.notifications import webhook_targets
from portal.notifications.webhook_sender import Job, post
from portal.notifications.webhook_targets import is_public
from portal.web.app import create_app

RETRY = [0.3, 0.3, 0.3]  # four attempts in all
CREATE = """mutation($input: WebhookEndpointInput!) {
  createWebhookEndpoint(input: $input) { secret endpoint { id url description kinds enabled disabledReason } } }"""
UPDATE = """mutation($id: ID!, $input: WebhookEndpointInput!, $enabled: Boolean) {
  updateWebhookEndpoint(id: $id, input: $input, enabled: $enabled) { id url kinds enabled disabledReason } }"""
ROTATE = "mutation($id: ID!) { rotateWebhookSecret(id: $id) { secret endpoint { id } } }"
DELETE = "mutation($id: ID!) { deleteWebhookEndpoint(id: $id) }"
REDELIVER = "mutation($id: ID!) { redeliverWebhook(deliveryId: $id) { id messageId status } }"
ENDPOINTS = "{ webhookEndpoints { id url kinds enabled disabledReason } }"
DELIVERY_FIELDS = """id messageId status attempts lastAttemptAt nextAttemptAt responseStatus responseSnippet
  event { id cursor kind summary }"""
DELIVERIES = f"""query($id: ID!) {{ node(id: $id) {{ ... on WebhookEndpoint {{
  deliveries(first: 100) {{ totalCount edges {{ node {{ {DELIVERY_FIELDS} }} }} }} }} }} }}"""
NODE = "query($id: ID!) { node(id: $id) { id } }"


# ---------------------------------------------------------------- a real receiver

@dataclass
class Seen:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float

    @property
    def message_id(self) -> str:
        return self.headers["webhook-id"]

    @property
    def payload(self) -> dict:
        return json.loads(self.body)


class Receiver:
    """An HTTP receiver behind uvicorn on a local port. It records every request and answers by path:
    /ok 200, /fail 500, /flaky 500 three times per webhook-id then 200, /once 500 once per webhook-id
    then 200, /hang only once `release` is set."""

    def __init__(self) -> None:
        self.port = free_port()
        self.seen: list[Seen] = []
        self.release = asyncio.Event()
        self._task: asyncio.Task | None = None

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def at(self, path: str) -> list[Seen]:
        return [request for request in self.seen if request.path == path]

    async def __call__(self, scope, receive, send) -> None:
        body, more = b"", True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        seen = Seen(scope["path"], {key.decode(): value.decode() for key, value in scope["headers"]}, body,
                    time.monotonic())
        self.seen.append(seen)
        status = await self._answer(seen)
        headers = [(b"content-type", b"text/plain")] + ([(b"location", self.url("/ok").encode())] * (status == 307))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": f"receiver answered {status}".encode()})

    async def _answer(self, seen: Seen) -> int:
        tries = sum(1 for request in self.seen if request.headers.get("webhook-id") == seen.message_id)
        if seen.path == "/hang":
            await self.release.wait()
            return 200
        return {"/fail": 500, "/flaky": 500 if tries <= 3 else 200, "/once": 500 if tries <= 1 else 200,
                "/redirect": 307}.get(
            seen.path, 200)

    async def start(self, tls: tuple[str, str] | None = None) -> None:
        """Serve; with `tls` (certificate and key files), over HTTPS."""
        certificate, key = tls or (None, None)
        self.server = uvicorn.Server(uvicorn.Config(self, host="127.0.0.1", port=self.port, lifespan="off",
                                                    log_level="warning", timeout_graceful_shutdown=1,
                                                    ssl_certfile=certificate, ssl_keyfile=key))
        self._task = asyncio.create_task(self.server.serve())
        while not self.server.started:
            if self._task.done():
                self._task.result()
            await asyncio.sleep(0.02)

    async def stop(self) -> None:
        self.release.set()
        self.server.should_exit = True
        await self._task


@pytest.fixture
async def receiver():
    running = Receiver()
    await running.start()
    yield running
    await running.stop()


def verified(requests: list[Seen], *secrets: str) -> list[dict]:
    """Each request's body, once each secret's Standard Webhooks verifier has accepted the request."""
    assert requests
    for request in requests:
        for secret in secrets:
            Webhook(secret).verify(request.body, request.headers)
    return [request.payload for request in requests]


async def until(condition, timeout: float = 20, what: str = "the condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        await asyncio.sleep(0.05)
    raise AssertionError(f"{what} did not come within {timeout} s")


# ---------------------------------------------------------------- a service of its own, with private URLs allowed

@pytest.fixture(scope="module")
async def hook_settings(database_url, tmp_path_factory):
    async with database_of_its_own(database_url, tmp_path_factory.mktemp("webhooks-db"), "portal_hooks") as url:
        await asyncio.to_thread(upgrade, url)
        yield _settings(url, tmp_path_factory)


def _settings(url: str, tmp_path_factory) -> Settings:
    return Settings(database_url=url, mail_dir=str(tmp_path_factory.mktemp("webhooks-mail")),
                    base_url="http://portal.test", webhook_allow_private=True, webhook_retry_seconds=RETRY,
                    webhook_disable_after_hours=1000)


@pytest.fixture(scope="module")
async def hook_app(hook_settings):
    application = create_app(hook_settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture(scope="module")
async def hook_http(hook_app):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=hook_app), base_url="http://portal.test") as http:
        yield http


@dataclass
class Shop:
    """A business of the webhook service, with a customer, an invoice and a contact person signed in."""

    staff: GraphQLClient
    portal: GraphQLClient
    invoice: str
    business: object

    async def endpoint(self, url: str, **fields) -> tuple[str, str]:
        created = (await self.staff.data(CREATE, input={"url": url, **fields}))["createWebhookEndpoint"]
        return created["endpoint"]["id"], created["secret"]

    async def comment(self, body: str) -> None:
        await self.portal.data(COMMENT, id=self.invoice, body=body)

    async def deliveries(self, endpoint_id: str) -> list[dict]:
        data = await self.staff.data(DELIVERIES, id=endpoint_id)
        return [edge["node"] for edge in data["node"]["deliveries"]["edges"]]


async def new_shop(settings, http, mail_sender, prefix: str = "hooks") -> Shop:
    name = unique(prefix)
    business = await new_business(settings, GraphQLClient(http), name, f"owner@{name}.example.com")
    customer = await business.customer("Acme Corp")
    invoice = await business.invoice(customer["id"])
    portal, _ = await business.portal_user(customer["id"], f"pat@{name}.example.com",
                                           Mailbox(settings.mail_dir, mail_sender))
    return Shop(staff=business.staff, portal=portal, invoice=invoice["id"], business=business)


@pytest.fixture
async def shop(hook_settings, hook_http, hook_app) -> Shop:
    return await new_shop(hook_settings, hook_http, hook_app.state.services.mail_sender)


@pytest.fixture
async def other_shop(hook_settings, hook_http, hook_app) -> Shop:
    return await new_shop(hook_settings, hook_http, hook_app.state.services.mail_sender, "elsewhere")


# ---------------------------------------------------------------- signing, body, log

async def test_every_event_arrives_signed_with_the_body_operations_md_describes(shop, receiver):
    endpoint, secret = await shop.endpoint(receiver.url("/ok"), description="Accounting")
    assert secret.startswith("whsec_")

    await shop.portal.data(MARK_VIEWED, id=shop.invoice)
    await shop.comment("Looks right")
    await until(lambda: len(receiver.at("/ok")) >= 2, what="two deliveries")

    viewed, commented = sorted(verified(receiver.at("/ok"), secret), key=lambda body: body["data"]["cursor"])
    assert (viewed["type"], commented["type"]) == ("VIEWED", "COMMENTED")
    assert set(commented) == {"type", "timestamp", "data"}
    data = commented["data"]
    assert set(data) == {"id", "cursor", "kind", "occurredAt", "summary", "customer", "contactPerson", "subject",
                         "comment"}
    assert data["occurredAt"] == commented["timestamp"] and data["kind"] == "COMMENTED"
    assert data["customer"]["displayName"] == "Acme Corp"
    assert set(data["contactPerson"]) == {"id", "name", "email"} and data["contactPerson"]["email"].startswith("pat@")
    assert data["subject"]["type"] == "Invoice" and data["subject"]["id"] == shop.invoice
    assert data["subject"]["number"].startswith("INV-")
    assert data["comment"]["body"] == "Looks right"
    assert viewed["data"]["comment"] is None
    request = receiver.at("/ok")[-1]
    assert request.headers["content-type"] == "application/json"
    assert abs(int(request.headers["webhook-timestamp"]) - time.time()) < 30

    logged = await until(lambda: _all_settled(shop, endpoint), what="the delivery log")
    assert {delivery["messageId"] for delivery in logged} == {seen.message_id for seen in receiver.at("/ok")}
    assert all(delivery["status"] == "SUCCEEDED" and delivery["attempts"] == 1 and delivery["responseStatus"] == 200
               and delivery["responseSnippet"] == "receiver answered 200" and delivery["nextAttemptAt"] is None
               for delivery in logged)
    assert [delivery["event"]["kind"] for delivery in logged] == ["COMMENTED", "VIEWED"]  # newest first


async def _all_settled(shop: Shop, endpoint: str) -> list[dict] | None:
    deliveries = await shop.deliveries(endpoint)
    return deliveries if deliveries and all(delivery["status"] != "PENDING" for delivery in deliveries) else None


async def test_only_the_kinds_asked_for_are_delivered(shop, receiver):
    _, secret = await shop.endpoint(receiver.url("/ok"), kinds=["COMMENTED"])

    await shop.portal.data(MARK_VIEWED, id=shop.invoice)
    await shop.comment("Only this one")
    await until(lambda: receiver.at("/ok"), what="the comment")
    await asyncio.sleep(0.5)

    assert [body["type"] for body in verified(receiver.at("/ok"), secret)] == ["COMMENTED"]


# ---------------------------------------------------------------- retries

async def test_a_receiver_failing_three_times_gets_the_event_on_the_fourth_attempt_with_the_same_id(shop, receiver):
    endpoint, secret = await shop.endpoint(receiver.url("/flaky"))

    await shop.comment("Try, try again")
    await until(lambda: len(receiver.at("/flaky")) >= 4, what="four attempts")
    await asyncio.sleep(0.8)  # no fifth

    attempts = receiver.at("/flaky")
    verified(attempts, secret)
    assert len(attempts) == 4
    assert len({attempt.message_id for attempt in attempts}) == 1
    assert len({attempt.body for attempt in attempts}) == 1  # the same bytes every time
    gaps = [later.at - earlier.at for earlier, later in itertools.pairwise(attempts)]
    assert all(0.3 * 0.9 - 0.02 <= gap < 2 for gap in gaps), gaps
    [delivery] = await shop.deliveries(endpoint)
    assert (delivery["status"], delivery["attempts"], delivery["responseStatus"]) == ("SUCCEEDED", 4, 200)
    assert delivery["messageId"] == attempts[0].message_id
    print(f"\nretry gaps observed (delays {RETRY} ±10 %): {[round(gap, 3) for gap in gaps]}")


async def test_after_the_last_delay_the_delivery_is_failed_and_redeliver_sends_it_again(shop, receiver):
    endpoint, secret = await shop.endpoint(receiver.url("/fail"))

    await shop.comment("Nobody home")
    [failed] = await until(lambda: _all_settled(shop, endpoint), what="FAILED")
    assert (failed["status"], failed["attempts"], failed["responseStatus"]) == ("FAILED", 4, 500)
    assert failed["responseSnippet"] == "receiver answered 500" and failed["nextAttemptAt"] is None
    assert len(receiver.at("/fail")) == 4

    # The receiver is mended (same endpoint, a URL that answers 200), and the delivery sent again.
    await shop.staff.data(UPDATE, id=endpoint, input={"url": receiver.url("/ok")})
    redelivered = (await shop.staff.data(REDELIVER, id=failed["id"]))["redeliverWebhook"]
    assert redelivered["status"] == "PENDING" and redelivered["messageId"] == failed["messageId"]
    [again] = await until(lambda: receiver.at("/ok"), what="the redelivery")
    assert verified([again], secret) and again.message_id == failed["messageId"]
    assert again.body == receiver.at("/fail")[0].body
    [done] = await until(lambda: _all_settled(shop, endpoint), what="SUCCEEDED")
    assert (done["status"], done["attempts"]) == ("SUCCEEDED", 5)


async def test_a_receiver_that_is_down_gets_all_50_events_once_it_is_back(shop, receiver, hook_settings,
                                                                          monkeypatch):
    monkeypatch.setattr(hook_settings, "webhook_retry_seconds", [0.5] * 40)
    endpoint, secret = await shop.endpoint(receiver.url("/ok"))
    await receiver.stop()

    for number in range(50):
        await shop.comment(f"While you were out {number}")
    await until(lambda: _attempted_all(shop, endpoint), what="a failed attempt of each")
    assert receiver.at("/ok") == []
    restarted = Receiver()
    restarted.port = receiver.port
    await restarted.start()
    back = time.monotonic()
    try:
        await until(lambda: len({seen.message_id for seen in restarted.at("/ok")}) >= 50, timeout=30,
                    what="all 50 events")
        caught_up = time.monotonic() - back
        bodies = verified(restarted.at("/ok"), secret)
    finally:
        await restarted.stop()
    assert sorted(body["data"]["comment"]["body"] for body in bodies if body["type"] == "COMMENTED") == \
        sorted({f"While you were out {number}" for number in range(50)})
    assert len(restarted.at("/ok")) == 50  # each once: it answered every one of them 200
    print(f"\n50 events held while the receiver was down: all delivered {caught_up:.2f} s after it came back")


async def _attempted_all(shop: Shop, endpoint: str) -> bool:
    deliveries = await shop.deliveries(endpoint)
    return len(deliveries) == 50 and all(delivery["attempts"] >= 1 for delivery in deliveries)


async def test_an_endpoint_failing_for_the_set_hours_is_disabled_and_the_owner_emailed(shop, receiver, hook_settings,
                                                                                       hook_app, monkeypatch):
    monkeypatch.setattr(hook_settings, "webhook_retry_seconds", [0.2] * 50)
    monkeypatch.setattr(hook_settings, "webhook_disable_after_hours", 0.8 / 3600)  # 0.8 seconds
    endpoint, _ = await shop.endpoint(receiver.url("/fail"))

    await shop.comment("Into the void")
    disabled = await until(lambda: _disabled(shop), what="the endpoint disabled")
    assert disabled["id"] == endpoint and disabled["disabledReason"].startswith("Every delivery failed for")
    assert "HTTP 500" in disabled["disabledReason"]
    mailbox = Mailbox(hook_settings.mail_dir, hook_app.state.services.mail_sender)
    [email] = [message for message in await mailbox.to(shop.business.owner_email)
               if message["Subject"] == "A webhook endpoint was disabled"]
    assert receiver.url("/fail") in email.get_body(("plain",)).get_content()

    await asyncio.sleep(0.5)
    tried = len(receiver.at("/fail"))
    await shop.comment("While disabled")
    await asyncio.sleep(0.8)
    assert len(receiver.at("/fail")) == tried  # nothing more is sent to it
    assert len(await shop.deliveries(endpoint)) == 1  # the event while disabled was not queued for it

    enabled = (await shop.staff.data(UPDATE, id=endpoint, input={"url": receiver.url("/ok")}, enabled=True))
    assert enabled["updateWebhookEndpoint"]["enabled"] is True
    assert enabled["updateWebhookEndpoint"]["disabledReason"] is None


async def _disabled(shop: Shop) -> dict | None:
    endpoints = (await shop.staff.data(ENDPOINTS))["webhookEndpoints"]
    return next((endpoint for endpoint in endpoints if not endpoint["enabled"]), None)


def test_retry_delays_have_ten_percent_jitter_and_end():
    delays = [retry_delay(1, [100.0]).total_seconds() for _ in range(500)]
    assert 90 <= min(delays) < 95 and 105 < max(delays) <= 110
    assert retry_delay(2, [100.0]) is None
    assert retry_delay(1, []) is None


# ---------------------------------------------------------------- rotation

async def test_during_a_rotation_requests_verify_with_either_secret(shop, receiver, hook_app):
    endpoint, old = await shop.endpoint(receiver.url("/ok"))
    new = (await shop.staff.data(ROTATE, id=endpoint))["rotateWebhookSecret"]["secret"]
    assert new.startswith("whsec_") and new != old

    await shop.comment("Rotated")
    [request] = await until(lambda: receiver.at("/ok"), what="the event")
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    verified([request], old)
    verified([request], new)

    # Once the overlap is over, only the new secret signs.
    async with hook_app.state.services.session_factory() as session:
        await session.execute(update(WebhookEndpoint).where(WebhookEndpoint.secret == new)
                              .values(previous_secret_expires_at=utcnow()))
        await session.commit()
    await shop.comment("After the overlap")
    await until(lambda: len(receiver.at("/ok")) == 2, what="the second event")
    later = receiver.at("/ok")[1]
    assert len(later.headers["webhook-signature"].split(" ")) == 1
    verified([later], new)
    with pytest.raises(WebhookVerificationError):
        Webhook(old).verify(later.body, later.headers)


# ---------------------------------------------------------------- fairness

async def test_a_hanging_receiver_does_not_delay_other_endpoints_or_organizations(shop, other_shop, receiver):
    hanging = [await shop.endpoint(receiver.url("/hang")) for _ in range(3)]  # more than the organization's share
    await shop.endpoint(receiver.url("/ok"))
    _, elsewhere_secret = await other_shop.endpoint(receiver.url("/ok"))
    for number in range(6):
        await shop.comment(f"Hanging {number}")
    await until(lambda: len(receiver.at("/hang")) >= 8, what="the hanging endpoints' attempts")

    started = time.monotonic()
    for number in range(10):
        await other_shop.comment(f"Elsewhere {number}")
    await until(lambda: sum(1 for seen in receiver.at("/ok") if b"Elsewhere" in seen.body) == 10, timeout=5,
                what="the other organization's events")
    elsewhere = time.monotonic() - started
    verified([seen for seen in receiver.at("/ok") if b"Elsewhere" in seen.body], elsewhere_secret)
    assert len(receiver.at("/hang")) <= 8  # the organization's share in all, not the whole worker's
    receiver.release.set()
    await until(lambda: sum(1 for seen in receiver.at("/ok") if b"Hanging" in seen.body) == 6, timeout=10,
                what="the same organization's other endpoint")
    for endpoint, _ in hanging:
        await shop.staff.data(DELETE, id=endpoint)
    print(f"\n10 events of another organization delivered in {elsewhere:.2f} s while 3 endpoints hung")


async def test_a_hanging_receiver_does_not_delay_another_endpoint_of_the_same_organization(shop, receiver):
    hanging, _ = await shop.endpoint(receiver.url("/hang"))
    await shop.endpoint(receiver.url("/ok"))

    started = time.monotonic()
    for number in range(3):
        await shop.comment(f"Both {number}")
    await until(lambda: len(receiver.at("/ok")) == 3, timeout=5, what="the other endpoint's events")
    latency = time.monotonic() - started
    assert len(receiver.at("/hang")) >= 1
    receiver.release.set()
    await shop.staff.data(DELETE, id=hanging)
    print(f"\n3 events to a healthy endpoint in {latency:.2f} s beside a hanging one")


# ---------------------------------------------------------------- the address rule at every attempt

def _job(url: str) -> Job:
    return Job(delivery_id=1, organization_id=1, endpoint_id=1, message_id="msg_test", body=b"{}", attempts=0,
               url=url, secrets=["whsec_" + "A" * 43 + "="])


async def test_every_attempt_checks_the_address_and_connects_to_the_checked_one(receiver):
    for url in (receiver.url("/ok"), f"http://localhost:{receiver.port}/ok", f"https://localhost:{receiver.port}/ok",
                "https://169.254.169.254/latest/meta-data", "https://[::ffff:127.0.0.1]/"):
        outcome = await post(_job(url), allow_private=False)
        assert outcome.status is None and outcome.snippet.startswith("Not sent: "), (url, outcome)
    assert receiver.seen == []

    outcome = await post(_job(f"http://localhost:{receiver.port}/ok?x=1"), allow_private=True)
    assert outcome.status == 200
    [request] = receiver.seen
    assert request.headers["host"] == f"localhost:{receiver.port}"  # the URL's name, sent to the checked address


@pytest.mark.skipif(shutil.which("openssl") is None, reason="makes its certificate with openssl")
async def test_over_https_the_certificate_is_checked_against_the_urls_host_name(tmp_path):
    certificate, key = str(tmp_path / "cert.pem"), str(tmp_path / "key.pem")
    await asyncio.to_thread(subprocess.run, [
        "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", certificate, "-days", "1",
        "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost"], check=True, capture_output=True)
    trusted = ssl.create_default_context(cafile=certificate)
    receiver = Receiver()
    await receiver.start(tls=(certificate, key))
    try:
        named = await post(_job(f"https://localhost:{receiver.port}/ok"), allow_private=True, trusted=trusted)
        by_address = await post(_job(f"https://127.0.0.1:{receiver.port}/ok"), allow_private=True, trusted=trusted)
        untrusted = await post(_job(f"https://localhost:{receiver.port}/ok"), allow_private=True)
    finally:
        await receiver.stop()

    assert (named.status, named.snippet) == (200, "receiver answered 200")
    [request] = receiver.seen  # connected to the checked address, TLS and Host for the name
    assert request.headers["host"] == f"localhost:{receiver.port}"
    assert by_address.status is None and "certificate" in by_address.snippet.lower()  # not valid for 127.0.0.1
    assert untrusted.status is None and "certificate" in untrusted.snippet.lower()


async def test_redirects_are_not_followed(receiver):
    outcome = await post(_job(receiver.url("/redirect")), allow_private=True)

    assert (outcome.status, outcome.snippet) == (307, "receiver answered 307")
    assert [request.path for request in receiver.seen] == ["/redirect"]


def test_only_public_addresses_are_public():
    for address in ("127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0",
                    "::1", "fe80::1", "fc00::1", "::ffff:10.0.0.1", "224.0.0.1",
                    # an internal IPv4 address inside an IPv6 one: NAT64 (well-known and local-use), 6to4,
                    # IPv4-compatible, IPv4-translated, Teredo; and ranges Python 3.11 calls global
                    "64:ff9b::a9fe:a9fe", "64:ff9b::a00:1", "64:ff9b:1::a00:1", "2002:a00:1::1", "2002:7f00:1::",
                    "::a9fe:a9fe", "::10.0.0.1", "::ffff:0:a00:1", "2001:0:4136:e378:8000:63bf:3fff:fdd2",
                    "192.0.0.9", "192.88.99.1", "fec0::1", "3fff::1", "5f00::1", "ff0e::1"):
        assert not is_public(ipaddress.ip_address(address)), address
    for address in ("93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946", "::ffff:93.184.216.34",
                    "64:ff9b::5db8:d822", "2002:5db8:d822::1"):  # a public IPv4 address through NAT64 or 6to4
        assert is_public(ipaddress.ip_address(address)), address


# ---------------------------------------------------------------- refusals and isolation

PRIVATE_URLS = ["http://127.0.0.1:8080/hook", "https://127.0.0.1/hook", "https://localhost/hook",
                "https://169.254.169.254/latest/meta-data", "https://[::1]/hook", "https://10.0.0.5/hook",
                "https://[64:ff9b::a9fe:a9fe]/latest/meta-data", "https://[2002:a00:1::1]/hook",
                "http://hooks.example.com/hook", "ftp://hooks.example.com/hook", "https:///nohost"]


async def test_a_private_or_plain_http_url_is_refused_without_the_setting(business, settings):
    assert settings.webhook_allow_private is False
    for url in PRIVATE_URLS:
        body = await business.staff.request(CREATE, input={"url": url})
        [error] = body["errors"]
        assert (error["extensions"]["code"], error["extensions"]["field"]) == ("BAD_USER_INPUT", "input.url"), url
    assert (await business.staff.data(ENDPOINTS))["webhookEndpoints"] == []

    created = await business.staff.data(CREATE, input={"url": "https://hooks.example.com/portal", "kinds": []})
    endpoint = created["createWebhookEndpoint"]["endpoint"]
    assert endpoint["kinds"] == [] and endpoint["enabled"] is True
    refused = await business.staff.request(UPDATE, id=endpoint["id"], input={"url": "https://127.0.0.1/hook"})
    assert refused["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    await business.staff.data(DELETE, id=endpoint["id"])


async def row_is_free(database_url: str, pk: int) -> bool:
    """Whether another connection may write an endpoint's row now (waiting two seconds at most)."""
    options = {"timeout": 2} if database_url.startswith("sqlite") else {"server_settings": {"lock_timeout": "2000"}}
    engine = create_async_engine(database_url, connect_args=options)
    try:
        async with engine.connect() as connection:
            await connection.execute(update(WebhookEndpoint).where(WebhookEndpoint.id == pk).values(description="x"))
            await connection.rollback()
        return True
    except DBAPIError:
        return False
    finally:
        await engine.dispose()


async def test_the_url_is_resolved_before_the_endpoint_is_locked(business, settings, monkeypatch):
    created = await business.staff.data(CREATE, input={"url": "https://hooks.example.com/portal", "kinds": []})
    endpoint = created["createWebhookEndpoint"]["endpoint"]["id"]
    free_while_resolving = []

    async def resolving(host: str, port: int) -> list:
        free_while_resolving.append(await row_is_free(settings.database_url, from_global_id(endpoint)[1]))
        return [ipaddress.ip_address("93.184.216.34")]

    monkeypatch.setattr(webhook_targets, "resolve", resolving)
    await business.staff.data(UPDATE, id=endpoint, input={"url": "https://hooks.example.com/moved"})

    assert free_while_resolving == [True]  # a slow DNS answer holds no lock (nor SQLite's write lock)
    await business.staff.data(DELETE, id=endpoint)


async def test_contact_persons_may_not_manage_webhooks(shop):
    assert await shop.portal.error_code(ENDPOINTS) == "FORBIDDEN"
    assert await shop.portal.error_code(CREATE, input={"url": "http://127.0.0.1:9/x"}) == "FORBIDDEN"


async def test_another_organizations_endpoints_and_deliveries_are_not_found(shop, other_shop, receiver):
    endpoint, _ = await shop.endpoint(receiver.url("/ok"))
    elsewhere, _ = await other_shop.endpoint(receiver.url("/elsewhere"))
    await shop.comment("Ours")
    [delivery] = await until(lambda: _all_settled(shop, endpoint), what="the delivery")
    missing_endpoint = to_global_id("WebhookEndpoint", 2_000_000_000)
    missing_delivery = to_global_id("WebhookDelivery", 2_000_000_000)

    attempts = [(NODE, {"id": endpoint}, {"id": missing_endpoint}),
                (NODE, {"id": delivery["id"]}, {"id": missing_delivery}),
                (UPDATE, {"id": endpoint, "input": {"url": receiver.url("/x")}},
                 {"id": missing_endpoint, "input": {"url": receiver.url("/x")}}),
                (ROTATE, {"id": endpoint}, {"id": missing_endpoint}),
                (DELETE, {"id": endpoint}, {"id": missing_endpoint}),
                (REDELIVER, {"id": delivery["id"]}, {"id": missing_delivery})]
    for document, foreign, missing in attempts:
        foreign_error = (await other_shop.staff.request(document, **foreign))["errors"]
        missing_error = (await other_shop.staff.request(document, **missing))["errors"]
        assert foreign_error[0]["extensions"]["code"] == "NOT_FOUND", document
        assert [(error["message"], error["extensions"]["code"]) for error in foreign_error] == \
            [(error["message"], error["extensions"]["code"]) for error in missing_error]
    assert [found["id"] for found in (await other_shop.staff.data(ENDPOINTS))["webhookEndpoints"]] == [elsewhere]
    assert (await shop.staff.data(ENDPOINTS))["webhookEndpoints"][0]["url"] == receiver.url("/ok")  # unchanged
    assert receiver.at("/elsewhere") == []  # nothing of ours went to the other organization's endpoint


async def test_a_deleted_endpoint_gets_nothing_more(shop, receiver):
    endpoint, _ = await shop.endpoint(receiver.url("/ok"))
    assert (await shop.staff.data(DELETE, id=endpoint))["deleteWebhookEndpoint"] is True
    await shop.comment("Gone")
    await asyncio.sleep(0.5)
    assert receiver.seen == []
    assert await shop.staff.error_code(NODE, id=endpoint) == "NOT_FOUND"


# ---------------------------------------------------------------- two workers

async def test_with_two_workers_each_attempt_is_made_once(hook_settings, hook_http, hook_app, receiver, tmp_path,
                                                           monkeypatch):
    if not hook_settings.database_url.startswith("postgresql"):
        pytest.skip("several processes share a PostgreSQL database")
    shop = await new_shop(hook_settings, hook_http, hook_app.state.services.mail_sender, "workers")

    async def nothing() -> int:
        return 0

    monkeypatch.setattr(hook_app.state.services.webhook_sender, "start_due", nothing)  # only the two workers send
    endpoint, secret = await shop.endpoint(receiver.url("/once"))
    environment = {"PORTAL_DATABASE_URL": hook_settings.database_url, "PORTAL_MAIL_DIR": str(tmp_path),
                   "PORTAL_BASE_URL": "http://portal.test", "PORTAL_WEBHOOK_ALLOW_PRIVATE": "true",
                   "PORTAL_WEBHOOK_RETRY_SECONDS": "0.5,0.5,0.5"}

    async with portal_serving(environment, log_dir=tmp_path, workers=2) as (server,):
        portal = HttpGraphQL(server.base, shop.portal.token)  # a new connection per request: either worker
        started = time.monotonic()
        for number in range(20):
            await portal.data(COMMENT, id=shop.invoice, body=f"Worker {number}")
        await until(lambda: len(receiver.at("/once")) >= 40, timeout=30, what="two attempts of each event")
        elapsed = time.monotonic() - started
        await asyncio.sleep(1.5)

    requests = receiver.at("/once")
    verified(requests, secret)
    per_message = Counter(request.message_id for request in requests)
    assert len(per_message) == 20 and set(per_message.values()) == {2}, per_message  # failed once, then took it
    logged = await shop.deliveries(endpoint)
    assert {(delivery["status"], delivery["attempts"]) for delivery in logged} == {("SUCCEEDED", 2)}
    print(f"\ntwo workers: 20 events x 2 attempts, each made once, in {elapsed:.2f} s")
