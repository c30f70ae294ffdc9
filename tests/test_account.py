"""A contact person's own details and their company's."""
from helpers import activity_kinds

UPDATE_ME = """mutation($input: MyAccountInput!) { updateMyAccount(input: $input) { firstName lastName phone mobile
  email } }"""
UPDATE_COMPANY = """mutation($input: CompanyDetailsInput!) { updateCompanyDetails(input: $input) { companyName
  billingAddress { street1 city } shippingAddress { city } } }"""
TOGGLE_OFF = "mutation { updatePortalSettings(input: {allowCustomersToEditDetails: false}) { portalName } }"


async def test_a_contact_edits_their_own_details(business, mailbox):
    customer = await business.customer()
    portal, _ = await business.portal_user(customer["id"], "me@account.example.com", mailbox)

    updated = await portal.data(UPDATE_ME, input={"firstName": "Patricia", "mobile": "+1 555 0199"})

    assert updated["updateMyAccount"] == {"firstName": "Patricia", "lastName": "Doe", "phone": None,
                                          "mobile": "+1 555 0199", "email": "me@account.example.com"}
    assert await portal.error_code(UPDATE_ME, input={"firstName": " "}) == "BAD_USER_INPUT"


async def test_company_details_are_updated_and_the_owner_told(business, mailbox, app):
    customer = await business.customer()
    portal, _ = await business.portal_user(customer["id"], "co@account.example.com", mailbox)

    updated = await portal.data(UPDATE_COMPANY, input={"companyName": "Acme 2", "billingAddress": {
        "street1": "2 New Rd", "city": "Lisbon"}})

    assert updated["updateCompanyDetails"] == {"companyName": "Acme 2",
                                               "billingAddress": {"street1": "2 New Rd", "city": "Lisbon"},
                                               "shippingAddress": None}
    assert (await activity_kinds(app, business.organization_id))[-1] == "DETAILS_UPDATED"
    assert [m for m in await mailbox.to(business.owner_email) if "updated the details" in m["Subject"]]


async def test_editing_can_be_turned_off_but_passwords_can_always_change(business, mailbox):
    customer = await business.customer()
    portal, _ = await business.portal_user(customer["id"], "locked@account.example.com", mailbox)
    await business.staff.data(TOGGLE_OFF)

    assert await portal.error_code(UPDATE_ME, input={"firstName": "X"}) == "FORBIDDEN"
    assert await portal.error_code(UPDATE_COMPANY, input={"companyName": "X"}) == "FORBIDDEN"
    assert await portal.data("""mutation { changePassword(currentPassword: "contact-password-1",
                                newPassword: "another-password") }""")


async def test_staff_use_their_own_operations(business):
    assert await business.staff.error_code(UPDATE_ME, input={"firstName": "X"}) == "FORBIDDEN"
