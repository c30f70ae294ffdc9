"""DataLoaders, created per request: one query per field per level, never N+1.

They die with the request, so a cache never serves one customer's rows to another. Loaders of
children (lines, allocations, contact persons) are keyed by parents the request could already
see; those that can reach further (invoices, comments, tasks) filter by the principal too.
"""
import functools
from collections.abc import Awaitable, Callable, Iterable
from typing import TypeVar

from sqlmodel import col
from strawberry.dataloader import DataLoader

from portal.core.database import AsyncSession
from portal.models.auth import Principal
from portal.models.comments import Comment, comments_on
from portal.models.customers import ContactPerson, Customer, contact_persons_of, customers_visible_to
from portal.models.documents import LineItem, ShownLine, lines_of
from portal.models.invoices import Invoice, invoices_visible_to
from portal.models.payments import Payment, PaymentAllocation, allocations_of, payments_of_invoices
from portal.models.projects import ProjectTask, TimeEntry, entries_of, tasks_of
from portal.models.rows import Row

Child = TypeVar("Child")
Keyed = TypeVar("Keyed", bound=Row)


def held(loader: DataLoader[int, Child], key: int) -> Child | None:
    """What `loader` has already loaded for `key`, to answer without awaiting; None while it has not."""
    future = loader.cache_map.get(key)
    if future is None or not future.done() or future.cancelled() or future.exception() is not None:
        return None
    return future.result()


async def load_now(loader: DataLoader[int, Child], keys: list[int]) -> None:
    """The values of `keys` that `loader` lacks, loaded by one call of its load function straight away and
    kept as it keeps them: a page's items then find theirs `held`, without the loader's batch task and a
    future and callback per key. A key whose value is an error is left out: its item loads it again, and
    the error is raised where it always is."""
    missing = [key for key in dict.fromkeys(keys) if loader.cache_map.get(key) is None]
    if missing:
        values = await loader.load_fn(missing)
        loader.prime_many({key: value for key, value in zip(missing, values, strict=True)
                           if not isinstance(value, BaseException)})


def _by_id(rows: Iterable[Keyed], keys: list[int]) -> list[Keyed | None]:
    found = {row.id: row for row in rows}
    return [found.get(key) for key in keys]


class Loaders:
    """Each loader is made on first use: a request uses one or two of them."""

    def __init__(self, session: AsyncSession, principal: Principal) -> None:
        self.session = session
        self.principal = principal

    @functools.cached_property
    def invoice_lines(self) -> DataLoader[int, list[ShownLine]]:
        return self._grouped(lambda ids: lines_of(self.session, col(LineItem.invoice_id), ids))

    @functools.cached_property
    def estimate_lines(self) -> DataLoader[int, list[ShownLine]]:
        return self._grouped(lambda ids: lines_of(self.session, col(LineItem.estimate_id), ids))

    @functools.cached_property
    def contact_persons(self) -> DataLoader[int, list[ContactPerson]]:
        return self._grouped(lambda ids: contact_persons_of(self.session, ids))

    @functools.cached_property
    def invoice_payments(self) -> DataLoader[int, list[Payment]]:
        return self._grouped(lambda ids: payments_of_invoices(self.session, ids))

    @functools.cached_property
    def payment_allocations(self) -> DataLoader[int, list[PaymentAllocation]]:
        return self._grouped(lambda ids: allocations_of(self.session, ids))

    @functools.cached_property
    def estimate_comments(self) -> DataLoader[int, list[Comment]]:
        return self._grouped(lambda ids: comments_on(self.session, self.principal, "Estimate", ids))

    @functools.cached_property
    def invoice_comments(self) -> DataLoader[int, list[Comment]]:
        return self._grouped(lambda ids: comments_on(self.session, self.principal, "Invoice", ids))

    @functools.cached_property
    def project_comments(self) -> DataLoader[int, list[Comment]]:
        return self._grouped(lambda ids: comments_on(self.session, self.principal, "Project", ids))

    @functools.cached_property
    def project_tasks(self) -> DataLoader[int, list[ProjectTask]]:
        return self._grouped(lambda ids: tasks_of(self.session, self.principal, ids))

    @functools.cached_property
    def task_entries(self) -> DataLoader[int, list[TimeEntry]]:
        return self._grouped(lambda ids: entries_of(self.session, ids))

    @functools.cached_property
    def invoice(self) -> DataLoader[int, Invoice | None]:
        return DataLoader(self._load_invoices)

    @functools.cached_property
    def customer(self) -> DataLoader[int, Customer | None]:
        return DataLoader(self._load_customers)

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
