"""Signing in: tokens and who they belong to."""
from datetime import datetime
from typing import Annotated

import strawberry

from portal.models.customers import ContactPerson as ContactPersonRow
from portal.models.organizations import StaffUser as StaffUserRow
from portal.resolvers import auth as resolve
from portal.resolvers.context import Info
from portal.schema.customers import ContactPerson
from portal.schema.organizations import StaffUser
from portal.schema.permissions import IsSignedIn, only

Viewer = Annotated[ContactPerson | StaffUser, strawberry.union("Viewer", description="Who a token belongs to.")]


def as_viewer(row: StaffUserRow | ContactPersonRow) -> ContactPerson | StaffUser:
    return StaffUser.from_model(row) if isinstance(row, StaffUserRow) else ContactPerson.from_model(row)


@strawberry.type(description="A bearer token for the Authorization header, and whose it is.")
class AuthPayload:
    token: str = strawberry.field(
        description="Send it as `Authorization: Bearer <token>`, or in the WebSocket `connection_init` payload.")
    expires_at: datetime = strawberry.field(
        description="When the token expires; signing out or losing portal access ends it sooner.")
    viewer: Viewer = strawberry.field(description="Who signed in: a staff member or a contact person.")

    @classmethod
    def from_signed_in(cls, signed_in: resolve.SignedIn) -> "AuthPayload":
        return cls(token=signed_in.token, expires_at=signed_in.expires_at, viewer=as_viewer(signed_in.person))


@strawberry.type
class Query:
    @strawberry.field(description="Who the bearer token belongs to; null without one. With a token that signs in "
                                  "nobody: null and an UNAUTHENTICATED error whose `reason` is MALFORMED, UNKNOWN "
                                  "or EXPIRED.")
    async def viewer(self, info: Info) -> Viewer | None:
        row = await resolve.viewer(info.context)
        return None if row is None else as_viewer(row)


Email = Annotated[str, strawberry.argument(description="The address the person signs in with.")]
Password = Annotated[str, strawberry.argument(description="Their password.")]
NewPassword = Annotated[str, strawberry.argument(
    description="The password to sign in with from now: at least 10 characters.")]


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Sign in as a member of the business's staff.")
    async def staff_login(self, info: Info, email: Email, password: Password) -> AuthPayload:
        return AuthPayload.from_signed_in(await resolve.staff_login(info.context, email=email, password=password))

    @strawberry.mutation(description="Sign in to a business's portal as a contact person with active access. "
                                     "When the email and password are those of contacts of several customers, "
                                     "the answer is BAD_USER_INPUT at `customerId`, listing those customers in "
                                     "`extensions.customers` (`id`, `displayName`): sign in again with one.")
    async def login(self, info: Info, portal_name: Annotated[str, strawberry.argument(
                        description="The portal's name, as in its address.")], email: Email,
                    password: Password, customer_id: Annotated[strawberry.ID | None, strawberry.argument(
                        description="The customer to sign in for, needed only when the email is a contact of "
                                    "several; a customer the email and password do not match is refused as a "
                                    "wrong password.")] = None) -> AuthPayload:
        signed_in = await resolve.login(info.context, portal_name=portal_name, email=email, password=password,
                                        customer_id=customer_id)
        return AuthPayload.from_signed_in(signed_in)

    @strawberry.mutation(description="The token arrives in the invitation email, "
                                     "as the `token` query parameter of its link.")
    async def accept_invite(self, info: Info, token: Annotated[str, strawberry.argument(
                                description="The `token` query parameter of the invitation link; it works once.")],
                            password: NewPassword) -> AuthPayload:
        return AuthPayload.from_signed_in(await resolve.accept_invite(info.context, token=token, password=password))

    @strawberry.mutation(extensions=only(IsSignedIn()), description="End the session of the bearer token.")
    async def logout(self, info: Info) -> bool:
        return await resolve.logout(info.context)

    @strawberry.mutation(extensions=only(IsSignedIn()),
                         description="Change the viewer's password; their other sessions end.")
    async def change_password(self, info: Info, current_password: Annotated[str, strawberry.argument(
                                  description="The password used to sign in now.")],
                              new_password: NewPassword) -> bool:
        return await resolve.change_password(info.context, current_password=current_password,
                                             new_password=new_password)
