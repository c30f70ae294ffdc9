"""node(id:): every node type loads itself, under the viewer's visibility; activity subjects load the same way."""
import base64
import uuid

import pytest
import strawberry
from conftest import StatementCounter
from factories import webhook_with_a_settled_delivery
from graphql import build_schema
from sqlalchemy import select

from portal.core.ids import from_global_id, to_global_id
from portal.models.activity import ActivityEvent
from portal.models.auth import Principal
from portal.models.customer_updates import CustomerUpdate
from portal.resolvers.activity import relations
from portal.resolvers.context import ConnectionContext
from portal.schema import PortalSchema, schema
from portal.schema.node import node_loaders
from portal.schema.nodes import Node

NODE = "query($id: ID!) { node(id: $id) { __typename id } }"
VIEWER = "{ viewer { ... on StaffUser { id } } }"
LATEST_EVENT = "{ activity(first: 1) { edges { node { id } } } }"
COMMENT = "mutation($s: ID!) { addComment(subjectId: $s, body: \"Looks good\") { id } }"
PROJECT = "mutation($c: ID!) { createProject(customerId: $c, name: \"Relaunch\") { id } }"
TASK = "mutation($p: ID!) { addProjectTask(projectId: $p, name: \"Design\", billable: true) { id } }"
LOG = "mutation($t: ID!) { logTime(taskId: $t, date: \"2026-01-05\", hours: \"2\") { id } }"
REVIEW = "mutation { submitReview(rating: 5) { id } }"
PAY = """mutation($input: PayInvoicesInput!) { payInvoices(input: $input) { status payment { id } } }"""
SAVED = "{ savedPaymentMethods { id } }"
HIDE_PROJECTS = "mutation { updatePortalSettings(input: {showProjectsAndTimesheets: false}) { portalName } }"

HIDDEN_FROM_THE_OWNER = {"SavedPaymentMethod"}  # a contact person's cards are theirs alone
HIDDEN_FROM_CONTACTS = {"StaffUser", "ActivityEvent", "WebhookEndpoint", "WebhookDelivery"}
PROJECT_MATTERS = ("Project", "ProjectTask", "TimeEntry", "ProjectComment", "ProjectUpdate")


