"""The client recipes of docs/clients.md, as scripts in clients/, run with Node against a real server.

The server is `portal serve` on a database seeded as `portal demo` seeds it. These tests run once, not per
backend: on PostgreSQL when it is among the test backends, else on SQLite.
"""
import asyncio
import json
import os
import re
import shutil
from pathlib import Path

import pytest
from conftest import BACKENDS, database_of_its_own
from live import HttpGraphQL, portal_serving

from portal.core.settings import Settings
from portal.demo import CONTACT_PASSWORD, OWNER_EMAIL, OWNER_PASSWORD, PORTAL_NAME, seed_demo
from portal.migrations import upgrade

ROOT = Path(__file__).parent.parent
CLIENTS = ROOT / "clients"
DOCS = ROOT / "docs" / "clients.md"
NODE_BIN = CLIENTS / "node_modules" / ".bin"

LOGIN = """mutation($portal: String!, $email: String!, $password: String!) {
  login(portalName: $portal, email: $email, password: $password) { token } }"""
STAFF_LOGIN = """mutation($email: String!, $password: String!) {
  staffLogin(email: $email, password: $password) { token } }"""
INVOICES = "{ invoices(first: 100) { edges { node { id number } } } }"
COMMENT = "mutation($id: ID!, $body: String!) { addComment(subjectId: $id, body: $body) { id } }"
ACTIVITY = "query($after: String) { activity(after: $after, first: 50) { edges { node { cursor } } } }"


