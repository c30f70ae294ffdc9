"""A refused input lists every problem at once: one BAD_USER_INPUT error per problem, each naming its field."""
from factories import (
    ACCEPT_INVITE,
    ADD_CONTACT,
    CREATE_CUSTOMER,
    CREATE_ESTIMATE,
    CREATE_INVOICE,
    OWNER_PASSWORD,
    RECORD_PAYMENT,
)

from portal.core.errors import BadUserInput, InputCheck, Problem
from portal.schema.errors import api_path

INVOICES = "{ invoices { totalCount } }"
UPDATE_ME = "mutation($input: MyAccountInput!) { updateMyAccount(input: $input) { firstName } }"
UPDATE_COMPANY = "mutation($input: CompanyDetailsInput!) { updateCompanyDetails(input: $input) { companyName } }"
UPDATE_ORGANIZATION = "mutation($input: OrganizationInput!) { updateOrganization(input: $input) { name } }"
PAY = "mutation($input: PayInvoicesInput!) { payInvoices(input: $input) { status } }"
SUBMIT_REVIEW = "mutation($rating: Int!, $comment: String) { submitReview(rating: $rating, comment: $comment) { id } }"
REVIEWS = "{ reviews { id } }"
UPDATE_SETTINGS = "mutation($input: PortalSettingsInput!) { updatePortalSettings(input: $input) { portalName } }"
SETTINGS = "{ portalSettings { portalName bannerMessage allowForwarding } }"
CHANGE_PASSWORD = """mutation($current: String!, $new: String!) {
  changePassword(currentPassword: $current, newPassword: $new) }"""
FORWARD = """mutation($id: ID!, $email: String!, $name: String, $message: String) {
  forwardDocument(documentId: $id, email: $email, name: $name, message: $message) { id } }"""
LONG = "x" * 201


def problems(body: dict) -> list[tuple[str | None, str]]:
    """(field, message) of every error; each must be BAD_USER_INPUT."""
    assert body.get("errors"), body
    assert {error["extensions"]["code"] for error in body["errors"]} == {"BAD_USER_INPUT"}
    return [(error["extensions"].get("field"), error["message"]) for error in body["errors"]]


def fields(body: dict) -> list[str | None]:
    return [field for field, _ in problems(body)]


def test_a_check_notes_each_problem_at_its_path_and_goes_on():
    check = InputCheck()
    with check.field("display_name"):
        raise BadUserInput("A display name is required.")
    with check.field("line_items[0]"):
        raise BadUserInput.of([Problem("No name.", "name"), Problem("Bad rate.", "rate")])
    check.add("due_date", "Too early.")

    try:
        check.done()
    except BadUserInput as error:
        assert error.problems == [Problem("A display name is required.", "display_name"),
                                  Problem("No name.", "line_items[0].name"), Problem("Bad rate.", "line_items[0].rate"),
                                  Problem("Too early.", "due_date")]
    else:
        raise AssertionError("done() raised nothing")


def test_a_check_without_problems_passes():
    check = InputCheck()
    with check.field("name"):
        pass
    check.done()


def test_paths_are_shown_in_the_api_names():
    assert api_path("input.line_items[10].tax_percent") == "input.lineItems[10].taxPercent"
    assert api_path("input.billing_address.street1") == "input.billingAddress.street1"


async def test_an_invoice_with_four_problems_reports_all_four_and_is_not_created(business):
    customer = await business.customer()

    body = await business.staff.request(CREATE_INVOICE, input={
        "customerId": customer["id"], "date": "2026-03-10", "dueDate": "2026-03-01",
        "lineItems": [{"name": " ", "quantity": "1", "rate": "10"},
                      {"name": "Hosting", "quantity": "0", "rate": "10", "taxPercent": "101"}]})

    assert problems(body) == [
        ("input.dueDate", "The due date cannot be before the invoice date."),
        ("input.lineItems[0].name", "Line 1: the name has 1 to 200 characters."),
        ("input.lineItems[1].quantity", "Line 2: quantity must be greater than 0."),
        ("input.lineItems[1].taxPercent", "Line 2: taxPercent must be between 0 and 100."),
    ]
    assert all(error["path"] == ["createInvoice"] for error in body["errors"])
    assert (await business.staff.data(INVOICES))["invoices"]["totalCount"] == 0


