"""Schema fuzzing: documents generated from the printed schema (hypothesis-graphql), sent to a real uvicorn as
each role — anonymous, a contact person, a staff owner — must answer without a server error (HTTP 5xx) and
with every error masked: each carries an `extensions.code` the contract lists, never INTERNAL_SERVER_ERROR
(that means something unexpected happened), and no answer shows a stack trace.

Scalars come from strategies of ours, so that documents pass validation and reach the resolvers: ids of the
scenario (own and another organization's) and malformed ones, decimal and date strings, right and wrong; a third
of the documents pass their arguments as variables, some of them JSON of another type or texts too long for a
document. After an operation that may end the fuzzer's own session (logout, changePassword, disabling access) —
or any answer UNAUTHENTICATED — the session is checked, and the role signs in afresh if it ended. Each role
signs in from its own loopback address, so that the fuzzer's failed sign-ins count against no one else (the
throttle counts per client address).

Every problem is collected (not raised at once, so the run keeps its budget and reports them all), then listed.
"""
import asyncio
import dataclasses
import os
import re
import socket
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import GraphQLClient, Mailbox, unique
from factories import CONTACT_PASSWORD, LOGIN, OWNER_PASSWORD, STAFF_LOGIN, Business, new_business
from graphql import (
    FieldNode,
    OperationDefinitionNode,
    build_schema,
    get_named_type,
    parse,
    print_ast,
    value_from_ast_untyped,
)
from graphql.language import ArgumentNode, NameNode, VariableDefinitionNode, VariableNode, parse_type
from helpers import count_try
from hypothesis import HealthCheck, given, seed
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis_graphql import Mode, mutations, nodes, queries
from live import uvicorn_http

from portal.core.ids import MAX_PK, to_global_id
from portal.schema import schema

CONTRACT = Path(__file__).parent.parent / "contract" / "portal.graphql"
CODES = set(re.findall(r"[A-Z_]{4,}", re.search(r"extensions\.code, one of:(.*?)\. Anything else",
                                                 CONTRACT.read_text(), re.S).group(1)))
SCHEMA = schema.as_str()
PRINTED = build_schema(SCHEMA)
# CI runs the same operations every time; PORTAL_FUZZ_SEED=<n> PORTAL_FUZZ_SCALE=<x> explores other ones, longer.
SEED = os.environ.get("PORTAL_FUZZ_SEED")
SCALE = float(os.environ.get("PORTAL_FUZZ_SCALE", "1"))
OPERATIONS_PER_ROLE = {role: round(count * SCALE) for role, count in
                       {"anonymous": 150, "contact": 350, "owner": 350}.items()}
SETTINGS = hypothesis_settings(derandomize=SEED is None, database=None, deadline=None,
                               suppress_health_check=list(HealthCheck))
# Fields after which the role signs in again: they may end the session the fuzzer uses.
SESSION_ENDING = {"logout", "changePassword", "disablePortalAccess", "acceptInvite", "updatePortalSettings"}
ADDRESSES = {"anonymous": "127.0.0.2", "contact": "127.0.0.3", "owner": "127.0.0.4"}

# ---------------------------------------------------------------- scalars that reach the resolvers

GARBAGE_IDS = ["", " ", "%%%", "null", "1", "-1", "SW52b2ljZTox=", "SW52b2ljZTox\n\nACTION REQUIRED",
               "aW52b2ljZTox", "SW52b2ljZTowMQ", "SW52b2ljZTotMQ", "SW52b2ljZTo5OTk5OTk5OTk5OTk5OTk5OTk5",
               "\x00", "Tm90aGluZzox", "a" * 300]
GARBAGE_DECIMALS = ["1e999999999", "1E+1", "NaN", "Infinity", "-0", "0.001", "99999999999999999999.99", "1,5",
                    "", " 1", "١٢", "1" * 400, "-1", "0", "\x00", "5.5"]
