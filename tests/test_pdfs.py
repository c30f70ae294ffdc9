"""PDFs of estimates, invoices and statements: what they show, who may get them, what they never fetch."""
import asyncio
import gc
import statistics
import time
from datetime import date, timedelta
from decimal import Decimal
from io import BytesIO

import pytest
from factories import RECORD_PAYMENT, TWO_LINES
from pypdf import PdfReader

from portal.models.money import round_money, shown_decimal
from portal.pdf.rendering import (
    ASSET_DIR,
    RENDER_WORKERS,
    Party,
    PrintedStatement,
    PrintedStatementLine,
    RefusedURL,
    asset_fetcher,
    html_to_pdf,
    render_pool,
    templates,
)

INVOICE_PDF_URL = """query($id: ID!) { node(id: $id) { ... on Invoice { pdfUrl } ... on Estimate { pdfUrl } } }"""
STATEMENT = """query($from: Date, $to: Date, $c: ID) { statement(from: $from, to: $to, customerId: $c) {
  closingBalance openingBalance invoicedAmount amountPaid pdfUrl } }"""
DASHBOARD = """query { dashboard { currency outstandingInvoices { count total } } }"""
CREATE_DRAFT = "mutation($input: InvoiceInput!) { createInvoice(input: $input) { id } }"
A4_POINTS, LETTER_POINTS = (595, 842), (612, 792)


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(BytesIO(content)).pages)


def squeezed(text: str) -> str:
    """Without whitespace: a long name may wrap anywhere on the page."""
    return "".join(text.split())


async def pdf_url(client, document_id: str) -> str:
    return (await client.data(INVOICE_PDF_URL, id=document_id))["node"]["pdfUrl"]


async def get_pdf(http, url: str, token: str | None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return await http.get(url, headers=headers)


class ConnectionCounter:
    """A local listener that counts every connection made to it."""

    def __init__(self) -> None:
        self.connections = 0
        self.server = None

    async def __aenter__(self) -> "ConnectionCounter":
        self.server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc) -> None:
        self.server.close()
        await self.server.wait_closed()

    @property
    def port(self) -> int:
        return self.server.sockets[0].getsockname()[1]

    async def _accept(self, reader, writer) -> None:
        self.connections += 1
        writer.close()


# ---------------------------------------------------------------- what the PDFs show


async def test_a_customer_prints_an_invoice_with_its_lines_totals_and_payments(business, mailbox, client):
    customer = await business.customer("Acme Corp", billingAddress={"street1": "1 Main St", "city": "Springfield"})
    portal, _ = await business.portal_user(customer["id"], "print@client.example.com", mailbox)
    invoice = await business.invoice(customer["id"], TWO_LINES)
    await business.staff.data(RECORD_PAYMENT, input={"invoiceId": invoice["id"], "amount": "10.10",
                                                      "reference": "Cheque 7"})

    url = await pdf_url(portal, invoice["id"])
    response = await get_pdf(client, url, portal.token)

    assert url == f"http://portal.test/pdf/{invoice['id']}"
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"] == 'inline; filename="INV-00001.pdf"'
    text = pdf_text(response.content)
    for expected in ("INV-00001", "Acme Corp", "1 Main St", "Springfield", "Design", "Hosting",
                     "361.50", "19.99", "381.49", "28.61", "410.10", "PAY-00001", "Cheque 7", "10.10", "400.00",
                     "Partially paid", f"Business {business.portal_name}"):
        assert expected in text, expected


async def test_the_owner_prints_an_estimate_and_a_draft_invoice(business, client):
    customer = await business.customer("Globex")
    estimate = await business.estimate(customer["id"], [{"name": "Logo", "quantity": "1", "rate": "1800",
                                                         "taxPercent": "7.5"},
                                                        {"name": "Cards", "quantity": "500", "rate": "0.18",
                                                         "taxPercent": "7.5"}])
    draft = await business.invoice(customer["id"], send=False)

    estimate_pdf = await get_pdf(client, await pdf_url(business.staff, estimate["id"]), business.staff.token)
    draft_pdf = await get_pdf(client, await pdf_url(business.staff, draft["id"]), business.staff.token)

    assert estimate_pdf.headers["content-disposition"] == 'inline; filename="EST-00001.pdf"'
    text = pdf_text(estimate_pdf.content)
    for expected in ("ESTIMATE", "EST-00001", "Globex", "Logo", "Cards", "1800.00", "0.18", "90.00", "1890.00",
                     "141.75", "2031.75"):
        assert expected in text, expected
    assert "DRAFT" in pdf_text(draft_pdf.content).upper()


