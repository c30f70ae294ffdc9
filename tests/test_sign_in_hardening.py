"""Issue 12, items 1, 2, 3, 9, 10 and 14, against a real server behind a trusted proxy.

The server trusts 127.0.0.1 as its reverse proxy (PORTAL_TRUSTED_PROXIES), so each test speaks for
several clients by the X-Forwarded-For entry that proxy would add. Structure, not time: hashing is
shown to run in the hashing threads, and refused tries to cost no hash at all.
"""
import asyncio
import json
import os
import secrets
import subprocess
import sys
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from factories import ACCEPT_INVITE, CONTACT_PASSWORD, ENABLE_PORTAL, OWNER_PASSWORD, STAFF_LOGIN, invite_token
from live import PROTOCOL, ActivityClient, connection_init, http_base, portal_serving, uvicorn_serving
from sqlalchemy import update as sa_update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine
from websockets.asyncio.client import connect

from portal.core.addresses import client_address, networks, parse_proxies
from portal.core.ids import from_global_id
from portal.models import auth, throttle
from portal.models.auth import Invitation
from portal.models.customers import ContactPerson
from portal.models.passwords import check_new_password
from portal.web.app import create_app

POLL_SECONDS = 0.3
STAGGER_SECONDS = 0.02
CHANGE_PASSWORD = "mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) }"
DISABLE = "mutation($ids: [ID!]!) { disablePortalAccess(contactPersonIds: $ids) { id } }"


@dataclass
class Proxied:
    """The server as seen through the trusted proxy: each call names the client address the proxy saw."""

    base: str
    ws_url: str

    async def call(self, query: str, *, client: str, bearer: str | None = None, via: str = "127.0.0.1",
                   forwarded: str | None = None, **variables: object) -> dict:
        headers = {"X-Forwarded-For": forwarded if forwarded is not None else client}
        if bearer:
            headers["Authorization"] = f"Bearer {bearer}"
        transport = httpx.AsyncHTTPTransport(local_address=via)
        async with httpx.AsyncClient(transport=transport) as http:
            response = await http.post(f"{self.base}/graphql", json={"query": query, "variables": variables},
                                       headers=headers)
        assert response.status_code == 200, response.text
        return response.json()

    async def code(self, query: str, **kwargs: object) -> str:
        body = await self.call(query, **kwargs)
        assert body.get("errors"), body
        return body["errors"][0]["extensions"]["code"]

    async def staff_login(self, email: str, password: str, **kwargs: object) -> dict:
        return await self.call(STAFF_LOGIN, email=email, password=password, **kwargs)


@pytest.fixture(scope="module")
async def proxied(settings):
    app = create_app(settings.model_copy(update={"trusted_proxies": parse_proxies("127.0.0.1, ::1"),
                                                 "activity_poll_seconds": POLL_SECONDS}))
    async with app.router.lifespan_context(app), uvicorn_serving(app) as ws_url:
        yield Proxied(base=http_base(ws_url), ws_url=ws_url)


def client_net() -> str:
    """A /24 of documentation-like private addresses of this test alone (counts are per address)."""
    return f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"


def full_width(text: str) -> str:
    return "".join(chr(ord(char) + 0xFEE0) if char.isascii() and char.isalpha() else char for char in text)


def spellings(email: str) -> list[str]:
    """Ways of writing one address that sign in to the same account."""
    local, _, domain = email.partition("@")
    return [f"{local}@{full_width(domain[0])}{domain[1:]}", f"{local}@{domain.replace('.', '。')}",
            f"{local}@{domain.replace('.', '．')}", f"{local.upper()}@{domain}", f"{full_width(local)}@{domain}"]


def error(body: dict) -> dict:
    assert body.get("errors"), body
    return body["errors"][0]


