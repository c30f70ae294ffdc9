"""RATE_LIMITED says when to try again: `extensions.retryAfter`, in seconds."""
from datetime import UTC, datetime, timedelta

from factories import OWNER_PASSWORD, STAFF_LOGIN

from portal.models.throttle import WINDOW, seconds_until_retry

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def test_a_try_goes_through_when_the_blocking_failure_leaves_the_window():
    assert seconds_until_retry(NOW - timedelta(minutes=5), NOW) == (WINDOW - timedelta(minutes=5)).total_seconds()
    assert seconds_until_retry(NOW - timedelta(minutes=5) + timedelta(microseconds=500), NOW) == 601  # never early
    assert seconds_until_retry(NOW - WINDOW, NOW) == 1


async def test_rate_limited_carries_retry_after(business, gql):
    for _ in range(10):
        await gql.request(STAFF_LOGIN, email=business.owner_email, password="guess-guess")

    body = await gql.request(STAFF_LOGIN, email=business.owner_email, password=OWNER_PASSWORD)

    [error] = body["errors"]
    assert error["extensions"]["code"] == "RATE_LIMITED"
    assert 0 < error["extensions"]["retryAfter"] <= WINDOW.total_seconds()
    assert WINDOW.total_seconds() - error["extensions"]["retryAfter"] < 60  # the failures were just now
