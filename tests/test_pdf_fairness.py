"""Issue 12, item 8: one principal flooding the PDF renderer starves nobody else.

While others wait, a principal holds at most half of the render pool (with 2 workers: 1 in flight);
the queue is bounded, and 429 with Retry-After goes only to the one who floods.
"""
import asyncio
from urllib.parse import urlsplit

import httpx
import pytest
from live import uvicorn_http

from portal.pdf.fair_share import FairShare, QueueFull, TooManyWaiting
from portal.pdf.rendering import render_pool

INVOICE_PDF_URL = "query($id: ID!) { node(id: $id) { ... on Invoice { pdfUrl } } }"


@pytest.fixture(scope="module")
async def server(app):
    async with uvicorn_http(app) as url:
        yield url


async def pdf_path(staff, invoice_id: str) -> str:
    return urlsplit((await staff.data(INVOICE_PDF_URL, id=invoice_id))["node"]["pdfUrl"]).path


class ShareWatch:
    """Samples, while it runs, the most renders any one principal had in flight."""

    def __init__(self) -> None:
        self.most = 0
        self._task: asyncio.Task | None = None

    async def _sample(self) -> None:
        while True:
            self.most = max([self.most, *render_pool.share.running_by_principal().values()])
            await asyncio.sleep(0.002)

    async def __aenter__(self) -> "ShareWatch":
        self._task = asyncio.create_task(self._sample())
        return self

    async def __aexit__(self, *exc) -> None:
        assert self._task is not None
        self._task.cancel()


async def test_a_flooding_contact_gets_429_and_another_customer_keeps_getting_pdfs(server, business, mailbox):
    flooding, other = await business.customer("Flood Inc"), await business.customer("Patient Ltd")
    flooder, _ = await business.portal_user(flooding["id"], f"flood@{business.portal_name}.example.com", mailbox)
    patient, _ = await business.portal_user(other["id"], f"patient@{business.portal_name}.example.com", mailbox)
    flooded = await pdf_path(business.staff, (await business.invoice(flooding["id"]))["id"])
    wanted = await pdf_path(business.staff, (await business.invoice(other["id"]))["id"])

    async with httpx.AsyncClient(base_url=server, timeout=120) as http:
        assert (await http.get(wanted, headers={"Authorization": f"Bearer {patient.token}"})).status_code == 200

        async def fetch(path: str, token: str) -> httpx.Response:
            return await http.get(path, headers={"Authorization": f"Bearer {token}"})

        async with ShareWatch() as watch:
            flood = [asyncio.create_task(fetch(flooded, flooder.token)) for _ in range(12)]
            await asyncio.sleep(0.2)
            patient_answers = [await fetch(wanted, patient.token) for _ in range(5)]
            flood_answers = await asyncio.gather(*flood)

    assert [answer.status_code for answer in patient_answers] == [200] * 5
    assert {answer.status_code for answer in flood_answers} == {200, 429}
    for refused in (answer for answer in flood_answers if answer.status_code == 429):
        assert int(refused.headers["Retry-After"]) >= 1
        assert refused.json()["code"] == "RATE_LIMITED"
    assert watch.most == 1  # never more than half of the two workers for one principal
    assert render_pool.share.running == render_pool.share.waiting == 0


# ---------------------------------------------------------------- the rule itself


async def hold(share: FairShare, who: str, started: list[str], release: asyncio.Event) -> None:
    async with share.turn(who):
        started.append(who)
        await release.wait()


async def test_a_principal_renders_on_half_the_workers_and_a_newcomer_starts_at_once():
    share, started, release = FairShare(slots=2, max_waiting_each=3, max_waiting=16), [], asyncio.Event()
    tasks = [asyncio.create_task(hold(share, "a", started, release)) for _ in range(4)]
    await asyncio.sleep(0)
    assert started == ["a"] and share.waiting == 3

    tasks.append(asyncio.create_task(hold(share, "b", started, release)))
    await asyncio.sleep(0)
    assert started == ["a", "b"]

    with pytest.raises(TooManyWaiting) as refused:
        async with share.turn("a"):
            pass
    assert refused.value.retry_after >= 1

    release.set()
    await asyncio.wait_for(asyncio.gather(*tasks), 1)
    assert started == ["a", "b", "a", "a", "a"] and share.running == share.waiting == 0


async def test_a_full_queue_gives_the_biggest_holders_newest_place_to_a_newcomer():
    share, started, release = FairShare(slots=2, max_waiting_each=3, max_waiting=4), [], asyncio.Event()
    first = [asyncio.create_task(hold(share, who, started, release)) for who in ("a", "b")]
    queued = [asyncio.create_task(hold(share, who, started, release)) for who in ("a", "a", "a", "b")]
    await asyncio.sleep(0)
    assert share.waiting == 4

    newcomers = []
    for who, evicted in (("c", queued[2]), ("d", queued[1])):
        newcomers.append(asyncio.create_task(hold(share, who, started, release)))
        with pytest.raises(TooManyWaiting):
            await asyncio.wait_for(evicted, 1)  # a held the most places: its newest went to the newcomer
    with pytest.raises(QueueFull):  # now nobody holds more than e would: nobody gives way
        async with share.turn("e"):
            pass

    release.set()
    await asyncio.wait_for(asyncio.gather(*first, queued[0], queued[3], *newcomers), 1)
    assert sorted(started) == ["a", "a", "b", "b", "c", "d"]


async def test_a_cancelled_wait_gives_its_turn_on():
    share, started, release = FairShare(slots=2, max_waiting_each=3, max_waiting=16), [], asyncio.Event()
    running = asyncio.create_task(hold(share, "a", started, release))
    waiting = asyncio.create_task(hold(share, "a", started, release))
    await asyncio.sleep(0)
    waiting.cancel()
    await asyncio.sleep(0)
    assert share.waiting == 0

    release.set()
    await asyncio.wait_for(running, 1)
    assert started == ["a"] and share.running == 0