def encoded(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def type_of(global_id: str) -> str:
    return from_global_id(global_id)[0]


def node_types_of_the_schema() -> set[str]:
    """The types implementing Node, read from the schema as clients see it."""
    printed = build_schema(schema.as_str())
    return {node_type.name for node_type in printed.get_possible_types(printed.get_type("Node"))}


async def latest_portal_update(app, customer_id: str) -> str:
    """The id of the customer's latest portal update: only subscriptions hand them out."""
    async with app.state.services.session_factory() as session:
        pk = await session.scalar(select(CustomerUpdate.id).where(
            CustomerUpdate.customer_id == from_global_id(customer_id)[1]).order_by(CustomerUpdate.id.desc()))
    return to_global_id("PortalUpdate", pk)


@pytest.fixture
async def every_node(app, business, mailbox) -> dict:
    """One object of every node type, of one customer whose contact person is signed in ("portal")."""
    customer = await business.customer()
    invoice = await business.invoice(customer["id"])
    paid = await business.invoice(customer["id"])
    estimate = await business.estimate(customer["id"])
    portal, contact = await business.portal_user(customer["id"], f"nodes@{business.portal_name}.example.com",
                                                 mailbox)
    payment = await portal.data(PAY, input={
        "invoiceIds": [paid["id"]], "paymentMethod": {"gatewayToken": "tok_visa"}, "savePaymentMethod": True,
        "idempotencyKey": uuid.uuid4().hex})
    comment = await portal.data(COMMENT, s=invoice["id"])
    project = (await business.staff.data(PROJECT, c=customer["id"]))["createProject"]
    task = (await business.staff.data(TASK, p=project["id"]))["addProjectTask"]
    entry = (await business.staff.data(LOG, t=task["id"]))["logTime"]
    project_comment = await portal.data(COMMENT, s=project["id"])
    review = await portal.data(REVIEW)
    ids = {
        "Organization": business.organization_id,
        "StaffUser": (await business.staff.data(VIEWER))["viewer"]["id"],
        "Customer": customer["id"],
        "ContactPerson": contact["id"],
        "Invoice": invoice["id"],
        "Estimate": estimate["id"],
        "Payment": payment["payInvoices"]["payment"]["id"],
        "SavedPaymentMethod": (await portal.data(SAVED))["savedPaymentMethods"][0]["id"],
        "Comment": comment["addComment"]["id"],
        "Project": project["id"],
        "ProjectTask": task["id"],
        "TimeEntry": entry["id"],
        "ProjectComment": project_comment["addComment"]["id"],
        "Review": review["submitReview"]["id"],
        "ActivityEvent": (await business.staff.data(LATEST_EVENT))["activity"]["edges"][0]["node"]["id"],
        "ProjectUpdate": await latest_portal_update(app, customer["id"]),  # the project comment's
    }
    webhook = await webhook_with_a_settled_delivery(app, business, portal)
    ids |= {"WebhookEndpoint": webhook["webhook_endpoint"], "WebhookDelivery": webhook["webhook_delivery"]}
    return {"ids": ids, "portal": portal, "customer": customer}


async def test_the_owner_gets_every_node_of_the_business(business, every_node):
    for name, object_id in every_node["ids"].items():
        if name in HIDDEN_FROM_THE_OWNER:
            assert await business.staff.error_code(NODE, id=object_id) == "NOT_FOUND", name
        else:
            node = (await business.staff.data(NODE, id=object_id))["node"]
            assert node == {"__typename": type_of(object_id), "id": object_id}, name


async def test_a_contact_person_gets_the_nodes_of_their_customer(every_node):
    portal = every_node["portal"]
    for name, object_id in every_node["ids"].items():
        if name in HIDDEN_FROM_CONTACTS:
            assert await portal.error_code(NODE, id=object_id) == "NOT_FOUND", name
        else:
            node = (await portal.data(NODE, id=object_id))["node"]
            assert node == {"__typename": type_of(object_id), "id": object_id}, name


async def test_every_node_type_of_the_schema_loads_through_node(business, every_node):
    """A new type implementing Node must load itself, and be added to `every_node` above."""
    node_types = node_types_of_the_schema()
    ids_by_type = {type_of(object_id): object_id for object_id in every_node["ids"].values()}

    assert set(node_loaders(schema)) == node_types
    assert node_types <= set(ids_by_type), f"no sample object of {node_types - set(ids_by_type)} in every_node"
    for name in node_types:
        viewer = every_node["portal"] if name in HIDDEN_FROM_THE_OWNER else business.staff
        node = (await viewer.data(NODE, id=ids_by_type[name]))["node"]
        assert node["__typename"] == name


def test_a_node_type_that_cannot_load_itself_stops_the_schema_build():
    @strawberry.type
    class Stray(Node):
        id: strawberry.ID

    @strawberry.type
    class Query:
        stray: Stray | None = None

    with pytest.raises(TypeError, match="Stray implements Node but cannot load itself"):
        PortalSchema(query=Query)


async def test_foreign_and_missing_ids_answer_alike(business, other_business, every_node, mailbox):
    stranger_customer = await business.customer("Stranger Ltd")
    stranger, _ = await business.portal_user(stranger_customer["id"],
                                             f"stranger@{business.portal_name}.example.com", mailbox)
    for name, object_id in every_node["ids"].items():
        missing_id = to_global_id(type_of(object_id), 2**31 - 1)
        for viewer in (other_business.staff, stranger):
            if name == "Organization" and viewer is stranger:
                continue  # their own organization
            foreign = await viewer.request(NODE, id=object_id)
            missing = await viewer.request(NODE, id=missing_id)

            assert foreign["errors"][0]["extensions"]["code"] == "NOT_FOUND", name
            assert foreign["errors"][0]["message"] == missing["errors"][0]["message"], name
            assert foreign["errors"][0]["extensions"] == missing["errors"][0]["extensions"], name
            assert foreign["data"] == missing["data"] == {"node": None}, name


async def test_not_found_names_the_type_in_words(business):
    for type_name, words in (("ProjectTask", "Project task"), ("SavedPaymentMethod", "Saved payment method"),
                             ("Invoice", "Invoice")):
        body = await business.staff.request(NODE, id=to_global_id(type_name, 2**31 - 1))
        assert body["errors"][0]["message"] == f"{words} not found."


async def test_an_id_naming_no_node_type_is_bad_user_input(business):
    for text in ("Nothing:1", "PageInfo:1", "Document:1", "Node:1", ":1", "invoice:1"):
        assert await business.staff.error_code(NODE, id=encoded(text)) == "BAD_USER_INPUT", text


async def test_hidden_projects_take_their_tasks_time_and_comments_along(business, every_node):
    portal, ids = every_node["portal"], every_node["ids"]
    await business.staff.data(HIDE_PROJECTS)

    for name in PROJECT_MATTERS:
        assert await portal.error_code(NODE, id=ids[name]) == "FORBIDDEN", name
        assert (await business.staff.data(NODE, id=ids[name]))["node"]["id"] == ids[name], name
    assert await portal.error_code(NODE, id=to_global_id("Project", 2**31 - 1)) == "NOT_FOUND"
    assert (await portal.data(NODE, id=ids["Comment"]))["node"]["id"] == ids["Comment"]


async def test_subscribers_of_one_organization_share_the_reads_of_a_delivered_event(app, business, every_node):
    services = app.state.services
    read_engine = services.read_session_factory.kw["bind"]  # live events are read with it (its own on SQLite)
    _, organization_id = from_global_id(business.organization_id)
    _, staff_user_id = from_global_id(every_node["ids"]["StaffUser"])
    _, event_id = from_global_id(every_node["ids"]["ActivityEvent"])
    async with services.session_factory() as session:
        event = await session.scalar(select(ActivityEvent).where(ActivityEvent.id == event_id))
    subscribers = [ConnectionContext(services=services, principal=Principal(
        organization_id=organization_id, session_id=session_id, staff_user_id=staff_user_id)) for session_id in (1, 2)]
    loaders = node_loaders(schema)

    with StatementCounter(read_engine) as first:
        subject = await relations(subscribers[0], event, loaders).subject(event)
        customer = await relations(subscribers[0], event, loaders).customer(event)
    with StatementCounter(read_engine) as second:
        same_subject = await relations(subscribers[1], event, loaders).subject(event)
        same_customer = await relations(subscribers[1], event, loaders).customer(event)

    assert first.count > 0
    assert second.count == 0
    assert (same_subject, same_customer) == (subject, customer)
    assert customer.id == every_node["customer"]["id"]
