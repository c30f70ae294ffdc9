"""Relay building blocks: the Node interface, connections and page info."""
from typing import Generic, TypeVar

import strawberry

T = TypeVar("T")


@strawberry.interface(description="An object with a global id; fetch it again with `node(id:)`.")
class Node:
    id: strawberry.ID


@strawberry.type(description="Where a page ends and whether more follow.")
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type(description="An item of a page and the cursor that points at it.")
class Edge(Generic[T]):
    node: T
    cursor: str


@strawberry.type(description="A page of a list, newest first, with the exact total.")
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo
    total_count: int

    @classmethod
    def from_page(cls, page, wrap) -> "Connection":
        edges = [Edge(node=wrap(row), cursor=cursor) for row, cursor in zip(page.rows, page.cursors, strict=True)]
        return cls(edges=edges, page_info=PageInfo(has_next_page=page.has_next, end_cursor=page.end_cursor),
                   total_count=page.total_count)
