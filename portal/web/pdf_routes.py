"""GET /pdf/{id} and GET /pdf/statement: the documents behind every `pdfUrl`, for whoever may see them."""
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date

from sqlmodel import col
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from portal.core.database import AsyncSession
from portal.core.errors import BadUserInput, DomainError, NotFound
from portal.core.runtime import Services
from portal.models.customers import Customer
from portal.models.documents import LineItem, ShownLine, lines_of
from portal.models.estimates import Estimate
from portal.models.invoices import Invoice, InvoiceKind
from portal.models.money import ZERO
from portal.models.organizations import Organization
from portal.models.payments import allocations_of, payments_of_invoices
from portal.models.rows import saved_id
from portal.models.statements import Statement, StatementLineKind
from portal.pdf.rendering import (
    AppliedPayment,
    Party,
    PrintedDocument,
    PrintedLine,
    PrintedStatement,
    PrintedStatementLine,
    PrintedView,
    RendersBusy,
    TooManyRenders,
    page_size,
    render_pool,
)
from portal.resolvers.context import Context
from portal.resolvers.dashboard import statement as resolve_statement
from portal.resolvers.documents import visible_document
from portal.web.auth import authenticate

logger = logging.getLogger("portal.pdf")

HTTP_STATUS = {"UNAUTHENTICATED": 401, "FORBIDDEN": 403, "NOT_FOUND": 404, "BAD_USER_INPUT": 400}
TRANSACTIONS = {StatementLineKind.OPENING_BALANCE: "Opening balance", StatementLineKind.INVOICE: "Invoice",
                StatementLineKind.PAYMENT: "Payment received"}


@dataclass(frozen=True)
class Printable:
    template_name: str
    view: PrintedView
    filename: str


# ---------------------------------------------------------------- routes


async def document_pdf(request: Request) -> Response:
    return await _answer(request, _printable_document)


async def statement_pdf(request: Request) -> Response:
    return await _answer(request, _printable_statement)


async def _answer(request: Request, load: Callable[[Context, Request], Awaitable[Printable]]) -> Response:
    services: Services = request.app.state.services
    try:
        async with services.session_factory() as session:
            ctx = await _context(request, services, session)
            printable = await load(ctx, request)
        # The session is closed first: no database connection is held while the PDF renders.
        pdf = await render_pool.render(printable.template_name, printable.view,
                                       page_size(services.settings.pdf_page_size), requester=_requester(ctx))
    except DomainError as error:
        return _error(HTTP_STATUS.get(error.code, 500), error.code, error.message)
    except TooManyRenders as refusal:
        return _error(429, "RATE_LIMITED", "You have several PDFs being prepared already; ask again once they "
                      "have arrived.", {"Retry-After": str(refusal.retry_after)})
    except RendersBusy:
        return _error(503, "BUSY", "The PDF could not be rendered now; try again in a few seconds.",
                      {"Retry-After": "5"})
    return Response(pdf, media_type="application/pdf", headers={
        "Content-Disposition": f'inline; filename="{printable.filename}"',
        "Cache-Control": "private, no-store",
        "X-Content-Type-Options": "nosniff",
    })


def _requester(ctx: Context) -> tuple[str, int | None]:
    """Whose turn a render takes: the person, however many sessions they have open."""
    principal = ctx.viewer
    if principal.staff_user_id is not None:
        return ("staff", principal.staff_user_id)
    return ("contact", principal.contact_person_id)


async def _context(request: Request, services: Services, session: AsyncSession) -> Context:
    signed_in = await authenticate(session, request.headers.get("authorization"))
    if signed_in.principal is None:
        raise signed_in.refusal()
    return Context(services=services, session=session, principal=signed_in.principal,
                   organization=signed_in.organization, time_zone=signed_in.time_zone, request=request)


def _error(status: int, code: str, message: str, headers: dict | None = None) -> JSONResponse:
    if status == 401:
        headers = {**(headers or {}), "WWW-Authenticate": "Bearer"}
    return JSONResponse({"code": code, "message": message}, status_code=status, headers=headers)