class RecordingHasher:
    """argon2 as it is, noting the thread each hash or verification runs in."""

    def __init__(self, real: object) -> None:
        self.real, self.threads = real, []

    def hash(self, password: str) -> str:
        self.threads.append(threading.current_thread().name)
        return self.real.hash(password)

    def verify(self, hash_: str, password: str) -> bool:
        self.threads.append(threading.current_thread().name)
        return self.real.verify(hash_, password)


@pytest.fixture
def hashes(monkeypatch) -> RecordingHasher:
    recorder = RecordingHasher(auth._hasher)
    monkeypatch.setattr(auth, "_hasher", recorder)
    return recorder


# Item 1: the identifier is normalised before it is counted.
async def test_spellings_of_one_email_share_one_count(business, proxied):
    net = client_net()
    for spelling in spellings(business.owner_email):
        assert error(await proxied.staff_login(spelling, "guess-guess-1", client=f"{net}.1"))["extensions"][
            "code"] == "UNAUTHENTICATED"

    refused = error(await proxied.staff_login(f"{business.owner_email.split('@')[0]}@{full_width('x')}.example",
                                              OWNER_PASSWORD, client=f"{net}.1"))
    assert refused["extensions"]["code"] == "UNAUTHENTICATED"  # another identifier: its own count
    for spelling in [business.owner_email, *spellings(business.owner_email)]:
        refused = error(await proxied.staff_login(spelling, OWNER_PASSWORD, client=f"{net}.1"))
        assert refused["extensions"]["code"] == "RATE_LIMITED", spelling
        assert 0 < refused["extensions"]["retryAfter"] <= throttle.WINDOW.total_seconds()


# Item 2: guesses from elsewhere never lock the owner out; addresses that guessed wrong get stricter.
async def test_an_account_under_attack_still_signs_in_from_a_clean_address(business, proxied):
    net, email = client_net(), business.owner_email
    attackers = throttle.UNDER_ATTACK // throttle.PER_PAIR
    for attacker in range(1, attackers + 1):
        for _ in range(throttle.PER_PAIR):
            assert error(await proxied.staff_login(email, "guess-guess-1", client=f"{net}.{attacker}"))[
                "extensions"]["code"] == "UNAUTHENTICATED"
        assert error(await proxied.staff_login(email, OWNER_PASSWORD, client=f"{net}.{attacker}"))[
            "extensions"]["code"] == "RATE_LIMITED"

    # Under attack, an address that has failed on the account once gets no second try...
    late = f"{net}.100"
    assert error(await proxied.staff_login(email, "guess-guess-1", client=late))["extensions"]["code"] == \
        "UNAUTHENTICATED"
    assert error(await proxied.staff_login(email, OWNER_PASSWORD, client=late))["extensions"]["code"] == \
        "RATE_LIMITED"
    # ...while the owner, at an address with no failure on it, signs in.
    signed_in = await proxied.staff_login(email, OWNER_PASSWORD, client=f"{net}.200")
    assert signed_in["data"]["staffLogin"]["token"], signed_in


async def test_entries_the_client_wrote_itself_do_not_make_a_new_address(business, proxied):
    net = client_net()
    for attempt in range(throttle.PER_PAIR):
        forwarded = f"203.0.113.{attempt}, {net}.1"  # the proxy appended what it saw: the rightmost entry
        assert error(await proxied.staff_login(business.owner_email, "guess-guess-1", client="", forwarded=forwarded))[
            "extensions"]["code"] == "UNAUTHENTICATED"
    assert error(await proxied.staff_login(business.owner_email, OWNER_PASSWORD, client="",
                                           forwarded=f"198.51.100.7, {net}.1"))["extensions"]["code"] == "RATE_LIMITED"


