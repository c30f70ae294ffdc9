"""Comments on estimates, invoices and projects."""
from datetime import datetime
from typing import Annotated

import strawberry

from portal.core.database import AsyncSession
from portal.models.auth import Principal
from portal.models.comments import Comment as CommentRow
from portal.models.comments import comments_visible_to
from portal.resolvers import comments as resolve
from portal.resolvers.context import Info
from portal.schema.nodes import GLOBAL_ID, Node, load_in_order
from portal.schema.permissions import IsSignedIn, only
from portal.schema.rows import from_row


@strawberry.type(description="A comment by staff or by a contact person.")
class Comment(Node):
    row: strawberry.Private[CommentRow]
    id: strawberry.ID = strawberry.field(description=GLOBAL_ID)
    body: str = strawberry.field(description="As written; escape it wherever you render it.")
    author_name: str = strawberry.field(
        description="Name of the staff member or contact person who wrote it, as it was then.")
    by_staff: bool = strawberry.field(description="Written by the business's staff rather than by a contact person.")
    visible_in_portal: bool = strawberry.field(description="Staff comments only: shown to the customer in the portal.")
    created_at: datetime = strawberry.field(description="When it was written, in UTC.")

    @classmethod
    def from_model(cls, row: CommentRow) -> "Comment":
        return from_row(cls, row, row=row)

    @classmethod
    async def load_visible(cls, session: AsyncSession, principal: Principal, ids: list[int]) -> list["Comment | None"]:
        return await load_in_order(session, comments_visible_to(principal), CommentRow, ids, cls.from_model)


@strawberry.type
class Mutation:
    @strawberry.mutation(extensions=only(IsSignedIn()),
                         description="On an estimate, invoice or project. Staff may set visibleInPortal; "
                                     "a contact's comment is always visible.")
    async def add_comment(self, info: Info,
                          subject_id: Annotated[strawberry.ID, strawberry.argument(
                              description="The estimate, invoice or project commented on, by id.")],
                          body: Annotated[str, strawberry.argument(description="The comment: 1 to 5,000 characters.")],
                          visible_in_portal: Annotated[bool | None, strawberry.argument(
                              description="Staff only: false hides the comment from the customer. A contact "
                                          "person's comment is always visible.")] = True) -> Comment:
        row = await resolve.add_comment(info.context, subject_id=subject_id, body=body,
                                        visible_in_portal=visible_in_portal is not False)
        return Comment.from_model(row)
