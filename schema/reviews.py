"""Reviews of the business by its customers."""
from datetime import datetime
from typing import Annotated

import strawberry

from portal.core.database import AsyncSession
from portal.models.auth import Principal
from portal.models.reviews import Review as ReviewRow
from portal.models.reviews import reviews_visible_to
from portal.resolvers import reviews as resolve
from portal.resolvers.context import Info
from portal.schema.arguments import ContactPersonIds
from portal.schema.nodes import GLOBAL_ID, Node, load_in_order
from portal.schema.permissions import IsContactPerson, IsStaff, only
from portal.schema.rows import from_row


@strawberry.type(description="A rating of the business, 1 to 5, by a contact person.")
class Review(Node):
    id: strawberry.ID = strawberry.field(description=GLOBAL_ID)
    rating: int = strawberry.field(description="From 1 (worst) to 5 (best).")
    comment: str | None = strawberry.field(description="What the contact person wrote with the rating, if anything.")
    author_name: str = strawberry.field(description="Name of the contact person who left it, as it was then.")
    created_at: datetime = strawberry.field(description="When it was submitted, in UTC.")

    @classmethod
    def from_model(cls, row: ReviewRow) -> "Review":
        return from_row(cls, row)

    @classmethod
    async def load_visible(cls, session: AsyncSession, principal: Principal, ids: list[int]) -> list["Review | None"]:
        return await load_in_order(session, reviews_visible_to(principal), ReviewRow, ids, cls.from_model)


@strawberry.type
class Query:
    @strawberry.field(extensions=only(IsStaff()), description="the reviews customers left, newest first.")
    async def reviews(self, info: Info) -> list[Review]:
        return [Review.from_model(row) for row in await resolve.reviews(info.context)]


@strawberry.type
class Mutation:
    @strawberry.mutation(extensions=only(IsContactPerson()),
                         description="rate the business from 1 to 5, with an optional comment.")
    async def submit_review(self, info: Info,
                            rating: Annotated[int, strawberry.argument(description="Stars, 1 to 5.")],
                            comment: Annotated[str | None, strawberry.argument(
                                description="What the contact person has to say: at most 5,000 characters.")] = None
                            ) -> Review:
        return Review.from_model(await resolve.submit_review(info.context, rating=rating, comment=comment))

    @strawberry.mutation(extensions=only(IsStaff()),
                         description="Emails the contact persons (ACTIVE ones) a link to rate and review the "
                                     "business in the portal.")
    async def request_review(self, info: Info, contact_person_ids: ContactPersonIds) -> bool:
        return await resolve.request_review(info.context, contact_person_ids)