async def test_an_invoice_without_lines_says_where(business):
    customer = await business.customer()

    body = await business.staff.request(CREATE_INVOICE, input={"customerId": customer["id"], "lineItems": [],
                                                               "paymentOptions": ["OFFLINE"]})

    assert fields(body) == ["input.lineItems", "input.paymentOptions"]


async def test_an_estimate_reports_its_dates_and_lines_together(business):
    customer = await business.customer()

    body = await business.staff.request(CREATE_ESTIMATE, input={
        "customerId": customer["id"], "date": "2026-03-10", "expiryDate": "2026-03-01",
        "lineItems": [{"name": "Design", "quantity": "1", "rate": "-5", "description": "d" * 2001}]})

    assert fields(body) == ["input.expiryDate", "input.lineItems[0].description", "input.lineItems[0].rate"]


async def test_a_customer_reports_every_bad_field(business):
    body = await business.staff.request(CREATE_CUSTOMER, input={
        "displayName": "  ", "currency": "EURO", "billingAddress": {"city": LONG, "zip": LONG}})

    assert fields(body) == ["input.displayName", "input.currency", "input.billingAddress.city",
                            "input.billingAddress.zip"]


async def test_a_contact_person_reports_every_bad_field(business):
    customer = await business.customer()

    body = await business.staff.request(ADD_CONTACT, customerId=customer["id"], input={
        "firstName": "", "lastName": LONG, "email": "not-an-address"})

    assert fields(body) == ["input.firstName", "input.lastName", "input.email"]


async def test_a_recorded_payment_reports_amount_and_reference_together(business):
    customer = await business.customer()
    invoice = await business.invoice(customer["id"])

    fractional = await business.staff.request(RECORD_PAYMENT, input={
        "invoiceId": invoice["id"], "amount": "10.001", "reference": "r" * 201})
    too_much = await business.staff.request(RECORD_PAYMENT, input={"invoiceId": invoice["id"], "amount": "100000"})

    assert fields(fractional) == ["input.amount", "input.reference"]
    assert fields(too_much) == ["input.amount"]


async def test_a_contact_persons_own_details_report_every_bad_field(business, mailbox):
    customer = await business.customer()
    portal, _ = await business.portal_user(customer["id"], "problems@account.example.com", mailbox)

    me = await portal.request(UPDATE_ME, input={"firstName": " ", "phone": "1" * 51})
    company = await portal.request(UPDATE_COMPANY, input={"companyName": LONG, "shippingAddress": {"street1": LONG}})

    assert fields(me) == ["input.firstName", "input.phone"]
    assert fields(company) == ["input.companyName", "input.shippingAddress.street1"]


async def test_the_organization_reports_every_bad_field(business):
    body = await business.staff.request(UPDATE_ORGANIZATION, input={"name": None, "timeZone": "Mars/Olympus"})
    both = await business.staff.request(UPDATE_ORGANIZATION, input={"name": " ", "timeZone": "Mars/Olympus",
                                                                    "email": "nope"})
    cleared = await business.staff.request(UPDATE_ORGANIZATION, input={"phone": "1" * 51, "timeZone": None})

    assert problems(body) == [("input.name", "name cannot be null."),
                              ("input.timeZone", "Unknown time zone: 'Mars/Olympus'.")]
    assert fields(both) == ["input.name", "input.email", "input.timeZone"]
    assert problems(cleared) == [("input.phone", "A phone number has at most 50 characters."),
                                 ("input.timeZone", "time_zone cannot be null.")]


async def test_variables_that_do_not_fit_their_type_are_each_reported_at_their_path(business):
    body = await business.staff.request(CREATE_INVOICE, input={
        "customerId": "x", "lineItems": [{"quantity": "1", "rate": "2"}, {"name": 3, "quantity": "1", "rate": "two"}]})

    assert fields(body) == ["input.lineItems[0].name", "input.lineItems[1].name", "input.lineItems[1].rate"]


