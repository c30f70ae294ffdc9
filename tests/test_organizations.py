"""The organization's profile and portal settings."""

SETTINGS = """{ portalSettings { portalName portalUrl bannerMessage notifyOwnerOnActivity allowForwarding
  notifyCustomersOnStaffComments showProjectsAndTimesheets allowCustomersToEditDetails } }"""
UPDATE_SETTINGS = """mutation($input: PortalSettingsInput!) { updatePortalSettings(input: $input) {
  portalName portalUrl bannerMessage allowForwarding } }"""
UPDATE_ORG = """mutation($input: OrganizationInput!) { updateOrganization(input: $input) {
  name timeZone phone address { city } } }"""


async def test_portal_settings_have_the_portal_url(business):
    settings = (await business.staff.data(SETTINGS))["portalSettings"]

    assert settings["portalUrl"] == f"http://portal.test/portal/{business.portal_name}"
    assert settings["notifyOwnerOnActivity"] is True


async def test_portal_settings_change_only_what_is_sent(business):
    changed = await business.staff.data(UPDATE_SETTINGS, input={"bannerMessage": "Welcome!",
                                                                "allowForwarding": False})

    assert changed["updatePortalSettings"]["bannerMessage"] == "Welcome!"
    assert changed["updatePortalSettings"]["allowForwarding"] is False
    settings = (await business.staff.data(SETTINGS))["portalSettings"]
    assert settings["showProjectsAndTimesheets"] is True


async def test_portal_names_are_checked(business, other_business):
    assert await business.staff.error_code(UPDATE_SETTINGS, input={"portalName": "Not Valid!"}) == "BAD_USER_INPUT"
    assert await business.staff.error_code(UPDATE_SETTINGS, input={"portalName": other_business.portal_name}) == \
        "CONFLICT"


async def test_the_profile_and_time_zone(business):
    updated = await business.staff.data(UPDATE_ORG, input={"name": "Renamed", "timeZone": "Pacific/Auckland",
                                                           "phone": "+64 9 555", "address": {"city": "Auckland"}})

    assert updated["updateOrganization"] == {"name": "Renamed", "timeZone": "Pacific/Auckland",
                                             "phone": "+64 9 555", "address": {"city": "Auckland"}}
    assert await business.staff.error_code(UPDATE_ORG, input={"timeZone": "Mars/Olympus"}) == "BAD_USER_INPUT"