GARBAGE_DATES = ["9999-12-31", "0001-01-01", "2026-02-30", "2026-1-5", "20260105", "", "\x00", "2026-01-05T00:00:00"]
GARBAGE_DATETIMES = ["9999-12-31T23:59:59Z", "2026-01-05", "2026-01-05T00:00:00", "0001-01-01T00:00:00+14:00", ""]


def decimals() -> st.SearchStrategy[str]:
    exact = st.decimals(allow_nan=False, allow_infinity=False, min_value=Decimal("-1e16"), max_value=Decimal("1e16"))
    return st.one_of(exact.map(lambda number: format(number, "f")), st.sampled_from(GARBAGE_DECIMALS),
                     st.integers(-10**6, 10**6).map(str))


HOSTILE_STRINGS = ["\x00", "a\x00b", "Relaunch\x00", "\u2028", "Pat\u2028Bcc: x@evil.example.com", "\r\nBcc: x",
                   "x" * 300, "x" * 20_000, "\ud7ff\ufffd\U0001f600", "Europe/Berlin", "Mars/Olympus_Mons" * 20,
                   "owner@ｎorthwind.example.com", "pat@example.com", "tok_visa", "btok_us_verified",
                   "tok_chargeDeclined", "https://hooks.example.com/x", "http://127.0.0.1:1/x", "file:///etc/passwd",
                   "          ", "<script>alert(1)</script>", "{{ 7*7 }}", "' OR 1=1 --", "%s%s%n", "\\", "A"]


def strings() -> st.SearchStrategy[str]:
    """Text of every kind (NUL, separators, astral planes), hostile strings, and values a resolver accepts."""
    return st.one_of(st.text(max_size=40), st.text(st.characters(codec="utf-8"), max_size=10),
                     st.sampled_from(HOSTILE_STRINGS), st.emails().map(str.lower))


def custom_scalars(own_ids: list[str], other_ids: list[str]) -> dict[str, st.SearchStrategy]:
    """Own ids most of the time (so that resolvers run), others' ids, made-up and malformed ones."""
    moment = datetime(2026, 1, 1, tzinfo=UTC)
    return {
        "ID": st.one_of(st.sampled_from(own_ids), st.sampled_from(own_ids), st.sampled_from(own_ids),
                        st.sampled_from(other_ids), st.sampled_from(GARBAGE_IDS),
                        st.builds(to_global_id, st.sampled_from(["Invoice", "Customer", "Estimate", "Project"]),
                                  st.integers(1, MAX_PK))).map(nodes.String),
        "String": strings().map(nodes.String),
        "Decimal": decimals().map(nodes.String),
        "Date": st.one_of(st.dates(date(1, 1, 1), date(9999, 12, 31)).map(date.isoformat),
                          st.dates(date(2025, 1, 1), date(2027, 12, 31)).map(date.isoformat),
                          st.sampled_from(GARBAGE_DATES)).map(nodes.String),
        "DateTime": st.one_of(st.timedeltas(timedelta(days=-4000), timedelta(days=4000)).map(
            lambda delta: (moment + delta).isoformat().replace("+00:00", "Z")),
            st.sampled_from(GARBAGE_DATETIMES)).map(nodes.String),
    }


# ---------------------------------------------------------------- the scenario, behind a real uvicorn


@dataclass
class Role:
    name: str
    http: httpx.AsyncClient
    sign_in: Any  # a coroutine function answering a fresh token (None: anonymous)
    token: str | None = None
    operations: int = 0
    with_data: int = 0  # operations answered some data: they got past validation into the resolvers
    sign_ins: int = 0


@dataclass
class Fuzzing:
    loop: asyncio.AbstractEventLoop
    backend: str
    roles: dict[str, Role]
    ids: dict[str, list[str]]  # by role: the ids of its own organization
    problems: dict[tuple, str] = field(default_factory=dict)

    def run(self, coroutine) -> Any:
        return self.loop.run_until_complete(coroutine)