async def test_ipv6_clients_count_per_64(business, proxied):
    prefix = f"2001:db8:{uuid.uuid4().int % 65000:x}:1"
    for host in range(1, throttle.PER_PAIR + 1):
        assert error(await proxied.staff_login(business.owner_email, "guess-guess-1", client=f"{prefix}::{host}"))[
            "extensions"]["code"] == "UNAUTHENTICATED"
    assert error(await proxied.staff_login(business.owner_email, OWNER_PASSWORD, client=f"{prefix}:ffff::9"))[
        "extensions"]["code"] == "RATE_LIMITED"
    other_64 = f"2001:db8:{uuid.uuid4().int % 65000:x}:2::1"
    assert (await proxied.staff_login(business.owner_email, OWNER_PASSWORD, client=other_64))["data"]["staffLogin"]


def unused_loopback_address() -> str:
    """A loopback address of this test's own: other tests (the schema fuzzer) fail sign-ins from 127.0.0.2-4."""
    return f"127.{secrets.randbelow(250) + 1}.{secrets.randbelow(250) + 1}.{secrets.randbelow(250) + 2}"


async def test_an_address_guessing_across_accounts_is_stopped(proxied, monkeypatch, hashes):
    """Credential stuffing: one address, a different account each time. The peer is no trusted proxy, so
    the X-Forwarded-For it sends is ignored and it is counted by its own address."""
    monkeypatch.setattr(throttle, "PER_ADDRESS", 3)  # the real bar is high enough for an office's NAT
    peer = unused_loopback_address()
    for attempt in range(3):
        assert error(await proxied.staff_login(f"victim{attempt}-{uuid.uuid4().hex[:6]}@stuffed.example.com",
                                               "guess-guess-1", client=f"192.0.2.{attempt}", via=peer))[
            "extensions"]["code"] == "UNAUTHENTICATED"
    hashed = len(hashes.threads)

    refused = error(await proxied.staff_login("victim9@stuffed.example.com", "guess-guess-1", client="192.0.2.9",
                                              via=peer))

    assert refused["extensions"]["code"] == "RATE_LIMITED"
    assert len(hashes.threads) == hashed  # refused before any hash


# Item 3: argon2 runs in the bounded hashing threads, and only for tries the throttle let through.
async def test_hashing_runs_off_the_event_loop_and_only_past_the_throttle(business, proxied, hashes):
    net = client_net()
    await proxied.staff_login(business.owner_email, OWNER_PASSWORD, client=f"{net}.1")
    await proxied.staff_login(f"nobody-{uuid.uuid4().hex[:6]}@nowhere.example.com", "guess-guess-1",
                              client=f"{net}.1")
    assert len(hashes.threads) == 2
    assert all(name.startswith("argon2") for name in hashes.threads), hashes.threads
    assert auth._hashing_pool._max_workers == auth.HASHING_THREADS <= (os.cpu_count() or 1)  # bounded

    for _ in range(throttle.PER_PAIR):
        await proxied.staff_login(business.owner_email, "guess-guess-1", client=f"{net}.2")
    hashed = len(hashes.threads)
    for _ in range(3):
        assert error(await proxied.staff_login(business.owner_email, OWNER_PASSWORD, client=f"{net}.2"))[
            "extensions"]["code"] == "RATE_LIMITED"
    assert len(hashes.threads) == hashed


async def test_parallel_guesses_gain_nothing(business, proxied, hashes):
    client = f"{client_net()}.1"
    answers = await asyncio.gather(*(proxied.staff_login(business.owner_email, "guess-guess-1", client=client)
                                     for _ in range(4 * throttle.PER_PAIR)))

    codes = [error(answer)["extensions"]["code"] for answer in answers]
    assert codes.count("UNAUTHENTICATED") <= throttle.PER_PAIR
    assert len(hashes.threads) <= throttle.PER_PAIR


