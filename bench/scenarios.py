"""What the benchmark measures, each scenario a client's view of one feature."""
import asyncio
import json
import os
import time
import uuid

import httpx
from stats import summarize

CONCURRENCY = 10


async def graphql(client: httpx.AsyncClient, query: str, token: str | None = None, **variables) -> dict:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = await client.post("/graphql", json={"query": query, "variables": variables}, headers=headers)
    body = response.json()
    if body.get("errors"):
        raise RuntimeError(body["errors"])
    return body["data"]


async def sign_in(client) -> tuple[str, str]:
    staff = await graphql(client, 'mutation { staffLogin(email: "owner@northwind.example.com", '
                                  'password: "demo-owner-password") { token } }')
    contact = await graphql(client, 'mutation { login(portalName: "demo", email: "alice@acme.example.com", '
                                    'password: "demo-password") { token } }')
    return staff["staffLogin"]["token"], contact["login"]["token"]


async def timed_many(count: int, call, concurrency: int = CONCURRENCY) -> list[float]:
    samples, semaphore = [], asyncio.Semaphore(concurrency)

    async def one(index):
        async with semaphore:
            start = time.perf_counter()
            await call(index)
            samples.append(time.perf_counter() - start)

    await asyncio.gather(*(one(index) for index in range(count)))
    return samples


DASHBOARD = """{ dashboard { currency outstandingInvoices { count total } lastPayment { number }
  estimatesAwaitingApproval } }"""
INVOICES = """{ invoices(first: 20) { totalCount
  edges { node { number status total balanceDue lineItems { name amount } payments { number } } } } }"""
STATEMENT = """{ statement(from: "2020-01-01") { closingBalance lines { reference balance } } }"""


async def reads(base: str) -> dict:
    """Latency of one client at a time, then throughput with ten at once."""
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        _, token = await sign_in(client)
        results = {}
        for name, query in (("dashboard", DASHBOARD), ("invoices page", INVOICES), ("statement", STATEMENT)):
            results[name] = summarize(await timed_many(300, lambda _, q=query: graphql(client, q, token),
                                                       concurrency=1))
        start = time.perf_counter()
        loaded = await timed_many(1000, lambda _: graphql(client, DASHBOARD, token))
        results["dashboard, 10 clients"] = {**summarize(loaded),
                                            "per_second": round(len(loaded) / (time.perf_counter() - start))}
    return results


async def payments(base: str) -> dict:
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        staff, token = await sign_in(client)
        customer = (await graphql(client, "{ myCustomer { id } }", token))["myCustomer"]["id"]
        invoice_ids = []
        for _ in range(200):
            created = await graphql(client, """mutation($c: ID!) { createInvoice(send: true, input: {customerId: $c,
                lineItems: [{name: "Bench", quantity: "1", rate: "10"}]}) { id } }""", staff, c=customer)
            invoice_ids.append(created["createInvoice"]["id"])

        async def pay(index):
            await graphql(client, """mutation($input: PayInvoicesInput!) { payInvoices(input: $input) { status } }""",
                          token, input={"invoiceIds": [invoice_ids[index]],
                                        "paymentMethod": {"gatewayToken": "tok_visa"},
                                        "idempotencyKey": uuid.uuid4().hex})

        samples = await timed_many(len(invoice_ids), pay, concurrency=1)
    return {"payInvoices": summarize(samples)}


async def pdfs(base: str) -> dict:
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        _, token = await sign_in(client)
        page = await graphql(client, "{ invoices(first: 1) { edges { node { pdfUrl } } } }", token)
        url = page["invoices"]["edges"][0]["node"]["pdfUrl"]
        path = "/" + url.split("/", 3)[3]

        async def fetch(_):
            response = await client.get(path, headers={"Authorization": f"Bearer {token}"})
            response.raise_for_status()

        samples = await timed_many(30, fetch, concurrency=2)
    return {"invoice PDF": summarize(samples)}


SCENARIOS = [reads, payments, pdfs]


SUBSCRIBE = """subscription { portalActivity(kinds: [COMMENTED]) { cursor kind summary
  customer { displayName } subject { __typename ... on Invoice { number total } } } }"""


async def open_subscription(url: str, token: str):
    import websockets

    socket = await websockets.connect(url, subprotocols=["graphql-transport-ws"], max_queue=None, open_timeout=60)
    await socket.send(json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}))
    assert json.loads(await socket.recv())["type"] == "connection_ack"
    await socket.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIBE}}))
    return socket


async def next_event_time(socket) -> float:
    while True:
        message = json.loads(await socket.recv())
        if message["type"] == "next":
            return time.perf_counter()


async def activity(base: str, subscribers: int = int(os.environ.get("BENCH_SUBSCRIBERS", "1000")),
                   actions: int = 10) -> dict:
    """From a mutation's response to the event's arrival at every one of many open subscriptions."""
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        staff, token = await sign_in(client)
        invoice = (await graphql(client, "{ invoices(first: 1) { edges { node { id } } } }", token))
        invoice_id = invoice["invoices"]["edges"][0]["node"]["id"]
        url = base.replace("http", "ws") + "/graphql"
        sockets = []
        for start in range(0, subscribers, 50):
            sockets += await asyncio.gather(*(open_subscription(url, staff)
                                              for _ in range(start, min(start + 50, subscribers))))
        await asyncio.sleep(1)
        samples = []
        for index in range(actions):
            arrivals = asyncio.gather(*(next_event_time(socket) for socket in sockets))
            await graphql(client, """mutation($id: ID!, $b: String!) { addComment(subjectId: $id, body: $b) { id } }""",
                          token, id=invoice_id, b=f"Benchmark comment {index}")
            answered = time.perf_counter()
            samples += [max(0.0, arrived - answered) for arrived in await arrivals]
        await asyncio.gather(*(socket.close() for socket in sockets))
    return {"activity event": {**summarize(samples), "subscribers": subscribers}}


SCENARIOS.append(activity)