VIEWER = "{ viewer { __typename } }"
PROJECT = 'mutation($c: ID!) { createProject(customerId: $c, name: "Relaunch") { id } }'
TASK = 'mutation($p: ID!) { addProjectTask(projectId: $p, name: "Design") { id } }'


async def business_ids(business: Business, mailbox: Mailbox, email: str) -> tuple[list[str], str]:
    """A customer with an invoice, an estimate, a project and a signed-up contact person: their ids, and the
    contact person's email."""
    customer = (await business.customer("Fuzz Ltd"))["id"]
    invoice = (await business.invoice(customer))["id"]
    draft = (await business.invoice(customer, send=False))["id"]
    estimate = (await business.estimate(customer))["id"]
    project = (await business.staff.data(PROJECT, c=customer))["createProject"]["id"]
    task = (await business.staff.data(TASK, p=project))["addProjectTask"]["id"]
    _, contact = await business.portal_user(customer, email, mailbox)
    return [business.organization_id, customer, invoice, draft, estimate, project, task, contact["id"]], email


async def signed_in(http: httpx.AsyncClient, document: str, variables: dict, field_name: str) -> str:
    response = await http.post("/graphql", json={"query": document, "variables": variables})
    body = response.json()
    assert "errors" not in body, body
    return body["data"][field_name]["token"]


def bindable(address: str) -> str | None:
    """The loopback address, where the system has it (Linux has all of 127/8); else the default one."""
    with socket.socket() as probe:
        try:
            probe.bind((address, 0))
        except OSError:
            return None
    return address


@pytest.fixture(scope="module")
async def fuzzing(settings, app, client) -> Fuzzing:
    gql = GraphQLClient(client)
    mailbox = Mailbox(settings.mail_dir, app.state.services.mail_sender)
    # The contact person fuzzes in one organization, the owner in another: neither disturbs the other's session.
    name_x, name_y = unique("fuzzx"), unique("fuzzy")
    business_x = await new_business(settings, gql, name_x, f"owner@{name_x}.example.com")
    business_y = await new_business(settings, gql, name_y, f"owner@{name_y}.example.com")
    ids_x, contact_email = await business_ids(business_x, mailbox, f"pat@{name_x}.example.com")
    ids_y, _ = await business_ids(business_y, mailbox, f"pat@{name_y}.example.com")
    async with uvicorn_http(app) as base:

        def http_from(role: str) -> httpx.AsyncClient:
            transport = httpx.AsyncHTTPTransport(local_address=bindable(ADDRESSES[role]))
            return httpx.AsyncClient(transport=transport, base_url=base, timeout=30)

        async with http_from("anonymous") as anonymous, http_from("contact") as contact, \
                http_from("owner") as owner:
            roles = {
                "anonymous": Role("anonymous", anonymous, None),
                "contact": Role("contact", contact, lambda: signed_in(
                    contact, LOGIN, {"portal": name_x, "email": contact_email, "password": CONTACT_PASSWORD},
                    "login")),
                "owner": Role("owner", owner, lambda: signed_in(
                    owner, STAFF_LOGIN, {"email": business_y.owner_email, "password": OWNER_PASSWORD},
                    "staffLogin")),
            }
            backend = settings.database_url.split("+")[0].split(":")[0]
            yield Fuzzing(loop=asyncio.get_running_loop(), backend=backend, roles=roles,
                          ids={"anonymous": ids_x + ids_y, "contact": ids_x, "owner": ids_y})


# ---------------------------------------------------------------- one operation


def root_fields(document: str) -> list[str]:
    definitions = [node for node in parse(document).definitions if isinstance(node, OperationDefinitionNode)]
    return [selection.name.value for definition in definitions for selection in definition.selection_set.selections
            if hasattr(selection, "name")]


