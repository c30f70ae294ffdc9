"""Sign-in: invitations, sessions, passwords and revocation."""

from factories import (
    ACCEPT_INVITE,
    CONTACT_PASSWORD,
    ENABLE_PORTAL,
    LOGIN,
    OWNER_PASSWORD,
    STAFF_LOGIN,
    invite_token,
)

VIEWER = "{ viewer { __typename ... on ContactPerson { email portalAccess } ... on StaffUser { email } } }"
LOGOUT = "mutation { logout }"
CHANGE_PASSWORD = """mutation($current: String!, $new: String!) {
  changePassword(currentPassword: $current, newPassword: $new) }"""
DISABLE = "mutation($ids: [ID!]!) { disablePortalAccess(contactPersonIds: $ids) { id portalAccess } }"


async def signs_in_nobody(client) -> bool:
    """The token's session has ended: viewer is null, and UNAUTHENTICATED tells its sender why."""
    body = await client.request(VIEWER)
    return body["data"] == {"viewer": None} and \
        body["errors"][0]["extensions"] == {"code": "UNAUTHENTICATED", "reason": "EXPIRED"}


async def test_a_contact_is_invited_accepts_and_signs_in(business, mailbox, gql):
    customer = await business.customer()
    contact = await business.contact(customer["id"], "pat@client.example.com")

    enabled = await business.staff.data(ENABLE_PORTAL, ids=[contact["id"]])
    assert enabled["enablePortalAccess"][0]["portalAccess"] == "INVITED"
    [invitation] = await mailbox.to("pat@client.example.com")
    assert "http://portal.test/portal/" in invitation.get_body(("plain",)).get_content()
    assert invitation.get_body(("html",)) is not None

    accepted = await gql.data(ACCEPT_INVITE, token=invite_token(invitation), password=CONTACT_PASSWORD)
    assert accepted["acceptInvite"]["viewer"]["portalAccess"] == "ACTIVE"

    login = await gql.data(LOGIN, portal=business.portal_name, email="Pat@Client.example.com",
                           password=CONTACT_PASSWORD)
    viewer = await gql.as_(login["login"]["token"]).data(VIEWER)
    assert viewer["viewer"] == {"__typename": "ContactPerson", "email": "pat@client.example.com",
                                "portalAccess": "ACTIVE"}


async def test_an_invitation_works_once(business, mailbox, gql):
    customer = await business.customer()
    contact = await business.contact(customer["id"], "once@client.example.com")
    await business.staff.data(ENABLE_PORTAL, ids=[contact["id"]])
    token = invite_token((await mailbox.to("once@client.example.com"))[-1])

    await gql.data(ACCEPT_INVITE, token=token, password=CONTACT_PASSWORD)

    assert await gql.error_code(ACCEPT_INVITE, token=token, password=CONTACT_PASSWORD) == "UNAUTHENTICATED"


async def test_re_enabling_kills_the_old_invitation(business, mailbox, gql):
    customer = await business.customer()
    contact = await business.contact(customer["id"], "twice@client.example.com")
    await business.staff.data(ENABLE_PORTAL, ids=[contact["id"]])
    old = invite_token((await mailbox.to("twice@client.example.com"))[-1])
    await business.staff.data(ENABLE_PORTAL, ids=[contact["id"]])
    new = invite_token((await mailbox.to("twice@client.example.com"))[-1])

    assert await gql.error_code(ACCEPT_INVITE, token=old, password=CONTACT_PASSWORD) == "UNAUTHENTICATED"
    await gql.data(ACCEPT_INVITE, token=new, password=CONTACT_PASSWORD)


async def test_a_short_password_is_refused_and_the_token_still_works(business, mailbox, gql):
    customer = await business.customer()
    contact = await business.contact(customer["id"], "short@client.example.com")
    await business.staff.data(ENABLE_PORTAL, ids=[contact["id"]])
    token = invite_token((await mailbox.to("short@client.example.com"))[-1])

    assert await gql.error_code(ACCEPT_INVITE, token=token, password="123456789") == "BAD_USER_INPUT"
    await gql.data(ACCEPT_INVITE, token=token, password=CONTACT_PASSWORD)


async def test_wrong_email_and_wrong_password_look_the_same(business, gql):
    wrong_password = await gql.request(STAFF_LOGIN, email=business.owner_email, password="not-the-password")
    wrong_email = await gql.request(STAFF_LOGIN, email="nobody@nowhere.example.com", password=OWNER_PASSWORD)

    assert wrong_password["errors"][0]["message"] == wrong_email["errors"][0]["message"]
    assert wrong_password["errors"][0]["extensions"] == wrong_email["errors"][0]["extensions"] == {
        "code": "UNAUTHENTICATED"}


