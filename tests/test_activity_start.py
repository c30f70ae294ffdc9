"""Where a new subscription starts, and whether its session is live: read after it asked, once for a burst."""
import asyncio

from conftest import StatementCounter
from factories import OWNER_PASSWORD, STAFF_LOGIN
from live import COMMENT
from sqlalchemy import select, update

from portal.core.ids import from_global_id
from portal.models.auth import LoginSession, hash_token
from portal.models.columns import utcnow
from portal.notifications.subscriptions import ActivityFeed, Preparation, latest_sequence


async def start_points(feed: ActivityFeed, organization_id: int, engine, count: int) -> tuple[list[int], int]:
    with StatementCounter(engine) as counter:
        starts = await asyncio.gather(*(feed.start_point(organization_id) for _ in range(count)))
    return list(starts), counter.count


async def test_a_burst_of_new_subscriptions_reads_where_to_start_once(app, business):
    services = app.state.services
    feed = ActivityFeed(services.broadcast, services.read_session_factory)
    engine = services.read_session_factory.kw["bind"]
    _, organization_id = from_global_id(business.organization_id)
    async with services.session_factory() as session:
        latest = await latest_sequence(session, organization_id)

    alone, one_read = await start_points(feed, organization_id, engine, 1)
    burst, burst_reads = await start_points(feed, organization_id, engine, 50)

    assert alone == [latest] and burst == [latest] * 50
    assert one_read > 0 and burst_reads == one_read


async def test_who_asks_while_a_read_is_under_way_gets_a_read_begun_after_it(app, business):
    services = app.state.services
    feed = ActivityFeed(services.broadcast, services.read_session_factory)
    engine = services.read_session_factory.kw["bind"]
    _, organization_id = from_global_id(business.organization_id)
    _, one_read = await start_points(feed, organization_id, engine, 1)

    with StatementCounter(engine) as counter:
        first = asyncio.create_task(feed.start_point(organization_id))
        await asyncio.sleep(0)  # the first caller asks for a read
        await asyncio.sleep(0)  # the read begins
        second = await feed.start_point(organization_id)
        assert await first == second

    assert counter.count == 2 * one_read


async def test_a_burst_of_new_subscriptions_checks_their_sessions_once(app, business, gql):
    """Each operation's session is checked as it starts (web/session_watch.py): those that start together share one
    query, and each gets its own session's answer."""
    services = app.state.services
    feed = ActivityFeed(services.broadcast, services.read_session_factory)
    engine = services.read_session_factory.kw["bind"]
    live_id = await session_id(services, business.staff.token)
    ended_id = await session_id(services, (await gql.data(STAFF_LOGIN, email=business.owner_email,
                                                          password=OWNER_PASSWORD))["staffLogin"]["token"])
    async with services.session_factory() as session:
        await session.execute(update(LoginSession).where(LoginSession.id == ended_id).values(revoked_at=utcnow()))
        await session.commit()
    with StatementCounter(engine) as counter:
        await feed.session_is_live(live_id)
    one_check = counter.count

    with StatementCounter(engine) as counter:
        answers = await asyncio.gather(*(feed.session_is_live(session) for session in [live_id, ended_id] * 25))

    assert answers == [True, False] * 25
    assert one_check > 0 and counter.count == one_check


async def session_id(services, token: str) -> int:
    async with services.session_factory() as session:
        return await session.scalar(select(LoginSession.id).where(LoginSession.token_hash == hash_token(token)))


async def test_who_joins_while_events_are_handed_out_gets_them_with_its_own_session(app, business, gql, scene):
    """The room checks the sessions of its subscribers before it prepares a batch; one who joins meanwhile,
    with another session (checked as it started), is handed the batch, not ended as if signed out."""
    services = app.state.services
    feed = ActivityFeed(services.broadcast, services.read_session_factory, poll_seconds=0.2)
    _, organization_id = from_global_id(business.organization_id)
    other_session = await session_id(services, (await gql.data(STAFF_LOGIN, email=business.owner_email,
                                                                password=OWNER_PASSWORD))["staffLogin"]["token"])
    preparing, let_through, ended = asyncio.Event(), asyncio.Event(), []

    async def held(events: list) -> None:
        preparing.set()
        await let_through.wait()

    await feed.start()
    try:
        first = await feed.join(organization_id, await session_id(services, business.staff.token), ended.append,
                                Preparation(key="held", prepare=held))
        await scene["portal"].data(COMMENT, id=scene["invoice"]["id"], body="While one joins")
        await asyncio.wait_for(preparing.wait(), 10)
        joined = await feed.join(organization_id, other_session, ended.append)
        let_through.set()

        handed = await asyncio.wait_for(joined.next_events(), 10)
        assert [event.summary for event in handed] == [event.summary for event in await first.next_events()]
        assert ended == [] and joined.ending is None
        feed.leave(first)
        feed.leave(joined)
    finally:
        await feed.stop()
