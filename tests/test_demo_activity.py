"""`portal demo` seeds a week of portal activity: real events, about real changes, once."""
import asyncio
from datetime import UTC, datetime, timedelta

import httpx

from portal.core.settings import Settings
from portal.demo import OWNER_EMAIL, OWNER_PASSWORD, seed_demo
from portal.migrations import upgrade
from portal.web.app import create_app

STAFF_LOGIN = """mutation($email: String!, $password: String!) { staffLogin(email: $email, password: $password) {
  token } }"""
ACTIVITY = """{ activity { totalCount pageInfo { hasPreviousPage } edges { node { kind occurredAt
  contactPerson { email }
  subject { __typename ... on Document { viewedAt } ... on Payment { method allocations { invoice { status } } }
    ... on Estimate { status } } comment { body } } } } }"""
EVERY_KIND_BUT_FORWARDING = {"VIEWED", "COMMENTED", "PAYMENT_RECEIVED", "PAYMENT_FAILED", "ESTIMATE_ACCEPTED",
                             "ESTIMATE_DECLINED", "DETAILS_UPDATED", "REVIEW_SUBMITTED", "INVITE_ACCEPTED"}


async def owners_activity(settings: Settings) -> dict:
    application = create_app(settings)
    async with application.router.lifespan_context(application), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=application), base_url="http://portal.test") as http:
        signed_in = await http.post("/graphql", json={"query": STAFF_LOGIN, "variables": {
            "email": OWNER_EMAIL, "password": OWNER_PASSWORD}})
        token = signed_in.json()["data"]["staffLogin"]["token"]
        answer = await http.post("/graphql", json={"query": ACTIVITY}, headers={"Authorization": f"Bearer {token}"})
    assert "errors" not in answer.json(), answer.json()
    return answer.json()["data"]["activity"]


async def test_the_demo_seeds_a_realistic_week_of_activity_once(tmp_path):
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}", mail_dir=str(tmp_path / "mail"),
                        base_url="http://portal.test")
    await asyncio.to_thread(upgrade, settings.database_url)
    started = datetime.now(UTC)

    await seed_demo(settings)
    activity = await owners_activity(settings)
    await seed_demo(settings)
    again = await owners_activity(settings)

    events = [edge["node"] for edge in activity["edges"]]
    times = [datetime.fromisoformat(event["occurredAt"]) for event in events]
    assert again == activity and activity["totalCount"] == len(events) >= 10
    assert {event["kind"] for event in events} == EVERY_KIND_BUT_FORWARDING
    assert times == sorted(times)
    assert started - timedelta(days=7) <= times[0] <= started - timedelta(days=6)
    assert started - timedelta(days=1) <= times[-1] <= started
    assert all(event["subject"] and event["contactPerson"] for event in events)
    assert all(event["subject"]["viewedAt"] for event in events if event["kind"] == "VIEWED")
    assert [event["comment"]["body"] for event in events if event["kind"] == "COMMENTED"]
    [accepted] = [event["subject"] for event in events if event["kind"] == "ESTIMATE_ACCEPTED"]
    [payment] = [event["subject"] for event in events if event["kind"] == "PAYMENT_RECEIVED"]
    assert accepted["status"] == "ACCEPTED"
    assert payment["method"] == "CARD" and payment["allocations"][0]["invoice"]["status"] == "PAID"
