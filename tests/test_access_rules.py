"""A contact person's portal access, alone: who is invited, who may accept, who is told rather than invited."""
import pytest

from portal.core.errors import Unauthenticated
from portal.models.access import accept_invitation, disable, has_access, mark_invited
from portal.models.customers import ContactPerson, PortalAccess


def contact(access: PortalAccess, password_hash: str | None = None) -> ContactPerson:
    return ContactPerson(id=1, organization_id=1, customer_id=1, first_name="Pat", last_name="Doe",
                         email="pat@example.com", portal_access=access, password_hash=password_hash)


@pytest.mark.parametrize(("before", "after"), [
    (PortalAccess.DISABLED, PortalAccess.INVITED),
    (PortalAccess.INVITED, PortalAccess.INVITED),
    (PortalAccess.ACTIVE, PortalAccess.ACTIVE),  # a fresh link never takes access away
])
def test_anyone_may_be_invited_again_and_an_active_person_stays_active(before, after):
    person = contact(before)

    mark_invited(person)

    assert person.portal_access == after


@pytest.mark.parametrize("before", [PortalAccess.INVITED, PortalAccess.ACTIVE])
def test_accepting_sets_the_password_and_activates(before):
    person = contact(before, password_hash="old")

    accept_invitation(person, "new")

    assert (person.portal_access, person.password_hash) == (PortalAccess.ACTIVE, "new")


def test_a_person_disabled_after_the_invitation_cannot_accept_it():
    person = contact(PortalAccess.DISABLED, password_hash=None)

    with pytest.raises(Unauthenticated) as refused:
        accept_invitation(person, "new")

    assert refused.value.message == "This invitation link is invalid or has expired."
    assert (person.portal_access, person.password_hash) == (PortalAccess.DISABLED, None)


@pytest.mark.parametrize("before", list(PortalAccess))
def test_disabling_works_from_any_state(before):
    person = contact(before)

    disable(person)

    assert person.portal_access == PortalAccess.DISABLED


@pytest.mark.parametrize(("access", "told"), [
    (PortalAccess.ACTIVE, True), (PortalAccess.INVITED, False), (PortalAccess.DISABLED, False)])
def test_only_an_active_person_is_told_rather_than_invited(access, told):
    assert has_access(contact(access)) is told
