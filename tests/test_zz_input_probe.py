"""Temporary probe of the input helper (deleted after use)."""
import json
from test_hostile_input import *  # noqa: F403
from test_hostile_input import base_url, gql, contact_signed_in  # noqa

LONG = "x" * 20000

async def test_probe(business, mailbox, base_url):
    customer = await business.customer()
    invoice = await business.invoice(customer["id"])
    estimate = await business.estimate(customer["id"])
    project = (await business.staff.data(CREATE_PROJECT, c=customer["id"], n="P"))["createProject"]
    task = (await business.staff.data('mutation($p: ID!) { addProjectTask(projectId: $p, name: "T") { id } }', p=project["id"]))["addProjectTask"]
    portal, email = await contact_signed_in(business, mailbox, customer["id"])
    staff = business.staff
    cases = [
        (staff, 'mutation($t: ID!, $d: Date!, $h: Decimal!, $n: String) { logTime(taskId: $t, date: $d, hours: $h, notes: $n) { id } }', dict(t=task["id"], d="9999-12-31", h="24", n=LONG)),
        (staff, 'mutation($t: ID!, $d: Date!, $h: Decimal!, $n: String) { logTime(taskId: $t, date: $d, hours: $h, notes: $n) { id } }', dict(t=task["id"], d="0001-01-01", h="0.0001", n="x")),
        (staff, 'mutation($c: ID!, $n: String!, $d: String) { createProject(customerId: $c, name: $n, description: $d) { id } }', dict(c=customer["id"], n="x", d=LONG)),
        (staff, 'mutation($p: ID!, $n: String!) { addProjectTask(projectId: $p, name: $n) { id } }', dict(p=project["id"], n=LONG)),
        (staff, CREATE_INVOICE, dict(input={"customerId": customer["id"], "date": "0001-01-01", "dueDate": "0001-01-01", "lineItems": [{"name": "a", "description": LONG, "quantity": "1", "rate": "1"}]})),
        (staff, CREATE_INVOICE, dict(input={"customerId": customer["id"], "lineItems": [{"name": "a", "quantity": "-1", "rate": "1"}]})),
        (staff, CREATE_INVOICE, dict(input={"customerId": customer["id"], "lineItems": [{"name": "a", "quantity": "1", "rate": "1", "taxPercent": "99999999999"}]})),
        (staff, CREATE_INVOICE, dict(input={"customerId": customer["id"], "lineItems": [{"name": "a", "quantity": "0.00001", "rate": "1"}]})),
        (staff, CREATE_INVOICE, dict(input={"customerId": customer["id"], "lineItems": [{"name": "a", "quantity": "1" * 30, "rate": "1"}]})),
        (staff, CREATE_INVOICE, dict(input={"customerId": customer["id"], "lineItems": [{"name": "a", "quantity": "9999999999", "rate": "9999999999"}]})),
        (staff, CREATE_INVOICE, dict(input={"customerId": customer["id"], "lineItems": [{"name": "a", "quantity": "1", "rate": "1"}] * 5000})),
        (staff, RECORD_PAYMENT, dict(input={"invoiceId": invoice["id"], "amount": "0.001"})),
        (staff, RECORD_PAYMENT, dict(input={"invoiceId": invoice["id"], "amount": "1", "date": "9999-12-31", "reference": LONG})),
        (staff, RECORD_PAYMENT, dict(input={"invoiceId": invoice["id"], "amount": "-0", "date": "0001-01-01"})),
        (staff, "mutation($input: CustomerInput!) { createCustomer(input: $input) { id } }", dict(input={"displayName": "a", "currency": "XXXX"})),
        (staff, "mutation($input: CustomerInput!) { createCustomer(input: $input) { id } }", dict(input={"displayName": "a", "currency": "€€€"})),
        (staff, "mutation($input: CustomerInput!) { createCustomer(input: $input) { id } }", dict(input={"displayName": "a", "email": "a@" + "b" * 400 + ".com"})),
        (staff, "mutation($id: ID!, $input: ContactPersonInput!) { addContactPerson(customerId: $id, input: $input) { id } }", dict(id=customer["id"], input={"firstName": "a", "email": "a" * 300 + "@b.com"})),
        (staff, "mutation($id: ID!, $input: ContactPersonInput!) { addContactPerson(customerId: $id, input: $input) { id } }", dict(id=customer["id"], input={"firstName": "a", "email": "ｅ@ｂ.com"})),
        (staff, "mutation($b: String) { updatePortalSettings(input: {bannerMessage: $b}) { portalName } }", dict(b="x\u2028y")),
        (staff, "mutation($p: String) { updatePortalSettings(input: {portalName: $p}) { portalName } }", dict(p="abc\n")),
        (staff, "mutation($e: String) { updateOrganization(input: {email: $e}) { name } }", dict(e="a@b.c\n")),
        (staff, 'mutation($ids: [ID!]!) { requestReview(contactPersonIds: $ids) }', dict(ids=[])),
        (staff, 'query($f: Date, $t: Date, $c: ID) { statement(from: $f, to: $t, customerId: $c) { openingBalance } }', dict(f="0001-01-01", t="9999-12-31", c=customer["id"])),
        (staff, 'query($f: Date, $t: Date, $c: ID) { statement(from: $f, to: $t, customerId: $c) { openingBalance } }', dict(f=None, t="0001-01-01", c=customer["id"])),
        (staff, 'query($a: String, $f: Int) { invoices(first: $f, after: $a) { totalCount } }', dict(f=2**31 - 1, a=None)),
        (staff, 'query($a: String, $f: Int) { invoices(first: $f, after: $a) { totalCount } }', dict(f=-1, a=None)),
        (portal, 'mutation($id: ID!, $r: String) { declineEstimate(id: $id, reason: $r) { id } }', dict(id=estimate["id"], r=LONG)),
        (portal, ADD_COMMENT, dict(s=invoice["id"], b=LONG)),
        (portal, 'mutation($id: ID!, $e: String!, $n: String, $m: String) { forwardDocument(documentId: $id, email: $e, name: $n, message: $m) { id } }', dict(id=invoice["id"], e="x@y.example.com", n=LONG, m=LONG)),
        (portal, 'mutation($id: ID!, $e: String!, $n: String, $m: String) { forwardDocument(documentId: $id, email: $e, name: $n, message: $m) { id } }', dict(id=invoice["id"], e="x" * 400 + "@y.example.com", n="a", m="b")),
        (portal, 'mutation($r: Int!, $c: String) { submitReview(rating: $r, comment: $c) { id } }', dict(r=5, c=LONG)),
        (portal, 'mutation($r: Int!, $c: String) { submitReview(rating: $r, comment: $c) { id } }', dict(r=2**31 - 1, c="x")),
        (portal, 'mutation($input: MyAccountInput!) { updateMyAccount(input: $input) { id } }', dict(input={"firstName": LONG})),
        (portal, 'mutation($input: CompanyDetailsInput!) { updateCompanyDetails(input: $input) { id } }', dict(input={"companyName": LONG})),
        (portal, PAY, dict(input={"invoiceIds": [invoice["id"]], "paymentMethod": {"gatewayToken": LONG}, "idempotencyKey": "k"})),
        (portal, PAY, dict(input={"invoiceIds": [invoice["id"]], "paymentMethod": {"gatewayToken": "tok_visa"}, "idempotencyKey": LONG})),
        (staff.as_(None), LOGIN, dict(portal=LONG, email=LONG, password=LONG)),
        (staff.as_(None), 'mutation($t: String!, $p: String!) { acceptInvite(token: $t, password: $p) { token } }', dict(t=LONG, p=LONG)),
        (staff.as_(None), 'mutation($e: String!, $p: String!) { staffLogin(email: $e, password: $p) { token } }', dict(e="a@b\u2028.com", p="x")),
    ]
    bad = []
    for client, query, variables in cases:
        body = await client.request(query, **variables)
        for error in body.get("errors") or []:
            if error["extensions"]["code"] == "INTERNAL_SERVER_ERROR":
                bad.append((query[:60], {k: (str(v)[:60]) for k, v in variables.items()}))
    print("\nPROBE", json.dumps(bad, indent=1))