async def test_a_statement_pdf_closes_at_the_statement_querys_balance(business, mailbox, client):
    customer = await business.customer("Initech")
    portal, _ = await business.portal_user(customer["id"], "statement@client.example.com", mailbox)
    first = await business.invoice(customer["id"], TWO_LINES, date="2025-10-20")
    await business.invoice(customer["id"], [{"name": "Support", "quantity": "10", "rate": "80"}], date="2025-11-03")
    await business.staff.data(RECORD_PAYMENT, input={"invoiceId": first["id"], "amount": "100.00",
                                                      "date": "2025-11-05"})
    statement = (await portal.data(STATEMENT, **{"from": "2025-11-01", "to": "2025-11-30"}))["statement"]

    response = await get_pdf(client, statement["pdfUrl"], portal.token)

    assert (statement["openingBalance"], statement["closingBalance"]) == ("410.10", "1110.10")
    assert response.status_code == 200
    assert response.headers["content-disposition"] == 'inline; filename="statement-2025-11.pdf"'
    text = pdf_text(response.content)
    for expected in ("Initech", "INV-00002", "PAY-00001", "410.10", "800.00", "100.00", "Closing balance",
                     statement["closingBalance"]):
        assert expected in text, expected


async def test_staff_print_a_statement_of_the_customer_they_name(business, client):
    customer = await business.customer("Hooli")
    await business.invoice(customer["id"], TWO_LINES, date="2026-01-10")
    statement = (await business.staff.data(STATEMENT, c=customer["id"], **{"from": "2026-01-01",
                                                                            "to": "2026-03-31"}))["statement"]

    response = await get_pdf(client, statement["pdfUrl"], business.staff.token)
    unnamed = await get_pdf(client, "/pdf/statement", business.staff.token)

    assert response.headers["content-disposition"] == 'inline; filename="statement-2026-01-01-to-2026-03-31.pdf"'
    assert statement["closingBalance"] in pdf_text(response.content)
    assert unnamed.status_code == 400


async def test_the_page_size_is_a_setting(business, client, settings, monkeypatch):
    customer = await business.customer()
    invoice = await business.invoice(customer["id"])
    url = await pdf_url(business.staff, invoice["id"])

    a4 = await get_pdf(client, url, business.staff.token)
    monkeypatch.setattr(settings, "pdf_page_size", "Letter")
    letter = await get_pdf(client, url, business.staff.token)

    assert page_points(a4.content) == A4_POINTS
    assert page_points(letter.content) == LETTER_POINTS


def page_points(content: bytes) -> tuple[int, int]:
    box = PdfReader(BytesIO(content)).pages[0].mediabox
    return round(box.width), round(box.height)


@pytest.mark.parametrize(("value", "as_money", "as_rate", "as_number"), [
    (Decimal("1234567.5"), "1234567.50", "1234567.50", "1234567.5"),
    (Decimal("95"), "95.00", "95.00", "95"),
    (Decimal("0.0050"), "0.01", "0.005", "0.005"),
    (Decimal("7.5000"), "7.50", "7.50", "7.5"),
    (Decimal("-0.001"), "0.00", "-0.001", "-0.001"),
])
def test_amounts_and_rates_are_printed_as_the_api_shows_them_quantities_shorter(value, as_money, as_rate, as_number):
    filters = templates().filters

    assert (filters["money"](value), filters["rate"](value), filters["number"](value)) == (as_money, as_rate,
                                                                                           as_number)
    assert filters["rate"](value) == shown_decimal(value)
    assert filters["money"](value) == shown_decimal(round_money(value))


# ---------------------------------------------------------------- who may get them


async def test_without_a_live_token_it_is_401(business, client):
    customer = await business.customer()
    invoice = await business.invoice(customer["id"])
    url = await pdf_url(business.staff, invoice["id"])

    for token in (None, "not-a-token"):
        response = await get_pdf(client, url, token)
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"
    assert (await get_pdf(client, "/pdf/statement", None)).status_code == 401