def _filename(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", name) + ".pdf"


# ---------------------------------------------------------------- estimates and invoices


async def _printable_document(ctx: Context, request: Request) -> Printable:
    try:
        document = await visible_document(ctx, request.path_params["document_id"])
    except BadUserInput:
        raise NotFound("Estimate or invoice") from None  # a malformed id in a path is a page that is not there
    customer = await ctx.session.get(Customer, document.customer_id)
    if customer is None:  # a document's customer is kept as long as the document
        raise NotFound("Customer")
    if isinstance(document, Invoice):
        view = await _invoice_view(ctx, document, customer)
    else:
        view = await _estimate_view(ctx, document, customer)
    return Printable("pdf_document.html", view, _filename(document.number))


async def _invoice_view(ctx: Context, invoice: Invoice, customer: Customer) -> PrintedDocument:
    invoice_id = saved_id(invoice)
    lines = (await lines_of(ctx.session, col(LineItem.invoice_id), [invoice_id]))[invoice_id]
    return PrintedDocument(
        title="Retainer invoice" if invoice.kind == InvoiceKind.RETAINER else "Invoice",
        number=invoice.number, status=invoice.status_on(ctx.today),
        dates=(("Invoice date", invoice.date), ("Due date", invoice.due_date)),
        currency=invoice.currency, organization=_organization_party(await ctx.viewer_organization()),
        customer=_customer_party(customer), lines=_printed_lines(lines),
        sub_total=invoice.sub_total, tax_total=invoice.tax_total, total=invoice.total,
        amount_paid=invoice.amount_paid, balance_due=invoice.balance_due,
        payments=await _applied_payments(ctx.session, invoice),
    )


async def _estimate_view(ctx: Context, estimate: Estimate, customer: Customer) -> PrintedDocument:
    estimate_id = saved_id(estimate)
    lines = (await lines_of(ctx.session, col(LineItem.estimate_id), [estimate_id]))[estimate_id]
    dates: tuple[tuple[str, date], ...] = (("Estimate date", estimate.date),)
    if estimate.expiry_date is not None:
        dates += (("Expiry date", estimate.expiry_date),)
    return PrintedDocument(
        title="Estimate", number=estimate.number, status=estimate.status_on(ctx.today), dates=dates,
        currency=estimate.currency, organization=_organization_party(await ctx.viewer_organization()),
        customer=_customer_party(customer), lines=_printed_lines(lines),
        sub_total=estimate.sub_total, tax_total=estimate.tax_total, total=estimate.total,
        note=f"Declined: {estimate.decline_reason}" if estimate.decline_reason else None,
    )


def _printed_lines(rows: list[ShownLine]) -> tuple[PrintedLine, ...]:
    return tuple(PrintedLine(name=row.name, description=row.description, quantity=row.quantity, rate=row.rate,
                             tax_percent=row.tax_percent, tax=row.tax, amount=row.amount) for row in rows)


async def _applied_payments(session: AsyncSession, invoice: Invoice) -> tuple[AppliedPayment, ...]:
    """Each payment with the part of it applied to this invoice (one payment may settle several)."""
    invoice_id = saved_id(invoice)
    payments = (await payments_of_invoices(session, [invoice_id]))[invoice_id]
    allocations = await allocations_of(session, [saved_id(payment) for payment in payments])
    return tuple(
        AppliedPayment(number=payment.number, date=payment.date, method=payment.method, reference=payment.reference,
                       amount=sum((a.amount for a in allocations[saved_id(payment)] if a.invoice_id == invoice_id),
                                  ZERO))
        for payment in payments
    )


# ---------------------------------------------------------------- statements


async def _printable_statement(ctx: Context, request: Request) -> Printable:
    query = request.query_params
    statement = await resolve_statement(ctx, start=_query_date(query, "from"), end=_query_date(query, "to"),
                                        customer_id=query.get("customerId"))
    return Printable("pdf_statement.html", await _statement_view(ctx, statement), _statement_filename(statement))


def _query_date(query: QueryParams, name: str) -> date | None:
    text = query.get(name)
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise BadUserInput(f"`{name}` must be a date, YYYY-MM-DD.") from None


async def _statement_view(ctx: Context, statement: Statement) -> PrintedStatement:
    lines = tuple(
        PrintedStatementLine(date=line.date, transaction=TRANSACTIONS[line.kind],
                             reference="" if line.kind == StatementLineKind.OPENING_BALANCE else line.reference,
                             amount=line.amount, payment=line.payment, balance=line.balance)
        for line in statement.lines
    )
    return PrintedStatement(
        start=statement.start, end=statement.end, currency=statement.currency,
        organization=_organization_party(await ctx.viewer_organization()), customer=_customer_party(statement.customer),
        opening_balance=statement.opening_balance, invoiced_amount=statement.invoiced_amount,
        amount_paid=statement.amount_paid, closing_balance=statement.closing_balance, lines=lines,
    )


def _statement_filename(statement: Statement) -> str:
    start, end = statement.start, statement.end
    if (start.year, start.month) == (end.year, end.month):
        return _filename(f"statement-{start:%Y-%m}")
    return _filename(f"statement-{start.isoformat()}-to-{end.isoformat()}")


# ---------------------------------------------------------------- who is named on the page


def _address_lines(address: dict | None) -> tuple[str, ...]:
    """Attention, streets, "City, ST 12345", country and phone: the lines that are filled in."""
    address = {key: str(value).strip() for key, value in (address or {}).items() if value}
    region = " ".join(address[key] for key in ("state", "zip") if key in address)
    locality = ", ".join(part for part in (address.get("city"), region) if part)
    lines = (address.get("attention"), address.get("street1"), address.get("street2"), locality,
             address.get("country"), address.get("phone"))
    return tuple(line for line in lines if line)


def _organization_party(organization: Organization) -> Party:
    contact = tuple(value for value in (organization.phone, organization.email) if value)
    return Party(name=organization.name, details=_address_lines(organization.address) + contact)


def _customer_party(customer: Customer) -> Party:
    company = (customer.company_name,) if customer.company_name and customer.company_name != customer.display_name \
        else ()
    return Party(name=customer.display_name, details=company + _address_lines(customer.billing_address))


routes = [
    Route("/pdf/statement", statement_pdf, methods=["GET"]),
    Route("/pdf/{document_id}", document_pdf, methods=["GET"]),
]