async def test_parallel_guesses_gain_nothing_with_two_workers(business, settings, tmp_path):
    """Each worker used to count only its own running tries: two of them let through up to twice the limit."""
    if not settings.database_url.startswith("postgresql"):
        pytest.skip("several processes share a PostgreSQL database")
    environment = {"PORTAL_DATABASE_URL": settings.database_url, "PORTAL_MAIL_DIR": str(tmp_path),
                   "PORTAL_BASE_URL": "http://portal.test", "PORTAL_TRUSTED_PROXIES": "127.0.0.1"}
    client = f"{client_net()}.1"

    async def guess(proxied: Proxied, number: int) -> dict:
        await asyncio.sleep(number * STAGGER_SECONDS)  # one after the other, each while the earlier ones still hash
        return await proxied.staff_login(business.owner_email, "guess-guess-1", client=client)

    async with portal_serving(environment, log_dir=tmp_path, workers=2) as (server,):
        proxied = Proxied(base=server.base, ws_url=server.ws_url)  # a new connection per call: either worker
        answers = await asyncio.gather(*(guess(proxied, number) for number in range(4 * throttle.PER_PAIR)))
        owner = await proxied.staff_login(business.owner_email, OWNER_PASSWORD, client=f"{client_net()}.1")

    codes = [error(answer)["extensions"]["code"] for answer in answers]
    assert set(codes) <= {"UNAUTHENTICATED", "RATE_LIMITED"} and "RATE_LIMITED" in codes, codes
    assert codes.count("UNAUTHENTICATED") <= throttle.PER_PAIR  # each one a password check
    assert owner["data"]["staffLogin"]["token"], owner  # from a clean address, still


async def test_a_right_password_leaves_no_failure(business, proxied):
    client = f"{client_net()}.1"
    for _ in range(throttle.PER_PAIR - 1):
        assert error(await proxied.staff_login(business.owner_email, "guess-guess-1", client=client))[
            "extensions"]["code"] == "UNAUTHENTICATED"
    for _ in range(throttle.PER_PAIR):  # had each try stayed counted, the second would be refused
        assert (await proxied.staff_login(business.owner_email, OWNER_PASSWORD, client=client))["data"][
            "staffLogin"]["token"]


async def test_invitation_guesses_are_throttled_per_token_and_address(proxied, hashes):
    client, token = f"{client_net()}.1", "x" * 43
    for _ in range(throttle.PER_PAIR):
        assert await proxied.code(ACCEPT_INVITE, client=client, token=token,
                                  password="a-fine-password") == "UNAUTHENTICATED"
    body = await proxied.call(ACCEPT_INVITE, client=client, token=token, password="a-fine-password")

    assert error(body)["extensions"]["code"] == "RATE_LIMITED" and error(body)["extensions"]["retryAfter"] > 0
    assert hashes.threads == []  # a wrong token never costs a hash


# Item 9: a new password by invitation ends the sessions opened with the old one.
async def test_accepting_a_new_invitation_ends_older_sessions(business, mailbox, proxied):
    customer = await business.customer()
    email = f"pat-{uuid.uuid4().hex[:6]}@client.example.com"
    old_portal, contact = await business.portal_user(customer["id"], email, mailbox)
    net = client_net()

    await business.staff.data(ENABLE_PORTAL, ids=[contact["id"]])  # a fresh link for an active person
    accepted = await proxied.call(ACCEPT_INVITE, client=f"{net}.1", token=invite_token((await mailbox.to(email))[-1]),
                                  password="a-brand-new-password")

    new_token = accepted["data"]["acceptInvite"]["token"]
    assert error(await proxied.call("{ viewer { __typename } }", client=f"{net}.1", bearer=old_portal.token))[
        "extensions"]["code"] == "UNAUTHENTICATED"
    assert (await proxied.call("{ viewer { __typename } }", client=f"{net}.1", bearer=new_token))["data"]["viewer"]


