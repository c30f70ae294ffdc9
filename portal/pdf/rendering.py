"""Printable estimates, invoices and statements: HTML templates rendered to PDF by WeasyPrint.

What is printed travels to a worker process as plain, picklable views (no database rows), so
that the layout work, which holds the GIL for hundreds of milliseconds, never stalls the event
loop that serves GraphQL and subscriptions.
"""
import asyncio
import functools
import gc
import logging
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Hashable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit
from urllib.request import url2pathname

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from portal.models.money import plain_decimal, round_money, shown_decimal
from portal.ops.metrics import PDF_DURATION, PDF_IN_FLIGHT, PDF_QUEUED
from portal.pdf.fair_share import FairShare, QueueFull, TooManyWaiting

if TYPE_CHECKING:  # WeasyPrint takes a second to import: see _asset_fetcher_class
    from weasyprint.text.fonts import FontConfiguration
    from weasyprint.urls import URLFetcher

logger = logging.getLogger("portal.pdf")

ASSET_DIR = Path(__file__).resolve().parent / "templates"
ASSET_TYPES = {".css": "text/css"}
PAGE_SIZES = {"a4": "A4", "letter": "letter"}

RENDER_WORKERS = 2
# Each principal renders on at most half of the workers and may queue 3 more PDFs (a few open tabs);
# the queue as a whole holds 16 (fair_share.py).
MAX_WAITING_EACH = 3
MAX_WAITING_RENDERS = 16
# WeasyPrint keeps caches per process; fresh workers now and then keep memory flat. They are started and
# warmed beside the old ones, which hand over only then (RenderPool._renew): no PDF waits for a cold worker.
RENDERS_PER_WORKER = 200
RENDER_TIMEOUT_SECONDS = 60  # far above a long statement (~3 s for 24 pages); a render past it is stuck
RENDER_NICENESS = 10
# A render makes ~100,000 short-lived objects, many in cycles: collecting every 700 allocations (the default)
# runs ~130 young collections a render. See _prepare_worker.
YOUNG_COLLECTION_THRESHOLD = 10_000


# ---------------------------------------------------------------- what is printed


@dataclass(frozen=True)
class Party:
    """A name and the lines of an address, as printed in a letter head or a "Bill to" block."""

    name: str
    details: tuple[str, ...] = ()


@dataclass(frozen=True)
class PrintedLine:
    name: str
    description: str | None
    quantity: Decimal
    rate: Decimal
    tax_percent: Decimal
    tax: Decimal
    amount: Decimal


@dataclass(frozen=True)
class AppliedPayment:
    number: str
    date: date
    method: str
    reference: str | None
    amount: Decimal


@dataclass(frozen=True)
class PrintedDocument:
    """An estimate or an invoice; amount_paid and balance_due are None on estimates."""

    title: str
    number: str
    status: str
    dates: tuple[tuple[str, date], ...]
    currency: str
    organization: Party
    customer: Party
    lines: tuple[PrintedLine, ...]
    sub_total: Decimal
    tax_total: Decimal
    total: Decimal
    amount_paid: Decimal | None = None
    balance_due: Decimal | None = None
    payments: tuple[AppliedPayment, ...] = ()
    note: str | None = None


@dataclass(frozen=True)
class PrintedStatementLine:
    date: date
    transaction: str
    reference: str
    amount: Decimal
    payment: Decimal
    balance: Decimal


@dataclass(frozen=True)
class PrintedStatement:
    start: date
    end: date
    currency: str
    organization: Party
    customer: Party
    opening_balance: Decimal
    invoiced_amount: Decimal
    amount_paid: Decimal
    closing_balance: Decimal
    lines: tuple[PrintedStatementLine, ...]


PrintedView = PrintedDocument | PrintedStatement

