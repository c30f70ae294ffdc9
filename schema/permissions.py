"""Who may call a root field, declared on the field; its description's first words are made from it.

A permission raises the domain error whose code the contract gives (UNAUTHENTICATED, FORBIDDEN)
and otherwise lets the field run. Visibility of single objects is not decided here but in the
`*_visible_to(principal)` queries of `models/`.
"""
from collections.abc import Iterable
from typing import Any

from strawberry.extensions.field_extension import FieldExtension
from strawberry.permission import BasePermission, PermissionExtension
from strawberry.types.field import StrawberryField

from portal.core.errors import Forbidden
from portal.models.auth import Principal
from portal.models.organizations import PORTAL_FEATURES
from portal.resolvers.context import Info

PUBLIC = "Public"


class RolePermission(BasePermission):
    """A permission that says in words whom it lets through, for the descriptions of the fields it guards."""

    role: str


class IsSignedIn(RolePermission):
    """Anyone signed in: staff or a contact person. Narrower roles say whom they admit and what they answer."""

    role = "Staff and contact persons"
    refusal = ""

    def admits(self, principal: Principal) -> bool:
        return True

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        if info.context.principal is None:
            raise info.context.not_signed_in()
        if not self.admits(info.context.principal):
            raise Forbidden(self.refusal)
        return True


class IsStaff(IsSignedIn):
    role = "Staff only"
    refusal = "Only the business's staff may do this."

    def admits(self, principal: Principal) -> bool:
        return principal.is_staff


class IsContactPerson(IsSignedIn):
    role = "Contact persons only"
    refusal = "Only a contact person signed in to the portal may do this."

    def admits(self, principal: Principal) -> bool:
        return principal.is_contact


class PortalAllows(RolePermission):
    """For contact persons, a feature the owner turns on or off in the portal settings; staff always pass.

    The context reads the settings once per operation; on a WebSocket, when a subscription starts and
    once per delivered event.
    """

    def __init__(self, feature: str) -> None:
        self.feature = feature
        self.role = f"where the portal allows {PORTAL_FEATURES[feature][0]}"

    async def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        await info.context.require_portal_allows(self.feature)
        return True


def only(*permissions: RolePermission) -> list[FieldExtension]:
    """The field extensions of a root field that these permissions guard, checked in order."""
    return [PermissionExtension(list(permissions), use_directives=False)]


def roles_of(field: StrawberryField) -> str:
    """The wording of who may call `field`, from its permission classes: "Staff only", "Public", …"""
    permissions = [permission for extension in field.extensions if isinstance(extension, PermissionExtension)
                   for permission in extension.permissions]
    if not permissions:
        return PUBLIC
    return ", ".join(_role(permission) for permission in permissions)


def _role(permission: BasePermission) -> str:
    if not isinstance(permission, RolePermission):
        raise TypeError(f"{type(permission).__name__} does not say whom it lets through: make it a RolePermission.")
    return permission.role


def describe_roles(fields: Iterable[StrawberryField]) -> None:
    """Begin each root field's description with who may call it, so that the docs cannot drift."""
    for field in fields:
        field.description = f"{roles_of(field)}: {_as_continuation(field.description or '')}"


def _as_continuation(sentence: str) -> str:
    """'Sign in …' and 'A customer's …' read on after a colon in lower case; 'EST-…', 'ACCEPTED' keep theirs."""
    first_word = sentence.split(" ", 1)[0]
    rest = first_word[1:]
    if first_word[:1].isupper() and (not rest or rest.islower()):
        return sentence[0].lower() + sentence[1:]
    return sentence
