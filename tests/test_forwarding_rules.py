"""Forwarding a document, alone: the address and message checked, a new recipient's name, what is sent."""
import pytest

from portal.core.errors import BadUserInput
from portal.models.customers import ContactPerson, PortalAccess
from portal.models.forwarding import MAX_MESSAGE, Delivery, check_forward_request, delivery_to, split_name


def test_the_address_is_normalized_and_a_message_may_be_absent():
    assert check_forward_request("  Accounts@Fwd.Example.com ", None) == "accounts@fwd.example.com"


def test_a_message_has_at_most_five_thousand_characters():
    assert check_forward_request("a@example.com", "x" * MAX_MESSAGE) == "a@example.com"

    with pytest.raises(BadUserInput) as refused:
        check_forward_request("a@example.com", "x" * (MAX_MESSAGE + 1))

    assert refused.value.message == "A message has at most 5,000 characters."


def test_a_bad_address_is_refused_before_the_message_is_looked_at():
    with pytest.raises(BadUserInput) as refused:
        check_forward_request("not an address", "x" * (MAX_MESSAGE + 1))

    assert refused.value.message.startswith("Not a valid email address")


@pytest.mark.parametrize(("name", "expected"), [
    (None, ("ann.accounts", None)),
    ("   ", ("ann.accounts", None)),
    ("Ann", ("Ann", None)),
    ("  Ann   Accounts ", ("Ann", "Accounts")),
    ("Ann Accounts Payable", ("Ann", "Accounts Payable")),
])
def test_a_new_recipient_is_named_from_the_name_given_or_the_address(name, expected):
    assert split_name(name, "ann.accounts@example.com") == expected


@pytest.mark.parametrize(("access", "added_now", "expected"), [
    (PortalAccess.ACTIVE, False, Delivery.NOTICE),
    (PortalAccess.INVITED, False, Delivery.INVITATION),
    (PortalAccess.DISABLED, True, Delivery.INVITATION),  # a new contact person starts DISABLED
    (PortalAccess.DISABLED, False, Delivery.NOTHING),  # disabled, or never invited, by staff: their choice stands
])
def test_what_a_recipient_is_sent(access, added_now, expected):
    recipient = ContactPerson(organization_id=1, customer_id=1, first_name="Ann", email="a@x.example.com",
                              portal_access=access)

    assert delivery_to(recipient, added_now=added_now) == expected
