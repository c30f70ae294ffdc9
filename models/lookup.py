"""Finding what the principal may see."""
from collections import defaultdict

from sqlalchemy import select

from portal.core.errors import NotFound


def organization_rows(model, principal, *contact_filters):
    """The principal's organization's rows of `model`; for a contact person, only those `contact_filters` keep.

    Where the `*_visible_to(principal)` queries of the organization's customers' data start.
    """
    query = select(model).where(model.organization_id == principal.organization_id)
    if principal.is_contact:
        query = query.where(*contact_filters)
    return query


async def one_visible(session, query, what: str, *, for_update: bool = False):
    """The one row of a `*_visible_to(principal)` query, or NotFound, which is also what a foreign id gets."""
    row = await session.scalar(query.with_for_update() if for_update else query)
    if row is None:
        raise NotFound(what)
    return row


def group_by(rows, key, value=lambda row: row) -> defaultdict:
    """Rows of one batched query, grouped under their parent's id (for DataLoaders); missing ids give []."""
    grouped = defaultdict(list)
    for row in rows:
        grouped[key(row)].append(value(row))
    return grouped
