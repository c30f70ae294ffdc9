"""DataLoaders, created per request: one query per field per level, never N+1.

They die with the request, so a cache never serves one customer's rows to another. Loaders of
children (lines, allocations, contact persons) are keyed by parents the request could already
see; those that can reach further (invoices, comments, tasks) filter by the principal too.
"""
from collections.abc import Awaitable, Callable, Iterable
from typing import TypeVar

from sqlmodel import col
from strawberry.dataloader import DataLoader

from portal.core.database import AsyncSession
from portal.models.auth import Principal
from portal.models.comments import comments_on
from portal.models.customers import Customer, contact_persons_of, customers_visible_to
from portal.models.documents import LineItem, lines_of
from portal.models.invoices import Invoice, invoices_visible_to
from portal.models.payments import allocations_of, payments_of_invoices
from portal.models.projects import entries_of, tasks_of
from portal.models.rows import Row

Child = TypeVar("Child")
Keyed = TypeVar("Keyed", bound=Row)


def _by_id(rows: Iterable[Keyed], keys: list[int]) -> list[Keyed | None]:
    found = {row.id: row for row in rows}
    return [found.get(key) for key in keys]


class Loaders:
    def __init__(self, session: AsyncSession, principal: Principal) -> None:
        self.session = session
        self.principal = principal
        self.invoice_lines = self._grouped(lambda ids: lines_of(session, col(LineItem.invoice_id), ids))
        self.estimate_lines = self._grouped(lambda ids: lines_of(session, col(LineItem.estimate_id), ids))
        self.contact_persons = self._grouped(lambda ids: contact_persons_of(session, ids))
        self.invoice_payments = self._grouped(lambda ids: payments_of_invoices(session, ids))
        self.payment_allocations = self._grouped(lambda ids: allocations_of(session, ids))
        self.estimate_comments = self._grouped(lambda ids: comments_on(session, principal, "Estimate", ids))
        self.invoice_comments = self._grouped(lambda ids: comments_on(session, principal, "Invoice", ids))
        self.project_comments = self._grouped(lambda ids: comments_on(session, principal, "Project", ids))
        self.project_tasks = self._grouped(lambda ids: tasks_of(session, principal, ids))
        self.task_entries = self._grouped(lambda ids: entries_of(session, ids))
        self.invoice = DataLoader(self._load_invoices)
        self.customer = DataLoader(self._load_customers)

    @staticmethod
    def _grouped(fetch: Callable[[list[int]], Awaitable[dict[int, list[Child]]]]) -> DataLoader[int, list[Child]]:
        async def load(keys: list[int]) -> list[list[Child]]:
            grouped = await fetch(list(keys))
            return [grouped.get(key, []) for key in keys]

        return DataLoader(load)

    async def _load_invoices(self, keys: list[int]) -> list[Invoice | None]:
        # Allocations may point at any invoice of the payment's customer; drafts stay hidden.
        rows = await self.session.scalars(invoices_visible_to(self.principal).where(col(Invoice.id).in_(keys)))
        return _by_id(rows, keys)

    async def _load_customers(self, keys: list[int]) -> list[Customer | None]:
        # The customers of the documents and payments on a page: a contact person's own only.
        rows = await self.session.scalars(customers_visible_to(self.principal).where(col(Customer.id).in_(keys)))
        return _by_id(rows, keys)