# What a worker renders once as it starts (_warm_up): the invoice layout, in regular and bold type.
SAMPLE = PrintedDocument(
    title="Invoice", number="INV-00001", status="PARTIALLY_PAID",
    dates=(("Invoice date", date(2026, 1, 1)), ("Due date", date(2026, 1, 31))), currency="USD",
    organization=Party("Sample Ltd", ("1 Main St", "Springfield, IL 62701")), customer=Party("Sample Customer"),
    lines=(PrintedLine(name="Consulting hours", description="Sample", quantity=Decimal("2"), rate=Decimal("95.00"),
                       tax_percent=Decimal("8.25"), tax=Decimal("15.68"), amount=Decimal("190.00")),),
    sub_total=Decimal("190.00"), tax_total=Decimal("15.68"), total=Decimal("205.68"), amount_paid=Decimal("5.68"),
    balance_due=Decimal("200.00"),
    payments=(AppliedPayment(number="PAY-00001", date=date(2026, 1, 5), method="CARD", reference=None,
                             amount=Decimal("5.68")),),
)


# ---------------------------------------------------------------- how values are written


def money(value: Decimal) -> str:
    """Cents, shown as the API shows them: two places and no grouping, so that text extraction finds the
    exact amount."""
    return shown_decimal(round_money(value))


def plain_number(value: Decimal) -> str:
    """A quantity or a tax percentage, kept short on paper: 12.0000 -> 12, 4.5000 -> 4.5 (the API shows
    12.00 and 4.50)."""
    return f"{plain_decimal(value):f}"


def long_date(value: date) -> str:
    return f"{value.day} {value:%b} {value.year}"


def status_label(status: str) -> str:
    return status.replace("_", " ").capitalize()


def page_size(setting: str) -> str:
    try:
        return PAGE_SIZES[setting.strip().lower()]
    except KeyError:
        raise ValueError(f"PORTAL_PDF_PAGE_SIZE must be A4 or Letter, not {setting!r}.") from None


@functools.cache
def templates() -> Environment:
    environment = Environment(loader=FileSystemLoader(ASSET_DIR), autoescape=True, undefined=StrictUndefined,
                              trim_blocks=True, lstrip_blocks=True)
    # A rate is printed as the API shows it: 95.00, and 0.005 where it has more places.
    environment.filters.update(money=money, number=plain_number, rate=shown_decimal, long_date=long_date,
                               status_label=status_label)
    return environment


def document_html(template_name: str, view: PrintedView, size: str) -> str:
    return templates().get_template(template_name).render(doc=view, page_size=size)


# ---------------------------------------------------------------- the renderer


class RefusedURL(ValueError):
    """The renderer asked for something that is not one of the project's template assets."""


def asset_path(url: str) -> Path:
    """The template asset a URL names; anything else (http, data:, other files) is refused."""
    parts = urlsplit(url)
    if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
        raise RefusedURL(f"Refused to fetch {url[:200]!r}: PDFs load only their own template assets.")
    path = Path(url2pathname(parts.path)).resolve()
    if path.parent != ASSET_DIR or path.suffix not in ASSET_TYPES or not path.is_file():
        raise RefusedURL(f"Refused to fetch {url[:200]!r}: not a template asset.")
    return path


@functools.cache
def _asset_fetcher_class() -> type["URLFetcher"]:
    # WeasyPrint takes a second to import: only render workers (and tests of the fetcher) pay for it.
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class TemplateAssetFetcher(URLFetcher):
        """Serves the template assets; refuses every other URL before anything is opened."""

        def __init__(self) -> None:
            super().__init__(timeout=1, allowed_protocols=("file",), allow_redirects=False)

        def fetch(self, url: str, headers: dict[str, str] | None = None) -> URLFetcherResponse:
            try:
                path = asset_path(url)
            except RefusedURL as refusal:
                logger.warning("%s", refusal)
                raise
            return URLFetcherResponse(path.as_uri(), body=path.read_bytes(),
                                      headers={"Content-Type": ASSET_TYPES[path.suffix]})

    return TemplateAssetFetcher