async def test_values_written_in_the_query_are_reported_at_their_path_too(business):
    body = await business.staff.request("""mutation { createInvoice(input: {customerId: "x", lineItems: [
        {quantity: "1", rate: "2"}, {name: "Design", quantity: "1", rate: "2", colour: "red"}]}) { id } }""")

    assert fields(body) == ["input.lineItems[0].name", "input.lineItems[1].colour"]


async def test_a_payment_request_reports_every_bad_field(business, mailbox):
    customer = await business.customer()
    portal, _ = await business.portal_user(customer["id"], "payer@problems.example.com", mailbox)

    body = await portal.request(PAY, input={"invoiceIds": [], "paymentMethod": {"gatewayToken": "tok_visa"},
                                            "idempotencyKey": ""})

    assert fields(body) == ["input.idempotencyKey", "input.invoiceIds"]


async def test_problems_of_plain_arguments_name_the_argument(business):
    customer = await business.customer()
    project = await business.staff.data('mutation($c: ID!) { createProject(customerId: $c, name: "Site") { id } }',
                                        c=customer["id"])
    task = await business.staff.data('mutation($p: ID!) { addProjectTask(projectId: $p, name: "Build") { id } }',
                                     p=project["createProject"]["id"])

    body = await business.staff.request('mutation($t: ID!) { logTime(taskId: $t, date: "2026-01-05", hours: "25") '
                                        "{ id } }", t=task["addProjectTask"]["id"])

    assert problems(body) == [("hours", "Hours are more than 0 and at most 24 per entry.")]


async def test_a_review_reports_its_rating_and_its_comment_together(business, mailbox):
    customer = await business.customer()
    portal, _ = await business.portal_user(customer["id"], "reviewer@problems.example.com", mailbox)

    body = await portal.request(SUBMIT_REVIEW, rating=9, comment="c" * 6000)

    assert problems(body) == [("rating", "A rating is from 1 to 5."),
                              ("comment", "A review comment has at most 5,000 characters.")]
    assert (await business.staff.data(REVIEWS))["reviews"] == []


async def test_the_portal_settings_report_every_bad_field_and_change_nothing(business):
    body = await business.staff.request(UPDATE_SETTINGS, input={
        "portalName": "Not Valid!", "bannerMessage": "b" * 2001, "allowForwarding": None})

    assert problems(body) == [
        ("input.portalName", "A portal name is 3-63 lower-case letters, digits and hyphens."),
        ("input.bannerMessage", "A banner message has at most 2,000 characters."),
        ("input.allowForwarding", "allow_forwarding cannot be null."),
    ]
    assert (await business.staff.data(SETTINGS))["portalSettings"] == {"portalName": business.portal_name,
                                                                       "bannerMessage": None, "allowForwarding": True}


async def test_a_password_change_reports_the_wrong_current_and_the_short_new_password(business):
    body = await business.staff.request(CHANGE_PASSWORD, current="not-the-password", new="short")
    short_only = await business.staff.request(CHANGE_PASSWORD, current=OWNER_PASSWORD, new="short")

    assert problems(body) == [("currentPassword", "The current password is wrong."),
                              ("newPassword", "A password has at least 10 characters.")]
    assert problems(short_only) == [("newPassword", "A password has at least 10 characters.")]


async def test_a_short_password_for_an_invitation_names_its_argument(business):
    body = await business.staff.as_(None).request(ACCEPT_INVITE, token="t" * 43, password="short")

    assert problems(body) == [("password", "A password has at least 10 characters.")]


async def test_a_forwarded_document_reports_its_address_name_and_message_together(business, mailbox):
    customer = await business.customer()
    invoice = await business.invoice(customer["id"])
    portal, _ = await business.portal_user(customer["id"], "sender@problems.example.com", mailbox)

    body = await portal.request(FORWARD, id=invoice["id"], email="not an address", name=f"{LONG} {LONG}",
                                message="m" * 5001)
    long_first_name = await portal.request(FORWARD, id=invoice["id"], email="new@problems.example.com",
                                           name=LONG)

    assert fields(body) == ["email", "name", "name", "message"]
    assert problems(long_first_name) == [("name", "First name has at most 100 characters.")]
