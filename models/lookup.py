"""Finding what the principal may see."""
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Protocol, TypeVar

from sqlalchemy import ColumnElement, Select, select
from sqlmodel import col

from portal.core.database import AsyncSession
from portal.core.errors import NotFound
from portal.models.auth import Principal


class OrganizationRow(Protocol):
    """A row that belongs to one organization, as every customer-facing table's rows do."""

    organization_id: int


Owned = TypeVar("Owned", bound=OrganizationRow)
Found = TypeVar("Found")
Key = TypeVar("Key")
Value = TypeVar("Value")


def organization_rows(model: type[Owned], principal: Principal, *contact_filters: ColumnElement[bool]) -> Select[Owned]:
    """The principal's organization's rows of `model`; for a contact person, only those `contact_filters` keep.

    Where the `*_visible_to(principal)` queries of the organization's customers' data start.
    """
    query = select(model).where(col(model.organization_id) == principal.organization_id)
    if principal.is_contact:
        query = query.where(*contact_filters)
    return query


async def one_visible(session: AsyncSession, query: Select[Found], what: str, *, for_update: bool = False) -> Found:
    """The one row of a `*_visible_to(principal)` query, or NotFound, which is also what a foreign id gets."""
    row = await session.scalar(query.with_for_update() if for_update else query)
    if row is None:
        raise NotFound(what)
    return row


def group_pairs(pairs: Iterable[tuple[Key, Value]]) -> defaultdict[Key, list[Value]]:
    """(parent id, row) pairs of one batched query, rows grouped under their parent's id (for DataLoaders);
    missing ids give []."""
    grouped: defaultdict[Key, list[Value]] = defaultdict(list)
    for key, value in pairs:
        grouped[key].append(value)
    return grouped


def group_by(rows: Iterable[Value], key: Callable[[Value], Key]) -> defaultdict[Key, list[Value]]:
    """Rows of one batched query, grouped under their parent's id `key(row)`; missing ids give []."""
    return group_pairs((key(row), row) for row in rows)
