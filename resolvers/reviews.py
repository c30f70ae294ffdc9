"""Reviews: the owner asks for them; contact persons leave them."""

from portal.core.errors import BadUserInput
from portal.core.ids import decode_id
from portal.models.activity import ActivityKind
from portal.models.customers import PortalAccess, get_contact_person
from portal.models.reviews import Review, new_review, reviews_visible_to
from portal.notifications.activity import record_activity
from portal.notifications.messages import portal_link, queue_notice
from portal.resolvers.scope import signed_in_contact


async def submit_review(ctx, *, rating: int, comment: str | None) -> Review:
    contact = await signed_in_contact(ctx)
    review = new_review(ctx.principal, rating=rating, comment=comment, author_name=contact.full_name)
    ctx.session.add(review)
    await ctx.session.flush()
    await record_activity(ctx.session, organization_id=review.organization_id, kind=ActivityKind.REVIEW_SUBMITTED,
                          customer_id=review.customer_id, contact_person_id=contact.id, subject_type="Review",
                          subject_id=review.id, summary=f"{contact.full_name} left a {rating}-star review")
    await ctx.commit()
    return review


async def reviews(ctx) -> list[Review]:
    principal = ctx.require_staff()
    return list(await ctx.session.scalars(
        reviews_visible_to(principal).order_by(Review.created_at.desc(), Review.id.desc())))


async def request_review(ctx, contact_person_ids: list[str]) -> bool:
    """Email each chosen contact person with active access a link to review the business."""
    principal = ctx.require_staff()
    if not contact_person_ids:
        raise BadUserInput("Name at least one contact person.")
    contacts = [await get_contact_person(ctx.session, principal, decode_id(value, "ContactPerson"))
                for value in dict.fromkeys(contact_person_ids)]
    organization = ctx.organization
    for contact in contacts:
        if contact.portal_access != PortalAccess.ACTIVE:
            continue
        queue_notice(ctx.session, organization, to_address=contact.email, to_name=contact.full_name,
                     subject=f"How did {organization.name} do?",
                     paragraphs=[f"Hello {contact.full_name},",
                                 f"{organization.name} would value your review. It takes a minute: rate us "
                                 "from 1 to 5 and, if you like, say why."],
                     link_label="Leave a review", link_url=portal_link(ctx.settings, organization, "/review"))
    await ctx.commit()
    return True