async def rows_are_free(database_url: str, contact_pk: int) -> bool:
    """Whether another connection may write a contact person's row and invitations now (at most a second's wait):
    no transaction holds their locks, nor SQLite's write lock."""
    options = {"timeout": 1} if database_url.startswith("sqlite") else {"server_settings": {"lock_timeout": "1000"}}
    engine = create_async_engine(database_url, connect_args=options)
    try:
        async with engine.connect() as connection:
            await connection.execute(sa_update(ContactPerson).where(ContactPerson.id == contact_pk)
                                     .values(first_name=ContactPerson.first_name))
            await connection.execute(sa_update(Invitation).where(Invitation.contact_person_id == contact_pk)
                                     .values(expires_at=Invitation.expires_at))
            await connection.rollback()
        return True
    except DBAPIError:
        return False
    finally:
        await engine.dispose()


class ProbingHasher(RecordingHasher):
    """argon2 as it is; before each new hash, notes whether the person's rows are free."""

    def __init__(self, real: object, database_url: str) -> None:
        super().__init__(real)
        self.database_url, self.contact_pk, self.free = database_url, 0, []

    def hash(self, password: str) -> str:
        self.free.append(asyncio.run(rows_are_free(self.database_url, self.contact_pk)))  # in the hashing thread
        return super().hash(password)


# Issue 12 item 3: no transaction (a pooled connection, row locks, SQLite's write lock) waits on a hash.
async def test_accepting_an_invitation_and_changing_a_password_hash_outside_any_transaction(
        business, mailbox, proxied, settings, monkeypatch):
    customer = await business.customer()
    email = f"hash-{uuid.uuid4().hex[:6]}@client.example.com"
    contact = await business.contact(customer["id"], email)
    await business.staff.data(ENABLE_PORTAL, ids=[contact["id"]])
    hasher = ProbingHasher(auth._hasher, settings.database_url)
    hasher.contact_pk = from_global_id(contact["id"])[1]
    monkeypatch.setattr(auth, "_hasher", hasher)
    client = f"{client_net()}.1"

    accepted = await proxied.call(ACCEPT_INVITE, client=client, token=invite_token((await mailbox.to(email))[-1]),
                                  password=CONTACT_PASSWORD)
    changed = await proxied.call(CHANGE_PASSWORD, client=client, bearer=accepted["data"]["acceptInvite"]["token"],
                                 c=CONTACT_PASSWORD, n="a-brand-new-password")

    assert changed["data"]["changePassword"] is True, changed
    assert hasher.free == [True, True]


# Item 10: a WebSocket connection lives only as long as its session, with or without a subscription.
async def signed_in_contact(business, mailbox) -> tuple[str, dict]:
    customer = await business.customer()
    portal, contact = await business.portal_user(customer["id"], f"ws-{uuid.uuid4().hex[:6]}@client.example.com",
                                                 mailbox)
    return portal.token, contact


@pytest.mark.parametrize("ending", ["logout", "disabled"])
async def test_an_idle_connection_closes_when_its_session_ends(business, mailbox, proxied, ending):
    token, contact = await signed_in_contact(business, mailbox)
    async with ActivityClient.connected(proxied.ws_url, token) as socket:
        operation = await socket.subscribe("{ __typename }")
        answer = await socket.receive()
        assert answer["type"] == "next" and answer["id"] == operation, answer
        assert (await socket.receive())["type"] == "complete"

        if ending == "logout":
            await proxied.call("mutation { logout }", client="10.0.0.1", bearer=token)
        else:
            await business.staff.data(DISABLE, ids=[contact["id"]])

        assert await socket.close_code(timeout=10 * POLL_SECONDS + 5) == 4403


async def test_an_operation_after_the_session_ended_is_refused_with_4403(business, mailbox, proxied):
    token, _ = await signed_in_contact(business, mailbox)
    async with connect(proxied.ws_url, subprotocols=[PROTOCOL], open_timeout=10) as websocket:
        socket = ActivityClient(websocket)
        await websocket.send(connection_init(token))
        assert (await socket.receive())["type"] == "connection_ack"
        await proxied.call("mutation { logout }", client="10.0.0.1", bearer=token)

        await websocket.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": "{ __typename }"}}))

        assert await socket.close_code() == 4403