async def run(*command: str, env: dict | None = None, seconds: float = 120) -> str:
    """Run a command in clients/; its output (stdout and stderr) if it succeeds."""
    process = await asyncio.create_subprocess_exec(
        *command, cwd=CLIENTS, env={**os.environ, **(env or {})},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    try:
        output, _ = await asyncio.wait_for(process.communicate(), seconds)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    assert process.returncode == 0, f"{' '.join(command)} failed:\n{output.decode()}"
    return output.decode()


def json_lines(output: str) -> list[dict]:
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


@pytest.fixture(scope="module")
async def node_modules():
    if shutil.which("node") is None or shutil.which("npm") is None:
        if os.environ.get("CI"):  # .ci/run sets it: there, a recipe not run is a failure
            pytest.fail("node and npm are not on PATH: the client recipes of docs/clients.md cannot run")
        pytest.skip("node and npm are not on PATH: the client recipes of docs/clients.md are not run")
    if not (CLIENTS / "node_modules").is_dir():
        await run("npm", "ci", "--no-audit", "--no-fund", seconds=600)
        (CLIENTS / "node_modules" / ".installed").touch()  # the Makefile's stamp


@pytest.fixture(scope="module")
async def demo_database(tmp_path_factory):
    """A fresh database with the demo business in it."""
    folder = tmp_path_factory.mktemp("clients-db")
    backend = "postgresql" if "postgresql" in BACKENDS else "sqlite"
    async with database_of_its_own(backend, folder, "portal_clients") as url:
        await _seed(url, folder)
        yield url


async def _seed(url: str, folder: Path) -> None:
    await asyncio.to_thread(upgrade, url)
    await seed_demo(Settings(database_url=url, mail_dir=str(folder / "mail")))


@pytest.fixture(scope="module")
async def demo_servers(demo_database, tmp_path_factory):
    """Two servers on the demo database: the one the clients talk to, and another that acts while it restarts."""
    log_dir = tmp_path_factory.mktemp("clients-server")
    environment = {"PORTAL_DATABASE_URL": demo_database, "PORTAL_MAIL_DIR": str(log_dir / "mail")}
    async with portal_serving(environment, environment, log_dir=log_dir) as servers:
        yield servers


@pytest.fixture(scope="module")
def demo_server(demo_servers):
    return demo_servers[0]


@pytest.fixture(scope="module")
async def generated(node_modules, tmp_path_factory) -> str:
    """clients/src/gql/ generated from `portal schema`, as the docs say; the text of its graphql.ts."""
    schema_file = tmp_path_factory.mktemp("clients-schema") / "schema.graphql"
    portal = await asyncio.create_subprocess_exec(str(ROOT / ".venv" / "bin" / "portal"), "schema",
                                                  stdout=asyncio.subprocess.PIPE)
    schema_file.write_bytes((await portal.communicate())[0])
    await run(str(NODE_BIN / "graphql-codegen"), "--config", "codegen.ts", env={"PORTAL_SCHEMA": str(schema_file)})
    return (CLIENTS / "src" / "gql" / "graphql.ts").read_text()


async def contact_invoices(server) -> tuple[HttpGraphQL, list[dict]]:
    """The demo contact signed in, and the invoices she sees."""
    login = await HttpGraphQL(server.base).data(LOGIN, portal=PORTAL_NAME, email="alice@acme.example.com",
                                                 password=CONTACT_PASSWORD)
    alice = HttpGraphQL(server.base, login["login"]["token"])
    return alice, [edge["node"] for edge in (await alice.data(INVOICES))["invoices"]["edges"]]


def pages_of_two(numbers: list[str]) -> list[list[str]]:
    """What a list merged page after page shows: the first 2, then 4, ... then all."""
    return [numbers[:end] for end in range(2, len(numbers) + 2, 2)]


def test_the_docs_show_the_scripts_as_they_are_run():
    blocks = re.findall(r"```ts\n// clients/(\S+)\n(.*?)```", DOCS.read_text(), flags=re.DOTALL)

    assert {path for path, _ in blocks} == {"codegen.ts", "src/operations.ts", "src/urql.ts", "src/apollo.ts",
                                            "src/activity.ts"}
    for path, code in blocks:
        assert code in (CLIENTS / path).read_text(), f"docs/clients.md shows clients/{path} otherwise:\n{code}"
    assert "](docs/clients.md)" in (ROOT / "README.md").read_text()


async def test_codegen_types_the_scalars_as_strings_from_the_schema_or_introspection(generated, demo_server):
    invoices_type = re.search(r"export type InvoicesQuery = (.*);", generated).group(1)
    activity_type = re.search(r"export type PortalActivitySubscription = (.*);", generated).group(1)

    await run(str(NODE_BIN / "graphql-codegen"), "--config", "codegen.ts",
              env={"PORTAL_SCHEMA": f"{demo_server.base}/graphql"})
    from_introspection = (CLIENTS / "src" / "gql" / "graphql.ts").read_text()
    await run(str(NODE_BIN / "tsc"), "--noEmit", "--strict")

    assert "dueDate: string, total: string, balanceDue: string" in invoices_type
    assert "occurredAt: string" in activity_type
    assert from_introspection == generated


@pytest.mark.parametrize(("script", "query_method"), [("src/urql.ts", "GET"), ("src/apollo.ts", "POST")])
async def test_the_client_signs_in_and_pages_invoices_merged_by_its_relay_helper(generated, demo_server, script,
                                                                                  query_method):
    _, invoices = await contact_invoices(demo_server)
    logged = demo_server.log.stat().st_size

    output = await run(str(NODE_BIN / "tsx"), script, env={"PORTAL_URL": f"{demo_server.base}/graphql"}, seconds=60)

    assert len(invoices) >= 5
    assert [line["numbers"] for line in json_lines(output)] == pages_of_two([node["number"] for node in invoices])
    requests = re.findall(r"portal\.access: (GET|POST) /graphql ", demo_server.log.read_text()[logged:])
    assert requests.count(query_method) >= 3  # one request per page


class ScriptLines:
    """A Node script running in the background, read one JSON line at a time."""

    def __init__(self, process) -> None:
        self.process = process
        self.seen: list[dict] = []

    async def until(self, wanted, seconds: float = 30) -> dict:
        while True:
            raw = await asyncio.wait_for(self.process.stdout.readline(), seconds)
            assert raw, f"the script ended; it printed {self.seen}"
            if raw.startswith(b"{"):
                self.seen.append(json.loads(raw))
                if wanted(self.seen[-1]):
                    return self.seen[-1]


def comment_event(body: str):
    return lambda line: (line.get("event") or {}).get("comment") == {"body": body}


async def test_graphql_ws_resumes_from_the_last_cursor_across_a_server_restart(generated, demo_servers):
    server, other = demo_servers
    alice, invoices = await contact_invoices(server)
    staff_login = await HttpGraphQL(server.base).data(STAFF_LOGIN, email=OWNER_EMAIL, password=OWNER_PASSWORD)
    owner = HttpGraphQL(server.base, staff_login["staffLogin"]["token"])
    alice_elsewhere = HttpGraphQL(other.base, alice.token)
    invoice_id = invoices[0]["id"]
    await alice.data(COMMENT, id=invoice_id, body="before the script")
    process = await asyncio.create_subprocess_exec(
        str(NODE_BIN / "tsx"), "src/activity.ts", cwd=CLIENTS, stdout=asyncio.subprocess.PIPE,
        env={**os.environ, "PORTAL_URL": f"{server.base}/graphql", "PORTAL_EVENTS": "4"})
    script = ScriptLines(process)
    try:
        start = (await script.until(lambda line: "after" in line))["after"]
        await alice.data(COMMENT, id=invoice_id, body="1")
        await script.until(comment_event("1"))

        await server.stop()
        await script.until(lambda line: line.get("closed") == 1012)
        server.start()
        # While it starts again, the other server takes actions.
        await alice_elsewhere.data(COMMENT, id=invoice_id, body="2")
        await alice_elsewhere.data(COMMENT, id=invoice_id, body="3")
        await server.ready()
        await alice.data(COMMENT, id=invoice_id, body="4")
        await script.until(comment_event("4"))
        await asyncio.wait_for(process.wait(), 10)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()

    events = [line["event"] for line in script.seen if "event" in line]
    stored = (await owner.data(ACTIVITY, after=start))["activity"]["edges"]
    restart = script.seen.index({"closed": 1012})
    assert [event["comment"]["body"] for event in events] == ["1", "2", "3", "4"]
    assert [event["cursor"] for event in events] == [edge["node"]["cursor"] for edge in stored]
    assert {"connected": True} in script.seen[restart:script.seen.index({"event": events[1]})]
    assert process.returncode == 0
