"""Payments and their allocation to invoices."""
import datetime as dt
from decimal import Decimal
from enum import Enum
from typing import Annotated

import strawberry

from portal.core.database import AsyncSession
from portal.core.errors import NotFound
from portal.core.gateway import PaymentFailureCode
from portal.models.auth import Principal
from portal.models.payment_methods import SavedPaymentMethod as SavedPaymentMethodRow
from portal.models.payment_methods import payment_methods_of
from portal.models.payments import Payment as PaymentRow
from portal.models.payments import PaymentAllocation as PaymentAllocationRow
from portal.models.payments import payments_visible_to
from portal.models.rows import saved_id
from portal.resolvers import payments as resolve
from portal.resolvers.context import Info
from portal.schema.arguments import After, CustomerFilter, First
from portal.schema.customers import Customer, customer_of
from portal.schema.enums import graphql_enum
from portal.schema.inputs import checked, value
from portal.schema.invoices import Invoice, PaymentMethodKind
from portal.schema.nodes import GLOBAL_ID, Connection, Node, global_id, load_in_order
from portal.schema.permissions import IsContactPerson, IsSignedIn, IsStaff, only
from portal.schema.rows import from_row


@strawberry.type(description="The part of a payment applied to one invoice.")
class PaymentAllocation:
    row: strawberry.Private[PaymentAllocationRow]
    amount: Decimal = strawberry.field(description="The part of the payment applied to this invoice.")

    @strawberry.field(description="The invoice paid.")
    async def invoice(self, info: Info) -> Invoice:
        invoice = await info.context.loaders.invoice.load(self.row.invoice_id)
        if invoice is None:  # payments are made on sent invoices, which stay visible: only one deleted since
            raise NotFound("Invoice")
        return Invoice.from_model(invoice)


@strawberry.type(description="Money received from a customer.")
class Payment(Node):
    row: strawberry.Private[PaymentRow]
    id: strawberry.ID = strawberry.field(description=GLOBAL_ID)
    number: str = strawberry.field(description="Payment number, like PAY-00042: numbered per business, without gaps.")
    date: dt.date = strawberry.field(description="The day it was received, in the organization's time zone.")
    amount: Decimal = strawberry.field(description="All that was received, over every invoice it pays.")
    currency: str = strawberry.field(description="The currency of the amount: that of the invoices paid.")
    method: PaymentMethodKind = strawberry.field(
        description="Card or bank account in the portal, or OFFLINE when staff recorded it.")
    reference: str | None = strawberry.field(description="The gateway's charge id, or the owner's note.")

    @strawberry.field(description="How the payment was split over invoices.")
    async def allocations(self, info: Info) -> list[PaymentAllocation]:
        rows = await info.context.loaders.payment_allocations.load(saved_id(self.row))
        return [PaymentAllocation(row=row, amount=row.amount) for row in rows]

    @strawberry.field(description="Who paid.")
    async def customer(self, info: Info) -> Customer:
        return await customer_of(info, self.row.customer_id)

    @classmethod
    def from_model(cls, row: PaymentRow) -> "Payment":
        return from_row(cls, row, row=row, method=PaymentMethodKind(row.method))

    @classmethod
    async def load_visible(cls, session: AsyncSession, principal: Principal, ids: list[int]) -> list["Payment | None"]:
        return await load_in_order(session, payments_visible_to(principal), PaymentRow, ids, cls.from_model)


@strawberry.input(description="A payment received outside the portal, for one invoice.")
class RecordPaymentInput:
    invoice_id: strawberry.ID = strawberry.field(description="The invoice paid.")
    amount: Decimal = strawberry.field(
        description="Money received: more than 0, at most the invoice's balance due, at most 2 decimals.")
    date: dt.date | None = strawberry.field(
        default=strawberry.UNSET,
        description="The day it was received; today in the organization's time zone when omitted.")
    reference: str | None = strawberry.field(
        default=strawberry.UNSET, description="A note such as a cheque number: up to 200 characters.")


@strawberry.type(description="A card or bank account the contact person saved at the gateway.")
class SavedPaymentMethod(Node):
    id: strawberry.ID = strawberry.field(description=GLOBAL_ID)
    kind: PaymentMethodKind = strawberry.field(description="Card or bank account.")
    brand: str | None = strawberry.field(
        description="Card brand, like Visa, or the bank's name, as the gateway reports it.")
    last4: str = strawberry.field(description="Last four digits of the card or account number.")
    exp_month: int | None = strawberry.field(description="Month the card expires, 1 to 12; null for a bank account.")
    exp_year: int | None = strawberry.field(description="Year the card expires, four digits; null for a bank account.")

    @classmethod
    def from_model(cls, row: SavedPaymentMethodRow) -> "SavedPaymentMethod":
        return cls(id=global_id("SavedPaymentMethod", row.id), kind=PaymentMethodKind(row.kind), brand=row.brand,
                   last4=row.last4, exp_month=row.exp_month, exp_year=row.exp_year)

    @classmethod
    async def load_visible(cls, session: AsyncSession, principal: Principal,
                           ids: list[int]) -> list["SavedPaymentMethod | None"]:
        return await load_in_order(session, payment_methods_of(principal), SavedPaymentMethodRow, ids, cls.from_model)


