"""Subscriptions that open while actions happen, in several organizations, on two server processes with Redis.

The shape of the events benchmark's wide run, small: each subscription gets every event of its organization
from its first one on, in order, none twice, none of another organization, and promptly — through the
broker, since the safety-net poll is set far beyond the test's patience.
"""
import asyncio
import json
import re
from dataclasses import dataclass, field

import pytest
from conftest import unique
from factories import new_business
from live import COMMENT, PROTOCOL, HttpGraphQL, connection_init, portal_serving
from test_activity import latest_cursor
from test_workers import REDIS_URL, environment
from websockets.asyncio.client import connect

ORGANIZATIONS = 3
SUBSCRIPTIONS = 12  # an organization's, opened at once, half on each server
ACTIONS_WHILE_OPENING = 12
ROUNDS_AFTER = 5  # then one comment in each organization at a time, each awaited at every subscription
SUBSCRIBE = ('{{"id":"1","type":"subscribe","payload":{{"query":"subscription($after: String) '
             '{{ portalActivity(kinds: [COMMENTED], after: $after) {{ cursor comment {{ body }} }} }}",'
             '"variables":{{"after":{after}}}}}}}')


@pytest.fixture
def postgres_only(database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("two server processes share a PostgreSQL database")


@dataclass
class Organization:
    name: str
    owner_token: str
    contact_token: str
    invoice_id: str
    start: str  # the cursor before any of the test's actions
    commented: list[int] = field(default_factory=list)  # the numbers of the comments made, in order


@dataclass
class Subscription:
    organization: Organization
    resumed: bool  # subscribed with `after`: gets every comment; otherwise those from its first on
    received: list[tuple[str, str]] = field(default_factory=list)  # (cursor, body)

    async def run(self, ws_url: str, opened: asyncio.Event) -> None:
        async with connect(ws_url, subprotocols=[PROTOCOL], open_timeout=10) as socket:
            await socket.send(connection_init(self.organization.owner_token))
            assert json.loads(await socket.recv())["type"] == "connection_ack"
            await socket.send(SUBSCRIBE.format(after=json.dumps(self.organization.start if self.resumed else None)))
            opened.set()
            async for text in socket:
                message = json.loads(text)
                if message["type"] == "ping":
                    await socket.send('{"type":"pong"}')
                    continue
                assert message["type"] == "next" and "errors" not in message["payload"], message
                event = message["payload"]["data"]["portalActivity"]
                self.received.append((event["cursor"], event["comment"]["body"]))


async def organization_with_a_commenter(settings, gql, business, scene, mailbox) -> Organization:
    if business is None:
        name = unique("opening")
        business = await new_business(settings, gql, name, f"owner@{name}.example.com")
        customer = await business.customer("Opening Inc")
        invoice = await business.invoice(customer["id"])
        portal, _ = await business.portal_user(customer["id"], f"pat@{name}.example.com", mailbox)
    else:
        invoice, portal = scene["invoice"], scene["portal"]
    return Organization(name=business.organization_id, owner_token=business.staff.token, contact_token=portal.token,
                        invoice_id=invoice["id"], start=await latest_cursor(business))


async def comment(base: str, organization: Organization) -> None:
    number = len(organization.commented) + 1
    await HttpGraphQL(base, organization.contact_token).data(COMMENT, id=organization.invoice_id,
                                                             body=f"{organization.name} {number}")
    organization.commented.append(number)


async def comment_while_opening(bases: list[str], organizations: list[Organization], until: asyncio.Event) -> None:
    """A comment in each organization in turn, on either server, until every subscription is open."""
    turn = 0
    while turn < ACTIONS_WHILE_OPENING or not until.is_set():
        await asyncio.gather(*(comment(bases[turn % 2], organization) for organization in organizations))
        turn += 1


async def arrives_promptly(subscriptions: list["Subscription"], seconds: float = 1.5) -> None:
    """Every subscription has its organization's latest comment within `seconds`: no waiting for a later
    announcement (nor for the poll) to bring it."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while any(numbers(subscription)[-1:] != subscription.organization.commented[-1:] for subscription in subscriptions):
        assert loop.time() < deadline, "an event did not arrive without a later announcement"
        await asyncio.sleep(0.02)


def numbers(subscription: Subscription) -> list[int]:
    return [int(re.sub(r".* ", "", body)) for _, body in subscription.received]


async def test_subscriptions_opening_during_actions_get_every_event_from_their_first(
        postgres_only, database_url, settings, gql, business, scene, mailbox, tmp_path):
    organizations = [await organization_with_a_commenter(settings, gql, business, scene, mailbox)]
    organizations += [await organization_with_a_commenter(settings, gql, None, None, mailbox)
                      for _ in range(ORGANIZATIONS - 1)]
    env = environment(database_url, REDIS_URL, tmp_path)  # the poll every 60 s: events come through the broker
    async with portal_serving(env, env, log_dir=tmp_path) as servers:
        subscriptions = [Subscription(organization, resumed=index % 4 == 0)
                         for organization in organizations for index in range(SUBSCRIPTIONS)]
        openings = [asyncio.Event() for _ in subscriptions]
        all_open = asyncio.Event()
        bases = [server.base for server in servers]
        actions = asyncio.create_task(comment_while_opening(bases, organizations, all_open))
        running = [asyncio.create_task(subscription.run(servers[index % 2].ws_url, opened))
                   for index, (subscription, opened) in enumerate(zip(subscriptions, openings, strict=True))]
        await asyncio.gather(*(opened.wait() for opened in openings))
        all_open.set()
        await actions
        await arrives_promptly(subscriptions)
        for turn in range(ROUNDS_AFTER):  # one at a time: each must arrive on its own announcement
            await asyncio.gather(*(comment(bases[turn % 2], organization) for organization in organizations))
            await arrives_promptly(subscriptions)
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)

    for subscription in subscriptions:
        made, got = subscription.organization.commented, numbers(subscription)
        expected = made if subscription.resumed else made[made.index(got[0]):] if got else ["something"]
        assert got == expected, (subscription.organization.name, subscription.resumed)
        cursors = [cursor for cursor, _ in subscription.received]
        assert len(set(cursors)) == len(cursors)