async def test_another_customers_or_organizations_documents_are_404(business, other_business, mailbox, client):
    mine = await business.customer("Mine")
    theirs = await business.customer("Theirs")
    portal, _ = await business.portal_user(mine["id"], "nosy@client.example.com", mailbox)
    their_invoice = await business.invoice(theirs["id"])
    their_estimate = await business.estimate(theirs["id"])
    my_draft = (await business.staff.data(CREATE_DRAFT, input={"customerId": mine["id"],
                                                                "lineItems": TWO_LINES}))["createInvoice"]
    payment = (await business.staff.data(RECORD_PAYMENT, input={"invoiceId": their_invoice["id"],
                                                                "amount": "1.00"}))["recordPayment"]
    foreign_customer = await other_business.customer()
    foreign_invoice = await other_business.invoice(foreign_customer["id"])

    for document_id in (their_invoice["id"], their_estimate["id"], my_draft["id"], payment["id"],
                        foreign_invoice["id"], mine["id"], "not-an-id"):
        response = await get_pdf(client, f"/pdf/{document_id}", portal.token)
        assert response.status_code == 404, document_id
    assert (await get_pdf(client, f"/pdf/{their_invoice['id']}", other_business.staff.token)).status_code == 404
    for customer_id in (theirs["id"], foreign_customer["id"]):
        response = await get_pdf(client, f"/pdf/statement?customerId={customer_id}", portal.token)
        assert response.status_code == 404, customer_id
    response = await get_pdf(client, f"/pdf/statement?customerId={mine['id']}", other_business.staff.token)
    assert response.status_code == 404


# ---------------------------------------------------------------- what they never fetch


async def test_hostile_names_are_printed_as_text_and_cause_no_request(business, mailbox, client):
    async with ConnectionCounter() as listener:
        image = f"<img src=http://127.0.0.1:{listener.port}/x>"
        sheet = "<link rel=stylesheet href=file:///etc/passwd>"
        remote_sheet = f'<link rel="stylesheet" href="http://127.0.0.1:{listener.port}/y.css">'
        customer = await business.customer(image, companyName=sheet,
                                           billingAddress={"street1": remote_sheet, "city": image})
        portal, _ = await business.portal_user(customer["id"], "hostile@client.example.com", mailbox)
        invoice = await business.invoice(customer["id"], [{"name": image, "description": remote_sheet,
                                                           "quantity": "1", "rate": "5"}])
        statement = (await portal.data(STATEMENT))["statement"]

        invoice_pdf = await get_pdf(client, await pdf_url(portal, invoice["id"]), portal.token)
        statement_pdf = await get_pdf(client, statement["pdfUrl"], portal.token)
        await asyncio.sleep(0.2)  # a connection the renderer made would be waiting in the listener's backlog

        assert listener.connections == 0
    assert (invoice_pdf.status_code, statement_pdf.status_code) == (200, 200)
    invoice_text = squeezed(pdf_text(invoice_pdf.content))
    for hostile in (image, sheet, remote_sheet):
        assert squeezed(hostile) in invoice_text, hostile
    assert squeezed(image) in squeezed(pdf_text(statement_pdf.content))


async def test_the_renderer_refuses_every_url_but_its_own_assets():
    async with ConnectionCounter() as listener:
        base = f"http://127.0.0.1:{listener.port}"
        html = f"""<html><head>
          <link rel="stylesheet" href="{base}/a.css"><link rel="stylesheet" href="file:///etc/passwd">
          <link rel="stylesheet" href="pdf.css"><link rel="stylesheet" href="../pdf.py">
          <style>@import url({base}/b.css); @font-face {{ font-family: X; src: url({base}/c.woff2) }}
                 body {{ background: url({base}/d.png); font-family: X }}</style></head>
          <body><img src="{base}/e.png"><img src="https://127.0.0.1:{listener.port}/f.png">
          <img src="data:image/svg+xml,<svg xmlns='http://www.w3.org/2000/svg'><image href='{base}/g.png'/></svg>">
          <object data="{base}/h.pdf"></object><iframe src="{base}/i.html"></iframe>
          <p>still rendered</p></body></html>"""

        pdf = await asyncio.to_thread(html_to_pdf, html)
        await asyncio.sleep(0.2)

        assert listener.connections == 0
    assert "still rendered" in pdf_text(pdf)


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:1/x.css", "https://example.com/x.css", "ftp://127.0.0.1/x.css", "file:///etc/passwd",
    f"file://{ASSET_DIR}/../pdf.py", f"file://{ASSET_DIR}/__init__.py", f"file://{ASSET_DIR}/missing.css",
    f"file://remote-host{ASSET_DIR}/pdf.css", "data:text/css,body{background:url(http://127.0.0.1:1/)}",
    "data:image/png;base64,iVBORw0KGgo=", "javascript:alert(1)",
])
def test_the_fetcher_refuses(url):
    with pytest.raises(RefusedURL):
        asset_fetcher().fetch(url)


def test_the_fetcher_serves_the_template_stylesheet():
    from weasyprint.urls import URLFetcher

    fetcher = asset_fetcher()
    response = fetcher.fetch((ASSET_DIR / "pdf.css").as_uri())

    assert isinstance(fetcher, URLFetcher)
    assert response.content_type == "text/css"
    assert b"@page" in response.read()