@strawberry.input(description="How to pay: exactly one of the two fields.")
class PaymentMethodInput:
    saved_payment_method_id: strawberry.ID | None = strawberry.field(default=strawberry.UNSET,
                                                                     description="Exactly one of these two.")
    gateway_token: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="A token issued by the payment gateway for card or bank details the customer entered.")


@strawberry.input(description="Invoices to pay in full, in one charge.")
class PayInvoicesInput:
    invoice_ids: list[strawberry.ID] = strawberry.field(
        description="One invoice, or several for a bulk payment; each is paid in full (its balance due).")
    payment_method: PaymentMethodInput = strawberry.field(
        description="The saved method to charge, or a gateway token for new card or bank details.")
    save_payment_method: bool | None = strawberry.field(
        default=False, description="With a gateway token: keep the card or bank account for later payments.")
    idempotency_key: str = strawberry.field(
        description="Same key, same request: the first result is returned again and nothing is charged twice.")


@strawberry.enum(description="How a payment ended.")
class PaymentStatus(Enum):
    SUCCEEDED = strawberry.enum_value("SUCCEEDED", description="Charged and recorded: `payment` is set.")
    FAILED = strawberry.enum_value(
        "FAILED", description="Nothing was charged: `failureCode` and `failureReason` say why.")


graphql_enum(PaymentFailureCode, name="PaymentFailureCode",
             description="Why a payment failed, as the payment gateway reported it.", described={
                 PaymentFailureCode.CARD_DECLINED: "The card's bank refused the charge.",
                 PaymentFailureCode.INSUFFICIENT_FUNDS: "The card or account lacks the funds.",
                 PaymentFailureCode.EXPIRED_CARD: "The card has expired.",
                 PaymentFailureCode.INCORRECT_CVC: "The card's security code is wrong.",
                 PaymentFailureCode.PROCESSING_ERROR:
                     "The gateway could not process the charge; trying later may work.",
             })


@strawberry.type(description="The outcome of paying invoices: a payment, or why it failed.")
class PaymentResult:
    status: PaymentStatus = strawberry.field(description="Whether the payment went through.")
    payment: Payment | None = strawberry.field(description="The payment recorded; null when it failed.")
    failure_reason: str | None = strawberry.field(
        description="Why it failed, fit to show the customer; null when it succeeded.")
    failure_code: PaymentFailureCode | None = strawberry.field(
        description="Why it failed, for programs to branch on; null when it succeeded.")


@strawberry.type
class Query:
    @strawberry.field(extensions=only(IsSignedIn()),
                      description="Payments the viewer may see, newest first (by date, then number).")
    async def payments(self, info: Info, customer_id: CustomerFilter = None, first: First = 20,
                       after: After = None) -> Connection[Payment]:
        page = await resolve.payments(info.context, customer_id=customer_id, first=first, after=after)
        return Connection.from_page(page, Payment.from_model)


    @strawberry.field(extensions=only(IsContactPerson()), description="their saved cards and bank accounts.")
    async def saved_payment_methods(self, info: Info) -> list[SavedPaymentMethod]:
        return [SavedPaymentMethod.from_model(row) for row in await resolve.saved_payment_methods(info.context)]


@strawberry.type
class Mutation:
    @strawberry.mutation(extensions=only(IsContactPerson()),
                         description="pay invoices in full by card or bank account, once per "
                                     "idempotency key.")
    async def pay_invoices(self, info: Info, input: Annotated[PayInvoicesInput, strawberry.argument(
                               description="The invoices, how to pay them, and the idempotency key.")]
                           ) -> PaymentResult:
        method = input.payment_method
        with checked("input"):
            result = await resolve.pay_invoices(
                info.context, invoice_ids=input.invoice_ids,
                saved_payment_method_id=value(method.saved_payment_method_id),
                gateway_token=value(method.gateway_token), save_method=bool(input.save_payment_method),
                idempotency_key=input.idempotency_key)
        return PaymentResult(status=PaymentStatus(result.status),
                             payment=Payment.from_model(result.payment) if result.payment else None,
                             failure_reason=result.failure_reason, failure_code=result.failure_code)

    @strawberry.mutation(extensions=only(IsContactPerson()), description="forget a saved payment method.")
    async def remove_saved_payment_method(self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(
                                              description="The saved card or bank account, by id.")]) -> bool:
        return await resolve.remove_saved_payment_method(info.context, id)

    @strawberry.mutation(extensions=only(IsStaff()),
                         description="record an offline payment (cash, cheque, transfer) against an invoice.")
    async def record_payment(self, info: Info, input: Annotated[RecordPaymentInput, strawberry.argument(
                                 description="The invoice, the amount received, its date and a reference.")]
                             ) -> Payment:
        with checked("input"):
            row = await resolve.record_payment(info.context, invoice_id=input.invoice_id, amount=input.amount,
                                               payment_date=value(input.date), reference=value(input.reference))
        return Payment.from_model(row)
