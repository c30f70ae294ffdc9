"""Who may call each root field is declared on it, and its description says so in words made from it."""
import pytest

from portal.core.errors import Forbidden
from portal.core.ids import from_global_id
from portal.models.auth import Principal
from portal.resolvers.context import ConnectionContext, event_scope
from portal.resolvers.loaders import Loaders
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


async def test_on_a_websocket_a_feature_switch_is_read_when_asked_never_once_per_connection(app, business, mailbox):
    customer = await business.customer()
    _, contact = await business.portal_user(customer["id"], "socket@acme.example.com", mailbox)
    services = app.state.services
    principal = Principal(organization_id=from_global_id(business.organization_id)[1], session_id=1,
                          contact_person_id=from_global_id(contact["id"])[1],
                          customer_id=from_global_id(customer["id"])[1])
    connection = ConnectionContext(services=services, principal=principal)

    await connection.require_portal_allows("show_projects_and_timesheets")  # as a subscription starts
    await business.staff.data(HIDE_PROJECTS)  # the owner switches it off while the socket stays open

    with pytest.raises(Forbidden):
        await connection.require_portal_allows("show_projects_and_timesheets")
    async with event_scope(services.read_session_factory, lambda session: Loaders(session, principal)):
        with pytest.raises(Forbidden):  # and for each event delivered
            await connection.require_portal_allows("show_projects_and_timesheets")