def asset_fetcher() -> "URLFetcher":
    return _asset_fetcher_class()()


def html_to_pdf(html: str, font_config: "FontConfiguration | None" = None) -> bytes:
    from weasyprint import HTML

    return HTML(string=html, base_url=ASSET_DIR.as_uri() + "/", url_fetcher=asset_fetcher()).write_pdf(
        font_config=font_config)


@functools.cache
def _worker_fonts() -> "FontConfiguration":
    """One font configuration for all the renders of a worker: loading the system's fonts (Fontconfig) and
    their Pango font map is then paid once, not by every PDF. The templates declare no @font-face, and
    what customers write is escaped text, so no document adds a font to it."""
    from weasyprint.text.fonts import FontConfiguration

    return FontConfiguration()


def render_pdf(template_name: str, view: PrintedView, size: str) -> bytes:
    """Template, then PDF; synchronous and CPU-bound: runs in a render worker."""
    return html_to_pdf(document_html(template_name, view, size), _worker_fonts())


def _prepare_worker(server_pid: int) -> None:
    # Ctrl-C reaches the whole process group: the server decides when its workers stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_exit_with_server, args=(server_pid,), name="server-watch", daemon=True).start()
    # Rendering is batch work: the scheduler should prefer the event loop and the database.
    if hasattr(os, "nice"):
        os.nice(RENDER_NICENESS)
    _warm_up()
    # What is loaded by now (modules, WeasyPrint's and the fonts' caches) lives as long as the worker. Frozen,
    # the collector no longer walks it on every full collection, and young collections come less often: a
    # quarter of a one-page invoice's CPU went to collections before.
    gc.freeze()
    gc.set_threshold(YOUNG_COLLECTION_THRESHOLD, *gc.get_threshold()[1:])


def _warm_up() -> None:
    """One sample document before the first real one: importing WeasyPrint, loading the fonts and the font
    subsetter's tables and compiling the templates take a second or more, paid here, not by a customer."""
    try:
        render_pdf("pdf_document.html", SAMPLE, "A4")
    except Exception:  # a worker that cannot render still answers each render with its error
        logger.exception("The PDF renderer could not render its sample document.")


def _started() -> None:
    """Nothing: submitted once per worker so that the pool starts them all at once (see RenderPool.start)."""


def _exit_with_server(server_pid: int) -> None:
    """A server that dies by a signal shuts no pool down: its workers must notice and go too."""
    while os.getppid() == server_pid:
        time.sleep(1)
    os._exit(0)


class RendersBusy(Exception):
    """No render worker can take the PDF now (the queue is full, or the pool broke); try again shortly."""