# Item 14: passwords that are blank, the email, or common are refused, with the field and a reason.
@pytest.mark.parametrize("weak", ["          ", "{email}", "{local}", "{EMAIL}", "1234567890", "Qwertyuiop"])
async def test_weak_passwords_are_refused_and_the_invitation_still_works(business, mailbox, proxied, weak):
    customer = await business.customer()
    local = f"weak-{uuid.uuid4().hex[:8]}"
    email = f"{local}@client.example.com"
    contact = await business.contact(customer["id"], email)
    await business.staff.data(ENABLE_PORTAL, ids=[contact["id"]])
    token, client = invite_token((await mailbox.to(email))[-1]), f"{client_net()}.1"

    body = await proxied.call(ACCEPT_INVITE, client=client, token=token,
                              password=weak.format(email=email, local=local, EMAIL=email.upper()))

    refusal = error(body)
    assert (refusal["extensions"]["code"], refusal["extensions"]["field"]) == ("BAD_USER_INPUT", "password")
    assert refusal["message"].startswith(("A password", "This password"))
    assert (await proxied.call(ACCEPT_INVITE, client=client, token=token, password="a-fine-password"))["data"]


async def test_a_new_password_cannot_be_the_email(business, proxied):
    login = await proxied.staff_login(business.owner_email, OWNER_PASSWORD, client=f"{client_net()}.1")
    token = login["data"]["staffLogin"]["token"]

    body = await proxied.call(CHANGE_PASSWORD, client="10.0.0.1", bearer=token, c=OWNER_PASSWORD,
                              n=business.owner_email.upper())

    assert (error(body)["extensions"]["code"], error(body)["extensions"]["field"]) == ("BAD_USER_INPUT",
                                                                                      "newPassword")


def test_the_demo_passwords_pass_the_rules():
    from portal.demo import CONTACT_PASSWORD, OWNER_EMAIL, OWNER_PASSWORD

    check_new_password(OWNER_PASSWORD, OWNER_EMAIL)
    check_new_password(CONTACT_PASSWORD, "alice@acme.example.com")


def test_the_cli_refuses_a_weak_owner_password(settings, tmp_path):
    result = subprocess.run(
        [str(Path(sys.executable).parent / "portal"), "create-organization", "--name", "Weak", "--portal-name",
         f"weak-{uuid.uuid4().hex[:6]}", "--owner-name", "Wanda", "--owner-email", "wanda@weak.example.com"],
        env={**os.environ, "PORTAL_DATABASE_URL": settings.database_url, "PORTAL_OWNER_PASSWORD": "1234567890",
             "PORTAL_MAIL_DIR": str(tmp_path)},
        capture_output=True, text=True, timeout=120, check=False)

    assert result.returncode == 1
    assert "common" in result.stderr, result.stderr


def test_the_client_address_is_the_rightmost_entry_no_trusted_proxy_added():
    proxies = networks(parse_proxies('["10.0.0.0/8", "::1"]'))

    assert client_address("198.51.100.4", ["1.2.3.4"], proxies) == "198.51.100.4"  # not a proxy: not believed
    assert client_address("10.0.0.2", ["1.2.3.4, 203.0.113.9, 10.1.1.1"], proxies) == "203.0.113.9"
    assert client_address("10.0.0.2", ["1.2.3.4", "203.0.113.9"], proxies) == "203.0.113.9"  # several headers
    assert client_address("::1", ["2001:db8:1:2:3::4"], proxies) == "2001:db8:1:2::/64"
    assert client_address("::ffff:198.51.100.4", [], proxies) == "198.51.100.4"
    assert client_address("10.0.0.2", ["not-an-address, 203.0.113.9"], proxies) == "203.0.113.9"
    assert client_address("10.0.0.2", ["203.0.113.9, garbage"], proxies) == "10.0.0.2"
    with pytest.raises(ValueError, match="not an IP address"):
        parse_proxies("10.0.0.0/8, proxy.internal")
