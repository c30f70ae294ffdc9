"""Reviews of the business."""
from helpers import activity_kinds

SUBMIT = "mutation($r: Int!, $c: String) { submitReview(rating: $r, comment: $c) { id rating comment authorName } }"
REQUEST = "mutation($ids: [ID!]!) { requestReview(contactPersonIds: $ids) }"


async def test_a_contact_reviews_and_the_owner_reads_it(business, mailbox, app):
    customer = await business.customer()
    portal, _contact = await business.portal_user(customer["id"], "fan@reviews.example.com", mailbox)

    review = (await portal.data(SUBMIT, r=5, c="Great work"))["submitReview"]

    assert review["authorName"] == "Pat Doe"
    assert (await business.staff.data("{ reviews { rating comment } }"))["reviews"] == [
        {"rating": 5, "comment": "Great work"}]
    assert (await activity_kinds(app, business.organization_id))[-1] == "REVIEW_SUBMITTED"
    assert await portal.error_code(SUBMIT, r=6) == "BAD_USER_INPUT"
    assert await portal.error_code("{ reviews { id } }") == "FORBIDDEN"


async def test_the_owner_asks_active_contacts_for_a_review(business, mailbox):
    customer = await business.customer()
    _, active = await business.portal_user(customer["id"], "active@reviews.example.com", mailbox)
    inactive = await business.contact(customer["id"], "inactive@reviews.example.com")

    assert (await business.staff.data(REQUEST, ids=[active["id"], inactive["id"]]))["requestReview"] is True

    [request] = [m for m in await mailbox.to("active@reviews.example.com") if "How did" in m["Subject"]]
    assert "/review" in request.get_body(("plain",)).get_content()
    assert await mailbox.to("inactive@reviews.example.com") == []