async def test_an_invited_contact_cannot_log_in_yet(business, gql):
    customer = await business.customer()
    contact = await business.contact(customer["id"], "invited@client.example.com")
    await business.staff.data(ENABLE_PORTAL, ids=[contact["id"]])

    code = await gql.error_code(LOGIN, portal=business.portal_name, email="invited@client.example.com",
                                password=CONTACT_PASSWORD)
    assert code == "UNAUTHENTICATED"


async def test_logout_revokes_the_token(business, gql):
    login = await gql.data(STAFF_LOGIN, email=business.owner_email, password=OWNER_PASSWORD)
    staff = gql.as_(login["staffLogin"]["token"])

    assert await staff.data(LOGOUT) == {"logout": True}

    assert await signs_in_nobody(staff)
    assert await staff.error_code("{ organization { id } }") == "UNAUTHENTICATED"


async def test_changing_the_password_ends_the_other_sessions(business, mailbox, gql):
    customer = await business.customer()
    portal, _ = await business.portal_user(customer["id"], "changer@client.example.com", mailbox)
    second = gql.as_((await gql.data(LOGIN, portal=business.portal_name, email="changer@client.example.com",
                                     password=CONTACT_PASSWORD))["login"]["token"])

    assert await portal.error_code(CHANGE_PASSWORD, current="wrong-password", new="new-password-1") == \
        "BAD_USER_INPUT"
    assert await portal.data(CHANGE_PASSWORD, current=CONTACT_PASSWORD, new="new-password-1")

    assert await signs_in_nobody(second)
    assert (await portal.data(VIEWER))["viewer"]["email"] == "changer@client.example.com"
    await gql.data(LOGIN, portal=business.portal_name, email="changer@client.example.com", password="new-password-1")


async def test_disabling_access_revokes_sessions_at_once(business, mailbox, gql):
    customer = await business.customer()
    portal, contact = await business.portal_user(customer["id"], "gone@client.example.com", mailbox)

    disabled = await business.staff.data(DISABLE, ids=[contact["id"]])

    assert disabled["disablePortalAccess"][0]["portalAccess"] == "DISABLED"
    assert await signs_in_nobody(portal)
    code = await gql.error_code(LOGIN, portal=business.portal_name, email="gone@client.example.com",
                                password=CONTACT_PASSWORD)
    assert code == "UNAUTHENTICATED"


async def test_staff_operations_need_staff(business, mailbox, gql):
    customer = await business.customer()
    portal, _ = await business.portal_user(customer["id"], "nosy@client.example.com", mailbox)
    staff_only = "mutation { createCustomer(input: {displayName: \"X\"}) { id } }"

    assert await portal.error_code(staff_only) == "FORBIDDEN"
    assert await gql.error_code(staff_only) == "UNAUTHENTICATED"
    assert await portal.error_code("{ customers { totalCount } }") == "FORBIDDEN"


async def test_a_wrong_email_costs_the_same_argon2_work_as_a_wrong_password(business, gql, monkeypatch):
    """Structure, not time: both paths verify once, against hashes of the same argon2 parameters."""
    from portal.models import auth

    verified: list[str] = []

    class RecordingHasher:
        def verify(self, hash_: str, password: str) -> bool:
            verified.append(hash_)
            return real_hasher.verify(hash_, password)

    real_hasher = auth._hasher
    monkeypatch.setattr(auth, "_hasher", RecordingHasher())

    await gql.request(STAFF_LOGIN, email=business.owner_email, password="not-the-password")
    await gql.request(STAFF_LOGIN, email="nobody@nowhere.example.com", password="not-the-password")

    known, unknown = verified
    assert known != unknown
    assert parameters(known) == parameters(unknown)


def parameters(argon2_hash: str) -> str:
    """'$argon2id$v=19$m=65536,t=3,p=4$salt$hash' → its algorithm, version and cost."""
    return "$".join(argon2_hash.split("$")[:4])


async def test_password_guessing_is_rate_limited(business, gql):
    from portal.models.throttle import PER_PAIR

    for _ in range(PER_PAIR):
        assert await gql.error_code(STAFF_LOGIN, email=business.owner_email, password="guess-guess") == \
            "UNAUTHENTICATED"

    assert await gql.error_code(STAFF_LOGIN, email=business.owner_email, password=OWNER_PASSWORD) == "RATE_LIMITED"
    assert await gql.error_code(LOGIN, portal=business.portal_name, email=business.owner_email,
                                password="x") == "UNAUTHENTICATED"  # another account is not slowed
