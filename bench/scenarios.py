"""What the benchmark measures, each scenario a client's view of one feature."""
import asyncio
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
                          token, input={"invoiceIds": [invoice_ids[index]], "paymentMethod": {"gatewayToken": "tok_visa"},
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
