"""Relay building blocks: the Node interface, connections and page info."""
from collections.abc import Callable, Iterable
from typing import Generic, Protocol, TypeVar

import strawberry
from sqlalchemy import Select
from sqlmodel import col

from portal.core.database import AsyncSession
from portal.core.ids import to_global_id
from portal.resolvers.paging import Page

T = TypeVar("T")
Item = TypeVar("Item")


class HasId(Protocol):
    id: int | None


Row = TypeVar("Row", bound=HasId)

GLOBAL_ID = "Opaque global id; `node(id:)` fetches the object again."


@strawberry.interface(description="An object with a global id; fetch it again with `node(id:)`.")
class Node:
    """Each type that implements it loads itself: a classmethod `load_visible(session, principal, ids)`
    returns its objects of those primary keys that the principal may see, read through the
    `*_visible_to(principal)` query of `models/`, in the keys' order, None for the others.
    `node(id:)` and activity subjects find these by type name (schema/node.py)."""

    id: strawberry.ID = strawberry.field(description=GLOBAL_ID)


def global_id(type_name: str, pk: int | None) -> strawberry.ID:
    """The `id` of the Node `type_name` that shows the saved row `pk`."""
    return strawberry.ID(to_global_id(type_name, pk))


def in_order(ids: list[int], rows: Iterable[Row], wrap: Callable[[Row], T]) -> list[T | None]:
    """`rows` wrapped, in the order of `ids`; None for an id without a row (missing, or not the viewer's)."""
    found = {row.id: row for row in rows}
    return [wrap(found[pk]) if pk in found else None for pk in ids]


async def load_in_order(session: AsyncSession, visible: Select, model: type[Row], ids: list[int],
                        wrap: Callable[[Row], T]) -> list[T | None]:
    """The rows of `visible` (a `*_visible_to(principal)` query of `model`) with these ids, wrapped, in order."""
    return in_order(ids, await session.scalars(visible.where(col(model.id).in_(ids))), wrap)


@strawberry.type(description="Where a page ends and whether more follow.")
class PageInfo:
    has_next_page: bool = strawberry.field(description="More items follow this page.")
    end_cursor: str | None = strawberry.field(
        description="Cursor of the page's last item: pass it as `after` for the next page; null for an empty page.")
    has_previous_page: bool = strawberry.field(
        description="Items come before this page: those up to the `after` cursor, or older than a `before`/`last` "
                    "page.")
    start_cursor: str | None = strawberry.field(
        description="Cursor of the page's first item (`before` it pages back, where the list allows); "
                    "null for an empty page.")


@strawberry.type(description="An item of a page and the cursor that points at it.")
class Edge(Generic[T]):
    node: T = strawberry.field(description="The item.")
    cursor: str = strawberry.field(description="Pass it as `after` to get the items that follow this one.")


@strawberry.type(description="A page of a list, in the list's order (its field says which), with the exact total.")
class Connection(Generic[T]):
    edges: list[Edge[T]] = strawberry.field(
        description="The items of this page, in the list's order, each with its cursor.")
    page_info: PageInfo = strawberry.field(description="Whether more items follow, and the cursor to ask for them.")
    total_count: int = strawberry.field(description="How many items the whole list has, over all its pages.")

    @classmethod
    def from_page(cls, page: Page[Item], wrap: Callable[[Item], T]) -> "Connection[T]":
        edges = [Edge(node=wrap(row), cursor=cursor) for row, cursor in zip(page.rows, page.cursors, strict=True)]
        page_info = PageInfo(has_next_page=page.has_next, end_cursor=page.end_cursor,
                             has_previous_page=page.has_previous, start_cursor=page.start_cursor)
        return cls(edges=edges, page_info=page_info, total_count=page.total_count)
