"""Who may call each root field is declared on it, and its description says so in words made from it."""
import pytest

from portal.schema import Mutation, Query, Subscription
from portal.schema.permissions import PUBLIC, roles_of

# Root fields anyone may call, signed in or not. Adding one here is a decision, not an accident.
PUBLIC_FIELDS = {"viewer", "staff_login", "login", "accept_invite", "public_portal"}

ROOT_FIELDS = [field for root in (Query, Mutation, Subscription) for field in root.__strawberry_definition__.fields]

STAFF_ONLY = "{ reviews { id } }"
CONTACTS_ONLY = "{ myCustomer { id } }"
PROJECTS = "{ projects { id } }"
HIDE_PROJECTS = "mutation { updatePortalSettings(input: {showProjectsAndTimesheets: false}) { portalName } }"


@pytest.mark.parametrize("field", ROOT_FIELDS, ids=lambda field: field.python_name)
def test_every_root_field_says_who_may_call_it_in_words_made_from_its_permissions(field):
    assert field.description.startswith(f"{roles_of(field)}: ")
    assert field.description.count("only:") <= 1


@pytest.mark.parametrize("field", ROOT_FIELDS, ids=lambda field: field.python_name)
def test_only_the_sign_in_fields_are_public(field):
    assert (roles_of(field) == PUBLIC) == (field.python_name in PUBLIC_FIELDS)


async def test_staff_fields_refuse_contacts_and_strangers(business, mailbox):
    customer = await business.customer()
    portal, _ = await business.portal_user(customer["id"], "perm@acme.example.com", mailbox)

    assert await portal.error_code(STAFF_ONLY) == "FORBIDDEN"
    assert await portal.as_(None).error_code(STAFF_ONLY) == "UNAUTHENTICATED"
    assert await business.staff.error_code(CONTACTS_ONLY) == "FORBIDDEN"


async def test_a_switched_off_feature_refuses_contacts_but_not_staff(business, mailbox):
    customer = await business.customer()
    portal, _ = await business.portal_user(customer["id"], "feature@acme.example.com", mailbox)
    await business.staff.data(HIDE_PROJECTS)

    assert await portal.error_code(PROJECTS) == "FORBIDDEN"
    assert (await business.staff.data(PROJECTS))["projects"] == []
