"""Small factories that build test data through the public API, as a client would."""
import re
from dataclasses import dataclass
from datetime import date
from urllib.parse import parse_qs, urlsplit

from portal.seed import create_business

OWNER_PASSWORD = "owner-password-1"
CONTACT_PASSWORD = "contact-password-1"

STAFF_LOGIN = """mutation($email: String!, $password: String!) {
  staffLogin(email: $email, password: $password) { token expiresAt viewer { __typename ... on StaffUser { id email } } }
}"""
LOGIN = """mutation($portal: String!, $email: String!, $password: String!) {
  login(portalName: $portal, email: $email, password: $password) {
    token viewer { __typename ... on ContactPerson { id email portalAccess } } }
}"""
ACCEPT_INVITE = """mutation($token: String!, $password: String!) {
  acceptInvite(token: $token, password: $password) { token viewer { ... on ContactPerson { id portalAccess } } }
}"""
CREATE_CUSTOMER = """mutation($input: CustomerInput!) {
  createCustomer(input: $input) { id displayName currency }
}"""
ADD_CONTACT = """mutation($customerId: ID!, $input: ContactPersonInput!) {
  addContactPerson(customerId: $customerId, input: $input) { id email portalAccess avatarUrl }
}"""
ENABLE_PORTAL = """mutation($ids: [ID!]!) { enablePortalAccess(contactPersonIds: $ids) { id portalAccess } }"""
INVOICE_FIELDS = """id number status kind date dueDate currency subTotal taxTotal total amountPaid balanceDue
  paymentOptions lineItems { name quantity rate taxPercent amount }"""
CREATE_INVOICE = f"""mutation($input: InvoiceInput!, $send: Boolean) {{
  createInvoice(input: $input, send: $send) {{ {INVOICE_FIELDS} }}
}}"""
CREATE_ESTIMATE = """mutation($input: EstimateInput!, $send: Boolean) {
  createEstimate(input: $input, send: $send) { id number status total }
}"""
UPDATE_ESTIMATE = """mutation($id: ID!, $input: EstimateInput!) {
  updateEstimate(id: $id, input: $input) { id number status total }
}"""
RECORD_PAYMENT = """mutation($input: RecordPaymentInput!) {
  recordPayment(input: $input) { id number amount method allocations { amount invoice { id status } } }
}"""

TWO_LINES = [
    {"name": "Design", "quantity": "3", "rate": "120.50", "taxPercent": "7.5"},
    {"name": "Hosting", "quantity": "1", "rate": "19.99", "taxPercent": "7.5"},
]


def invite_token(message) -> str:
    text = message.get_body(("plain",)).get_content()
    link = re.search(r"https?://\S+token=\S+", text).group(0)
    return parse_qs(urlsplit(link).query)["token"][0]


@dataclass
class Business:
    portal_name: str
    owner_email: str
    organization_id: str
    staff: object  # GraphQLClient signed in as the owner

    async def customer(self, name: str = "Acme Corp", **fields) -> dict:
        data = await self.staff.data(CREATE_CUSTOMER, input={"displayName": name, **fields})
        return data["createCustomer"]

    async def contact(self, customer_id: str, email: str, first_name: str = "Pat") -> dict:
        data = await self.staff.data(ADD_CONTACT, customerId=customer_id,
                                     input={"firstName": first_name, "lastName": "Doe", "email": email})
        return data["addContactPerson"]

    async def invoice(self, customer_id: str, lines=None, send: bool = True, **fields) -> dict:
        data = await self.staff.data(CREATE_INVOICE, send=send,
                                     input={"customerId": customer_id, "lineItems": lines or TWO_LINES, **fields})
        return data["createInvoice"]

    async def estimate(self, customer_id: str, lines=None, send: bool = True, **fields) -> dict:
        """A sent estimate whose expiry date is already past is made as an owner would: sent, then given that
        date (createEstimate(send: true) refuses an estimate that sendEstimate would refuse)."""
        given = {"customerId": customer_id, "lineItems": lines or TWO_LINES, **fields}
        expiry = fields.get("expiryDate")
        if send and expiry is not None and date.fromisoformat(expiry) < date.today():
            created = await self.estimate(customer_id, lines, send=True,
                                          **{key: value for key, value in fields.items() if key != "expiryDate"})
            data = await self.staff.data(UPDATE_ESTIMATE, id=created["id"], input=given)
            return data["updateEstimate"]
        data = await self.staff.data(CREATE_ESTIMATE, send=send, input=given)
        return data["createEstimate"]

    async def portal_user(self, customer_id: str, email: str, mailbox) -> tuple[object, dict]:
        """A contact person invited, accepted and signed in: their client and their contact record."""
        contact = await self.contact(customer_id, email)
        await self.staff.data(ENABLE_PORTAL, ids=[contact["id"]])
        token = invite_token((await mailbox.to(email))[-1])
        accepted = await self.staff.as_(None).data(ACCEPT_INVITE, token=token, password=CONTACT_PASSWORD)
        return self.staff.as_(accepted["acceptInvite"]["token"]), contact


async def new_business(settings, gql, portal_name: str, owner_email: str) -> Business:
    organization_id = await create_business(settings, name=f"Business {portal_name}", portal_name=portal_name,
                                            owner_name="Olivia Owner", owner_email=owner_email,
                                            password=OWNER_PASSWORD)
    data = await gql.data(STAFF_LOGIN, email=owner_email, password=OWNER_PASSWORD)
    return Business(portal_name=portal_name, owner_email=owner_email, organization_id=organization_id,
                    staff=gql.as_(data["staffLogin"]["token"]))


WEBHOOK_INPUT = {"url": "https://hooks.example.com/portal", "kinds": ["REVIEW_SUBMITTED"]}


async def webhook_with_a_settled_delivery(app, business: Business, portal) -> dict[str, str]:
    """An endpoint with one delivery, tried already and given up at once (no retries): nothing is due later,
    so no attempt writes while a test compares the database before and after."""
    create = "mutation($i: WebhookEndpointInput!) { createWebhookEndpoint(input: $i) { endpoint { id } } }"
    endpoint = (await business.staff.data(create, i=WEBHOOK_INPUT))["createWebhookEndpoint"]["endpoint"]["id"]
    services = app.state.services
    retries = services.settings.webhook_retry_seconds
    services.settings.webhook_retry_seconds = []
    try:
        await portal.data("mutation { submitReview(rating: 4) { id } }")
        await services.webhook_sender.drain()
    finally:
        services.settings.webhook_retry_seconds = retries
    deliveries = ("query($id: ID!) { node(id: $id) { ... on WebhookEndpoint { deliveries { edges { node { id status "
                  "} } } } } }")
    [edge] = (await business.staff.data(deliveries, id=endpoint))["node"]["deliveries"]["edges"]
    assert edge["node"]["status"] != "PENDING"
    return {"webhook_endpoint": endpoint, "webhook_delivery": edge["node"]["id"]}
