"""Projects, tasks and timesheets, and what the portal shows of them."""
CREATE = """mutation($c: ID!) { createProject(customerId: $c, name: "Relaunch", description: "New site") { id } }"""
ADD_TASK = """mutation($p: ID!, $n: String!, $b: Boolean) {
  addProjectTask(projectId: $p, name: $n, billable: $b) { id } }"""
LOG = """mutation($t: ID!, $h: Decimal!, $billed: Boolean) { logTime(taskId: $t, date: "2026-01-05", hours: $h,
  billed: $billed) { id hours status task { name } } }"""
PROJECTS = """{ projects { name tasks { name billable loggedHours billedHours unbilledHours }
  timesheets { hours status task { name } } comments { body } } }"""


async def a_project(business, customer_id):
    project = (await business.staff.data(CREATE, c=customer_id))["createProject"]
    design = (await business.staff.data(ADD_TASK, p=project["id"], n="Design", b=True))["addProjectTask"]
    internal = (await business.staff.data(ADD_TASK, p=project["id"], n="Internal", b=False))["addProjectTask"]
    await business.staff.data(LOG, t=design["id"], h="2.5", billed=True)
    await business.staff.data(LOG, t=design["id"], h="1.25", billed=False)
    await business.staff.data(LOG, t=internal["id"], h="3", billed=False)
    return project


async def test_the_portal_shows_billable_tasks_and_their_hours(business, mailbox):
    customer = await business.customer()
    project = await a_project(business, customer["id"])
    portal, _ = await business.portal_user(customer["id"], "pm@projects.example.com", mailbox)
    await portal.data('mutation($p: ID!) { addComment(subjectId: $p, body: "Looks good") { id } }', p=project["id"])

    [seen] = (await portal.data(PROJECTS))["projects"]

    assert seen["tasks"] == [{"name": "Design", "billable": True, "loggedHours": "3.75", "billedHours": "2.50",
                              "unbilledHours": "1.25"}]
    assert [(entry["hours"], entry["status"]) for entry in seen["timesheets"]] == [("2.50", "BILLED"),
                                                                                    ("1.25", "UNBILLED")]
    assert seen["comments"] == [{"body": "Looks good"}]
    staff_view = (await business.staff.data(PROJECTS))["projects"]
    assert len(staff_view[0]["tasks"]) == 2


async def test_projects_can_be_hidden_from_the_portal(business, mailbox):
    customer = await business.customer()
    project = await a_project(business, customer["id"])
    portal, _ = await business.portal_user(customer["id"], "hidden@projects.example.com", mailbox)
    await business.staff.data("mutation { updatePortalSettings(input: {showProjectsAndTimesheets: false}) "
                              "{ portalName } }")

    assert await portal.error_code(PROJECTS) == "FORBIDDEN"
    assert await portal.error_code('mutation($p: ID!) { addComment(subjectId: $p, body: "x") { id } }',
                                   p=project["id"]) == "FORBIDDEN"


async def test_hours_are_checked(business):
    customer = await business.customer()
    project = (await business.staff.data(CREATE, c=customer["id"]))["createProject"]
    task = (await business.staff.data(ADD_TASK, p=project["id"], n="T", b=True))["addProjectTask"]

    for hours in ("0", "-1", "24.5"):
        assert await business.staff.error_code(LOG, t=task["id"], h=hours) == "BAD_USER_INPUT"
