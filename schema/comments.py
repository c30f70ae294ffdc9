"""Comments on estimates, invoices and projects."""
from datetime import datetime

import strawberry
from strawberry.types import Info

from portal.core.ids import to_global_id
from portal.models.comments import Comment as CommentRow
from portal.resolvers import comments as resolve
from portal.schema.nodes import GLOBAL_ID, Node


@strawberry.type(description="A comment by staff or by a contact person.")
class Comment(Node):
    id: strawberry.ID = strawberry.field(description=GLOBAL_ID)
    body: str = strawberry.field(description="As written; escape it wherever you render it.")
    author_name: str = strawberry.field(
        description="Name of the staff member or contact person who wrote it, as it was then.")
    by_staff: bool = strawberry.field(description="Written by the business's staff rather than by a contact person.")
    visible_in_portal: bool = strawberry.field(description="Staff comments only: shown to the customer in the portal.")
    created_at: datetime = strawberry.field(description="When it was written, in UTC.")

    @classmethod
    def from_model(cls, row: CommentRow) -> "Comment":
        return cls(id=to_global_id("Comment", row.id), body=row.body, author_name=row.author_name,
                   by_staff=row.by_staff, visible_in_portal=row.visible_in_portal, created_at=row.created_at)


@strawberry.type
class Mutation:
    @strawberry.mutation(description="On an estimate, invoice or project. Staff may set visibleInPortal; "
                                     "a contact's comment is always visible.")
    async def add_comment(self, info: Info, subject_id: strawberry.ID, body: str,
                          visible_in_portal: bool | None = True) -> Comment:
        row = await resolve.add_comment(info.context, subject_id=subject_id, body=body,
                                        visible_in_portal=visible_in_portal is not False)
        return Comment.from_model(row)