def problems_of(response: httpx.Response) -> list[str]:
    """What is wrong with an answer: a server error, an error without a contract code, a stack trace."""
    if response.status_code >= 500:
        return [f"HTTP {response.status_code}: {response.text[:300]}"]
    problems = ["a stack trace in the answer"] if "Traceback" in response.text else []
    try:
        body = response.json()
    except ValueError:
        return [*problems, f"HTTP {response.status_code}, not JSON: {response.text[:200]}"]
    for error in (body.get("errors") or []) if isinstance(body, dict) else []:
        code = (error.get("extensions") or {}).get("code")
        if code not in CODES:
            problems.append(f"{code or 'no code'}: {error.get('message')} at {error.get('path')}")
    return problems


def answered_data(response: httpx.Response) -> bool:
    try:
        data = response.json().get("data")
    except (ValueError, AttributeError):
        return False
    return isinstance(data, dict) and any(value is not None for value in data.values())


def unauthenticated(response: httpx.Response) -> bool:
    try:
        errors = response.json().get("errors") or []
    except (ValueError, AttributeError):
        return False
    return any((error.get("extensions") or {}).get("code") == "UNAUTHENTICATED" for error in errors)


async def send(fuzzing: Fuzzing, role: Role, document: str, variables: dict) -> None:
    if role.sign_in is not None and role.token is None:
        role.token, role.sign_ins = await role.sign_in(), role.sign_ins + 1
    headers = {"Authorization": f"Bearer {role.token}"} if role.token else {}
    response = await role.http.post("/graphql", json={"query": document, "variables": variables}, headers=headers)
    role.operations += 1
    role.with_data += answered_data(response)
    fields = root_fields(document)
    for problem in problems_of(response):
        shown = {name: value if len(repr(value)) < 200 else f"{repr(value)[:60]}… ({len(repr(value))} characters)"
                 for name, value in variables.items()}
        fuzzing.problems.setdefault((role.name, tuple(fields), problem[:120]), f"{document[:1500]}\n    {shown}")
    if role.sign_in is not None and (SESSION_ENDING & set(fields) or unauthenticated(response)) \
            and not await still_signed_in(role):
        role.token = None  # a fresh session for the next operation


async def still_signed_in(role: Role) -> bool:
    response = await role.http.post("/graphql", json={"query": VIEWER},
                                    headers={"Authorization": f"Bearer {role.token}"})
    return (response.json().get("data") or {}).get("viewer") is not None


def report(fuzzing: Fuzzing, role: str) -> str:
    found = [(fields, problem, document) for (name, fields, problem), document in fuzzing.problems.items()
             if name == role]
    return "\n".join(f"- {', '.join(fields)}: {problem}\n    {document}" for fields, problem, document in found)


AUDIENCES = {"anonymous": ("Public",), "contact": ("Public", "Contact persons only", "Staff and contact persons"),
             "owner": ("Public", "Staff only", "Staff and contact persons")}


def fields_for(root, role: str) -> list[str]:
    """The root fields the role may call, as each field's description says first ("Staff only: …")."""
    return [name for name, root_field in root.fields.items()
            if (root_field.description or "").startswith(AUDIENCES[role])]


def documents(role: str, scalars: dict) -> st.SearchStrategy[str]:
    """Mostly operations the role may call, also any operation, and a few invalid documents (literals only)."""
    printed = PRINTED
    focused = [strategy(SCHEMA, fields=fields, custom_scalars=scalars)
               for strategy, root in ((queries, printed.query_type), (mutations, printed.mutation_type))
               if (fields := fields_for(root, role))]
    every = [queries(SCHEMA, custom_scalars=scalars), mutations(SCHEMA, custom_scalars=scalars)]
    invalid = st.one_of(queries(SCHEMA, custom_scalars=scalars, mode=Mode.NEGATIVE),
                        mutations(SCHEMA, custom_scalars=scalars, mode=Mode.NEGATIVE))
    return st.one_of(*focused, *focused, *every, invalid)


# JSON that variables may carry instead of what the type asks: another JSON type, deep or long values.
JSON_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False),
                         st.text(max_size=20))
JSON_VALUES = st.recursive(JSON_SCALARS, lambda children: st.lists(children, max_size=3)
                           | st.dictionaries(st.text(max_size=8), children, max_size=3), max_leaves=8)
