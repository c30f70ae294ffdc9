"""DataLoaders, created per request: one query per field per level, never N+1.

They die with the request, so a cache never serves one customer's rows to another. Loaders of
children (lines, allocations, contact persons) are keyed by parents the request could already
see; those that can reach further (invoices, comments, tasks) filter by the principal too.
"""
from strawberry.dataloader import DataLoader

from portal.models.auth import Principal
from portal.models.comments import comments_on
from portal.models.customers import contact_persons_of
from portal.models.documents import LineItem, lines_of
from portal.models.invoices import Invoice, invoices_visible_to
from portal.models.payments import allocations_of, payments_of_invoices
from portal.models.projects import entries_of, tasks_of


def _by_id(rows, keys):
    found = {row.id: row for row in rows}
    return [found.get(key) for key in keys]


class Loaders:
    def __init__(self, session, principal: Principal | None) -> None:
        self.session = session
        self.principal = principal
        self.invoice_lines = self._grouped(lambda ids: lines_of(session, LineItem.invoice_id, ids))
        self.estimate_lines = self._grouped(lambda ids: lines_of(session, LineItem.estimate_id, ids))
        self.contact_persons = self._grouped(lambda ids: contact_persons_of(session, ids))
        self.invoice_payments = self._grouped(lambda ids: payments_of_invoices(session, ids))
        self.payment_allocations = self._grouped(lambda ids: allocations_of(session, ids))
        self.estimate_comments = self._grouped(lambda ids: comments_on(session, principal, "Estimate", ids))
        self.invoice_comments = self._grouped(lambda ids: comments_on(session, principal, "Invoice", ids))
        self.project_comments = self._grouped(lambda ids: comments_on(session, principal, "Project", ids))
        self.project_tasks = self._grouped(lambda ids: tasks_of(session, principal, ids))
        self.task_entries = self._grouped(lambda ids: entries_of(session, ids))
        self.invoice = DataLoader(self._load_invoices)

    @staticmethod
    def _grouped(fetch) -> DataLoader:
        async def load(keys):
            grouped = await fetch(list(keys))
            return [grouped.get(key, []) for key in keys]

        return DataLoader(load)

    async def _load_invoices(self, keys):
        # Allocations may point at any invoice of the payment's customer; drafts stay hidden.
        rows = await self.session.scalars(invoices_visible_to(self.principal).where(Invoice.id.in_(keys)))
        return _by_id(rows, keys)