class TooManyRenders(Exception):
    """The requester already has their share of the workers and of the queue."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"retry after {retry_after} s")
        self.retry_after = retry_after


class RenderPool:
    """A few worker processes, shared fairly between requesters, and a bounded queue for them."""

    def __init__(self, *, workers: int, max_waiting_each: int, max_waiting: int) -> None:
        self.workers = workers
        self.share = FairShare(slots=workers, max_waiting_each=max_waiting_each, max_waiting=max_waiting)
        self._executor: ProcessPoolExecutor | None = None
        self._rendered = 0  # by the current pool
        self._successor: ProcessPoolExecutor | None = None  # warming up to take over from it
        self._renewal: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start the workers now (each warms up on a sample document) rather than with the first PDFs."""
        self._pool()

    def _pool(self) -> ProcessPoolExecutor:
        if self._executor is None:
            self._executor, _ = self._started_pool()
            self._rendered = 0
        return self._executor

    def _started_pool(self) -> tuple[ProcessPoolExecutor, list[Future[None]]]:
        """A pool whose workers are all starting, and what says when each is warm."""
        # spawn, not fork: forking a process that runs an event loop and threads copies held locks.
        pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=_prepare_worker, initargs=(os.getpid(),))
        # The pool starts a worker when a task finds none idle: one task each starts them all at once. A worker
        # takes no task before its warm-up is done.
        return pool, [pool.submit(_started) for _ in range(self.workers)]

    def _count_render(self, pool: ProcessPoolExecutor) -> None:
        if pool is not self._executor:
            return
        self._rendered += 1
        if self._rendered >= RENDERS_PER_WORKER * self.workers and self._renewal is None:
            self._renewal = asyncio.create_task(self._renew(pool), name="pdf-workers-renewal")

    async def _renew(self, pool: ProcessPoolExecutor) -> None:
        """Fresh workers, warmed up beside the current ones, take over; the old ones finish what they have."""
        self._successor, warming = self._started_pool()
        successor, warm = self._successor, False
        try:
            await asyncio.gather(*(asyncio.wrap_future(started) for started in warming))
            warm = True
        except Exception:
            logger.exception("Fresh PDF workers failed to start; the current ones go on.")
        finally:
            self._successor = self._renewal = None
        if warm and self._executor is pool:
            self._executor, self._rendered = successor, 0
            pool.shutdown(wait=False)  # renders in flight there still finish
        else:  # the fresh workers failed, or the current pool broke or was shut down meanwhile
            _retire(successor)

    async def render(self, template_name: str, view: PrintedView, size: str, requester: Hashable = "server") -> bytes:
        """The PDF, rendered in the requester's turn (a principal: see fair_share.py)."""
        waiting = True
        PDF_QUEUED.inc()
        try:
            async with self.share.turn(requester):
                PDF_QUEUED.dec()
                waiting = False
                started = time.monotonic()
                with PDF_IN_FLIGHT.track_inprogress():
                    pdf = await self._render_retrying(template_name, view, size)
                self.share.note_render_time(time.monotonic() - started)
                PDF_DURATION.observe(time.monotonic() - started)
                return pdf
        except TooManyWaiting as refusal:
            raise TooManyRenders(refusal.retry_after) from None
        except QueueFull:
            raise RendersBusy() from None
        finally:
            if waiting:
                PDF_QUEUED.dec()

    async def _render_retrying(self, template_name: str, view: PrintedView, size: str) -> bytes:
        try:
            try:
                return await self._render_once(template_name, view, size)
            except BrokenProcessPool:
                # A worker died (killed, out of memory), which breaks the whole pool and every render
                # in it: each of them tries once more, on a fresh pool.
                return await self._render_once(template_name, view, size)
        except (BrokenProcessPool, TimeoutError):
            raise RendersBusy() from None

    async def _render_once(self, template_name: str, view: PrintedView, size: str) -> bytes:
        pool = self._pool()
        try:
            # Submitting to a pool already known to be broken raises here, not when awaited.
            future = asyncio.get_running_loop().run_in_executor(pool, render_pdf, template_name, view, size)
            pdf = await asyncio.wait_for(future, RENDER_TIMEOUT_SECONDS)
        except (BrokenProcessPool, TimeoutError):
            self._replace(pool)
            raise
        self._count_render(pool)
        return pdf

    def _replace(self, pool: ProcessPoolExecutor) -> None:
        """Retire a broken or stuck pool, once, however many renders noticed it."""
        if self._executor is pool:
            self._executor = None
            _retire(pool)

    def shutdown(self) -> None:
        """Stop the workers without waiting for renders in progress (their requests are ending too)."""
        for pool in (self._executor, self._successor):
            if pool is not None:
                _retire(pool)
        self._executor = self._successor = None
        if self._renewal is not None:
            self._renewal.cancel()
            self._renewal = None


def _retire(pool: ProcessPoolExecutor) -> None:
    pool.shutdown(wait=False, cancel_futures=True)
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        if process.is_alive():
            process.terminate()


render_pool = RenderPool(workers=RENDER_WORKERS, max_waiting_each=MAX_WAITING_EACH, max_waiting=MAX_WAITING_RENDERS)