LONG_TEXTS = st.sampled_from(["x" * 60_000, "%_" * 30_000, "\u2028" * 20_000, "9" * 60_000])


def hoisted(document: str, draw) -> tuple[str, dict]:
    """The document with each argument of its root fields passed as a variable: mostly the generated value, also
    JSON of another type, or a text too long for a document but not for a variable."""
    tree = parse(document)
    operation = next(node for node in tree.definitions if isinstance(node, OperationDefinitionNode))
    root = PRINTED.mutation_type if operation.operation.value == "mutation" else PRINTED.query_type
    definitions, variables, selections = [], {}, []
    for selection in operation.selection_set.selections:
        if not isinstance(selection, FieldNode) or selection.name.value not in root.fields:
            selections.append(selection)
            continue
        arguments = []
        for argument in selection.arguments or ():
            name = f"v{len(variables)}"
            variable = VariableNode(name=NameNode(value=name))
            argument_type = root.fields[selection.name.value].args[argument.name.value].type
            generated = st.just(value_from_ast_untyped(argument.value))
            variables[name] = draw(st.one_of(generated, LONG_TEXTS) if get_named_type(argument_type).name == "String"
                                   else st.one_of(generated, generated, JSON_VALUES, LONG_TEXTS))
            definitions.append(VariableDefinitionNode(variable=variable, type=parse_type(str(argument_type))))
            arguments.append(ArgumentNode(name=argument.name, value=variable))
        selections.append(dataclasses.replace(selection, arguments=tuple(arguments)))
    selection_set = dataclasses.replace(operation.selection_set, selections=tuple(selections))
    operation = dataclasses.replace(operation, variable_definitions=tuple(definitions), selection_set=selection_set)
    return print_ast(dataclasses.replace(tree, definitions=(operation,))), variables


@st.composite
def requests(draw, role: str, scalars: dict) -> tuple[str, dict]:
    """A generated document: as it is (literals) two times in three, else with its arguments as variables."""
    document = draw(documents(role, scalars))
    if draw(st.integers(0, 2)) or OperationDefinitionNode not in {type(node) for node in parse(document).definitions}:
        return document, {}
    return hoisted(document, draw)


def test_every_root_field_says_who_may_call_it():
    printed = PRINTED
    for root in (printed.query_type, printed.mutation_type):
        silent = [name for name, root_field in root.fields.items()
                  if not any((root_field.description or "").startswith(AUDIENCES[role]) for role in AUDIENCES)]
        assert silent == [], f"{root.name}: start the description with who may call it (Public, Staff only, …)"


@pytest.mark.parametrize("role", list(OPERATIONS_PER_ROLE))
def test_generated_operations_answer_without_server_errors_and_masked(role, fuzzing):
    fuzz_role = fuzzing.roles[role]
    own = fuzzing.ids[role]
    scalars = custom_scalars(own, [i for i in fuzzing.ids["anonymous"] if i not in own] or own)

    @hypothesis_settings(SETTINGS, max_examples=OPERATIONS_PER_ROLE[role])
    @given(requests(role, scalars))
    def operations(request):
        fuzzing.run(send(fuzzing, fuzz_role, *request))

    if SEED is not None:
        operations = seed(int(SEED))(operations)

    before, before_with_data, before_sign_ins = fuzz_role.operations, fuzz_role.with_data, fuzz_role.sign_ins
    try:
        operations()
    finally:
        count_try(f"fuzzing operations as {role}", fuzzing.backend, fuzz_role.operations - before)
        count_try(f"fuzzing operations as {role}, answered with data", fuzzing.backend,
                  fuzz_role.with_data - before_with_data)
        count_try(f"fuzzing sign-ins as {role} (the first, then after a session ended)", fuzzing.backend,
                  fuzz_role.sign_ins - before_sign_ins)
    assert report(fuzzing, role) == "", f"{role}: unmasked errors or server errors:\n{report(fuzzing, role)}"