# ---------------------------------------------------------------- rendering stays off the event loop


def long_statement(lines: int) -> PrintedStatement:
    start, balance, printed = date(2026, 1, 1), Decimal("0.00"), []
    for number in range(lines):
        invoiced, paid = (Decimal("100.00"), Decimal("0.00")) if number % 2 == 0 else (Decimal("0.00"),
                                                                                      Decimal("60.00"))
        balance += invoiced - paid
        printed.append(PrintedStatementLine(date=start + timedelta(days=number // 3),
                                            transaction="Invoice" if invoiced else "Payment received",
                                            reference=f"INV-{number:05d}", amount=invoiced, payment=paid,
                                            balance=balance))
    return PrintedStatement(start=start, end=date(2026, 12, 31), currency="USD", organization=Party("Northwind"),
                            customer=Party("Acme Corp"), opening_balance=Decimal("0.00"),
                            invoiced_amount=Decimal("0.00"), amount_paid=Decimal("0.00"), closing_balance=balance,
                            lines=tuple(printed))


async def dashboard_latency(portal) -> float:
    started = time.perf_counter()
    await portal.data(DASHBOARD)
    return time.perf_counter() - started


async def test_a_twenty_page_statement_does_not_delay_the_dashboard(business, mailbox):
    customer = await business.customer()
    portal, _ = await business.portal_user(customer["id"], "busy@client.example.com", mailbox)
    await render_pool.render("pdf_statement.html", long_statement(10), "A4")  # workers are up
    quiet = [await dashboard_latency(portal) for _ in range(40)]

    rendering = asyncio.create_task(render_pool.render("pdf_statement.html", long_statement(640), "A4"))
    busy = []
    while not rendering.done():
        busy.append(await dashboard_latency(portal))
    pdf = await rendering

    pages = PdfReader(BytesIO(pdf)).pages
    assert len(pages) >= 20
    assert "Transaction" in pages[1].extract_text()  # the table's header is repeated on every page
    assert len(busy) >= 20
    # Medians: a garbage collection pause now and then is no part of what is measured.
    assert statistics.median(busy) < statistics.median(quiet) + 0.005, (quiet, busy)


async def test_the_workers_start_and_warm_up_before_the_first_pdf():
    render_pool.shutdown()

    render_pool.start()
    pool = render_pool._pool()

    assert len(pool._processes) == RENDER_WORKERS  # started, not waiting for the first PDFs
    # A worker takes its first task once it has rendered its sample and frozen what it loaded.
    frozen = await asyncio.gather(*(asyncio.wrap_future(pool.submit(gc.get_freeze_count))
                                    for _ in range(RENDER_WORKERS)))
    assert all(count > 0 for count in frozen)


async def test_fresh_workers_take_over_once_they_are_warm(monkeypatch):
    from portal.pdf import rendering

    monkeypatch.setattr(rendering, "RENDERS_PER_WORKER", 1)
    render_pool.shutdown()
    render_pool.start()
    old = render_pool._pool()
    old_workers = list(old._processes.values())

    for _ in range(RENDER_WORKERS):
        await render_pool.render("pdf_statement.html", long_statement(1), "A4")
    renewal = render_pool._renewal
    assert renewal is not None and render_pool._pool() is old  # the old workers serve while the fresh ones warm up
    await asyncio.wait_for(renewal, 120)
    fresh = render_pool._pool()
    pdf = await render_pool.render("pdf_statement.html", long_statement(1), "A4")

    assert fresh is not old and pdf.startswith(b"%PDF")
    for worker in old_workers:
        await asyncio.to_thread(worker.join, 30)
        assert not worker.is_alive()
    frozen = await asyncio.gather(*(asyncio.wrap_future(fresh.submit(gc.get_freeze_count))
                                    for _ in range(RENDER_WORKERS)))
    assert all(count > 0 for count in frozen)


async def test_a_killed_render_worker_costs_no_request(business, client):
    """A dead worker breaks the whole process pool; the renders in it retry once on a fresh pool."""
    import os
    import signal

    from portal.pdf.rendering import render_pool

    customer = await business.customer("Crash Test")
    invoice = await business.invoice(customer["id"])
    url = await pdf_url(business.staff, invoice["id"])
    await get_pdf(client, url, business.staff.token)  # the pool is up
    for process in list(render_pool._pool()._processes.values()):
        os.kill(process.pid, signal.SIGKILL)

    answers = await asyncio.gather(*(get_pdf(client, url, business.staff.token) for _ in range(3)))

    assert [answer.status_code for answer in answers] == [200, 200, 200]
