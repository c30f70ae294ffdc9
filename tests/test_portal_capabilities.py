"""What a contact person's portal allows (`myPortal`), and what a sign-in page may show (`publicPortal`)."""
MY_PORTAL = """{ myPortal { bannerMessage allowForwarding showProjectsAndTimesheets allowCustomersToEditDetails
  paymentMethods } }"""
PUBLIC_PORTAL = "query($name: String!) { publicPortal(portalName: $name) { portalName name bannerMessage } }"
SETTINGS = """mutation($input: PortalSettingsInput!) { updatePortalSettings(input: $input) { portalName } }"""
ACH = "mutation($id: ID!, $on: Boolean!) { setAchEnabled(customerId: $id, enabled: $on) { achEnabled } }"
RENAME = "mutation { updateOrganization(input: {name: \"Northwind Studio\"}) { name } }"


async def test_a_contact_person_learns_what_their_portal_allows(business, mailbox):
    customer = await business.customer()
    portal, _ = await business.portal_user(customer["id"], "caps@acme.example.com", mailbox)
    by_default = (await portal.data(MY_PORTAL))["myPortal"]

    await business.staff.data(SETTINGS, input={"bannerMessage": "Closed on Friday", "allowForwarding": False,
                                               "showProjectsAndTimesheets": False})
    await business.staff.data(ACH, id=customer["id"], on=True)
    changed = (await portal.data(MY_PORTAL))["myPortal"]

    assert by_default == {"bannerMessage": None, "allowForwarding": True, "showProjectsAndTimesheets": True,
                          "allowCustomersToEditDetails": True, "paymentMethods": ["CARD"]}
    assert changed == {"bannerMessage": "Closed on Friday", "allowForwarding": False,
                       "showProjectsAndTimesheets": False, "allowCustomersToEditDetails": True,
                       "paymentMethods": ["CARD", "BANK_ACCOUNT"]}


async def test_each_customer_sees_its_own_payment_methods(business, mailbox):
    with_ach, without = await business.customer("Ach Co"), await business.customer("Card Co")
    await business.staff.data(ACH, id=with_ach["id"], on=True)
    ach_portal, _ = await business.portal_user(with_ach["id"], "ach@ach.example.com", mailbox)
    card_portal, _ = await business.portal_user(without["id"], "card@card.example.com", mailbox)

    assert (await ach_portal.data(MY_PORTAL))["myPortal"]["paymentMethods"] == ["CARD", "BANK_ACCOUNT"]
    assert (await card_portal.data(MY_PORTAL))["myPortal"]["paymentMethods"] == ["CARD"]


async def test_my_portal_is_for_contact_persons_only(business, gql):
    assert await business.staff.error_code(MY_PORTAL) == "FORBIDDEN"
    assert await gql.error_code(MY_PORTAL) == "UNAUTHENTICATED"


async def test_anyone_may_see_whose_portal_a_name_is(business, gql):
    await business.staff.data(SETTINGS, input={"bannerMessage": "Welcome back"})
    await business.staff.data(RENAME)

    found = (await gql.data(PUBLIC_PORTAL, name=business.portal_name))["publicPortal"]
    missing = (await gql.data(PUBLIC_PORTAL, name=f"{business.portal_name}-none"))["publicPortal"]
    signed_in = (await business.staff.data(PUBLIC_PORTAL, name=business.portal_name))["publicPortal"]

    assert found == signed_in == {"portalName": business.portal_name, "name": "Northwind Studio",
                                  "bannerMessage": "Welcome back"}
    assert missing is None
    assert (await gql.data(PUBLIC_PORTAL, name=""))["publicPortal"] is None
