"""Forwarding a document, alone: the address and message checked, a new recipient's name."""
import pytest

from portal.core.errors import BadUserInput
from portal.models.forwarding import MAX_MESSAGE, check_forward_request, split_name


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
