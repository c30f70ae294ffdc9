"""Several server processes: an action handled by one reaches subscribers of another, through the broker.

PostgreSQL only: the processes share its database (and Redis, or PostgreSQL itself as the broker).
"""
import asyncio
import uuid
from urllib.parse import urlsplit

import asyncpg
import pytest
import redis.asyncio as redis
from live import COMMENT, MARK_VIEWED, ActivityClient, HttpGraphQL, portal_serving

REDIS_URL = "redis://127.0.0.1:6379"


@pytest.fixture
def postgres_only(database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("several processes share a PostgreSQL database")


def environment(database_url: str, broker_url: str, mail_dir) -> dict:
    return {
        "PORTAL_DATABASE_URL": database_url, "PORTAL_BROADCAST_URL": broker_url, "PORTAL_MAIL_DIR": str(mail_dir),
        "PORTAL_BASE_URL": "http://portal.test", "PORTAL_BROKER_HEARTBEAT_SECONDS": "0.5",
        # Long enough that what arrives came through the broker, not through the safety-net poll.
        "PORTAL_ACTIVITY_POLL_SECONDS": "60",
    }


def broker_url(kind: str, database_url: str, name: str) -> str:
    """A broker URL whose connections carry `name`, so that a test can find and kill them."""
    if kind == "redis":
        return f"{REDIS_URL}?client_name={name}"
    database = urlsplit(database_url).path
    return f"postgres://postgres@127.0.0.1:5432{database}?application_name={name}"


async def kill_broker_connections(kind: str, name: str) -> int:
    if kind == "redis":
        client = redis.Redis.from_url(REDIS_URL)
        try:
            # Only the listening connection: publishing still works, the listener is dead.
            clients = [entry for entry in await client.client_list(_type="pubsub") if entry.get("name") == name]
            for entry in clients:
                await client.client_kill_filter(_id=entry["id"])
            return len(clients)
        finally:
            await client.aclose()
    server = await asyncpg.connect("postgresql://postgres@127.0.0.1:5432/postgres")
    try:
        return len(await server.fetch("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                      "WHERE application_name = $1", name))
    finally:
        await server.close()


@pytest.mark.parametrize("broker", ["redis", "postgres"])
async def test_a_subscriber_on_one_server_gets_what_another_handled(postgres_only, database_url, business,
                                                                   other_business, mailbox, scene, tmp_path,
                                                                   broker):
    name = f"portal-test-{uuid.uuid4().hex[:8]}"
    env = environment(database_url, broker_url(broker, database_url, name), tmp_path)
    customer = await other_business.customer("Elsewhere Inc")
    elsewhere_invoice = await other_business.invoice(customer["id"])
    elsewhere, _ = await other_business.portal_user(customer["id"], "someone@elsewhere.example.com", mailbox)

    async with portal_serving(env, env, log_dir=tmp_path) as (subscribed_to, acted_on):
        portal = HttpGraphQL(acted_on.base, scene["portal"].token)
        async with ActivityClient.connected(subscribed_to.ws_url, business.staff.token) as owner:
            await owner.subscribe()
            await asyncio.sleep(0.3)
            await HttpGraphQL(acted_on.base, elsewhere.token).data(MARK_VIEWED, id=elsewhere_invoice["id"])
            await portal.data(MARK_VIEWED, id=scene["invoice"]["id"])
            await portal.data(COMMENT, id=scene["invoice"]["id"], body="Through the broker")
            viewed, commented = await owner.events(2)
            assert await owner.nothing_more()

            assert await kill_broker_connections(broker, name) >= 1
            await portal.data(COMMENT, id=scene["invoice"]["id"], body="After the broker dropped")
            recovered = await owner.next_event(timeout=20)

    assert (viewed["kind"], commented["comment"]["body"]) == ("VIEWED", "Through the broker")
    assert viewed["customer"]["displayName"] == "Acme Corp"
    assert recovered["comment"]["body"] == "After the broker dropped"


async def test_two_workers_behind_one_port_with_redis(postgres_only, database_url, business, scene, tmp_path):
    env = environment(database_url, REDIS_URL, tmp_path)
    portal_token, invoice_id = scene["portal"].token, scene["invoice"]["id"]

    async with portal_serving(env, log_dir=tmp_path, workers=2) as (server,):
        portal = HttpGraphQL(server.base, portal_token)  # a new connection per request: either worker
        async with ActivityClient.connected(server.ws_url, business.staff.token) as first, \
                ActivityClient.connected(server.ws_url, business.staff.token) as second:
            for owner in (first, second):
                await owner.subscribe()
            await asyncio.sleep(0.3)
            await portal.data(MARK_VIEWED, id=invoice_id)
            last_seen = (await first.next_event())["cursor"]
            assert (await second.next_event())["cursor"] == last_seen

        for number in range(1, 21):
            await portal.data(COMMENT, id=invoice_id, body=f"Missed {number}")

        async with ActivityClient.connected(server.ws_url, business.staff.token) as owner:
            await owner.subscribe(after=last_seen)
            missed = await owner.events(20)
            await portal.data(COMMENT, id=invoice_id, body="Live")
            live = await owner.next_event()
            assert await owner.nothing_more()

    assert [event["comment"]["body"] for event in missed] == [f"Missed {number}" for number in range(1, 21)]
    assert live["comment"]["body"] == "Live"
