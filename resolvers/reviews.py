"""Reviews: the owner asks for them; contact persons leave them."""
from collections.abc import Sequence

from sqlmodel import col

from portal.core.errors import BadUserInput
from portal.core.ids import decode_id
from portal.models import access
from portal.models.customers import get_contact_person
from portal.models.reviews import Review, new_review, reviews_visible_to
from portal.notifications import emails, events
from portal.resolvers.context import Context
from portal.resolvers.scope import signed_in_contact


async def submit_review(ctx: Context, *, rating: int, comment: str | None) -> Review:
    contact = await signed_in_contact(ctx)
    review = new_review(ctx.viewer, rating=rating, comment=comment, author_name=contact.full_name)
    ctx.session.add(review)
    await ctx.session.flush()
    await events.review_submitted(ctx.session, review, contact)
    return review


async def reviews(ctx: Context) -> list[Review]:
    principal = ctx.viewer
    return list(await ctx.session.scalars(
        reviews_visible_to(principal).order_by(col(Review.created_at).desc(), col(Review.id).desc())))


async def request_review(ctx: Context, contact_person_ids: Sequence[str]) -> bool:
    """Email each chosen contact person with active access a link to review the business."""
    principal = ctx.viewer
    if not contact_person_ids:
        raise BadUserInput("Name at least one contact person.")
    contacts = [await get_contact_person(ctx.session, principal, decode_id(value, "ContactPerson"))
                for value in dict.fromkeys(contact_person_ids)]
    for contact in contacts:
        if access.has_access(contact):
            emails.queue_review_request(ctx.session, ctx.settings, await ctx.viewer_organization(), contact)
    return True
