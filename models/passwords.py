"""What a new password must be: long enough, not blank, not the email, not a common password.

Checked wherever a password is chosen: accepting an invitation, changing a password, and staff
passwords set by the CLI (PORTAL_OWNER_PASSWORD) or the demo. Only the list of common passwords
counts, not a strength score: a rule a person can read and satisfy.
"""
import functools

from zxcvbn.frequency_lists import FREQUENCY_LISTS  # type: ignore[import-untyped]

from portal.core.errors import BadUserInput

MIN_PASSWORD_LENGTH = 10


@functools.cache
def common_passwords() -> frozenset[str]:
    """zxcvbn's 30,000 most common passwords, lower-cased; read once, on first use."""
    return frozenset(password.lower() for password in FREQUENCY_LISTS["passwords"])


def check_password_rules(password: str) -> None:
    """The rules that need nothing but the password: run before any token or account is looked at."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise BadUserInput(f"A password has at least {MIN_PASSWORD_LENGTH} characters.")
    if not password.strip():
        raise BadUserInput("A password cannot be only spaces.")
    if password.strip().lower() in common_passwords():
        raise BadUserInput("This password is one of the most common ones; choose another.")


def check_not_the_email(password: str, email: str) -> None:
    folded, address = password.strip().casefold(), email.strip().casefold()
    if folded in (address, address.partition("@")[0]):
        raise BadUserInput("A password cannot be your email address or its part before the @.")


def check_new_password(password: str, email: str) -> None:
    """Every rule for a password chosen by the person with this email."""
    check_password_rules(password)
    check_not_the_email(password, email)
