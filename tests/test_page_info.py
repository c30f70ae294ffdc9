"""Every connection fills the whole PageInfo: where its page starts and ends, and what lies on either side."""
ONE_LINE = [{"name": "Work", "quantity": "1", "rate": "100"}]
PAGE_INFO = "pageInfo { hasNextPage endCursor hasPreviousPage startCursor } totalCount edges { cursor }"
INVOICES = f"query($first: Int, $after: String) {{ invoices(first: $first, after: $after) {{ {PAGE_INFO} }} }}"
CUSTOMERS = f"query($first: Int, $after: String) {{ customers(first: $first, after: $after) {{ {PAGE_INFO} }} }}"
TRANSACTIONS = f"""query($first: Int, $after: String) {{
  transactions(first: $first, after: $after) {{ {PAGE_INFO} }} }}"""


async def walk(client, query: str, first: int) -> list[dict]:
    """Every page of a list, from the start, `first` at a time."""
    pages, after = [], None
    while True:
        page = next(iter((await client.data(query, first=first, after=after)).values()))
        pages.append(page)
        if not page["pageInfo"]["hasNextPage"]:
            return pages
        after = page["pageInfo"]["endCursor"]


def check_pages(pages: list[dict], total: int) -> None:
    seen = [edge["cursor"] for page in pages for edge in page["edges"]]
    assert len(seen) == len(set(seen)) == total == pages[0]["totalCount"]
    for number, page in enumerate(pages):
        cursors = [edge["cursor"] for edge in page["edges"]]
        assert page["pageInfo"] == {"hasNextPage": number < len(pages) - 1, "endCursor": cursors[-1],
                                    "hasPreviousPage": number > 0, "startCursor": cursors[0]}


async def test_invoices_customers_and_transactions_say_what_lies_on_either_side(business):
    customers = [await business.customer(f"Customer {letter}") for letter in "ABCDE"]
    for customer in customers:
        await business.invoice(customer["id"], ONE_LINE)
        await business.estimate(customer["id"], ONE_LINE)

    check_pages(await walk(business.staff, INVOICES, 2), 5)
    check_pages(await walk(business.staff, CUSTOMERS, 2), 5)
    check_pages(await walk(business.staff, TRANSACTIONS, 3), 10)


async def test_an_empty_page_has_no_cursors(business):
    customer = await business.customer()
    await business.invoice(customer["id"], ONE_LINE)
    [only] = (await business.staff.data(INVOICES, first=1))["invoices"]["edges"]

    empty = (await business.staff.data(INVOICES, first=0))["invoices"]
    after_the_last = (await business.staff.data(INVOICES, first=5, after=only["cursor"]))["invoices"]

    assert empty["pageInfo"] == {"hasNextPage": True, "endCursor": None, "hasPreviousPage": False,
                                 "startCursor": None}
    assert after_the_last["pageInfo"] == {"hasNextPage": False, "endCursor": None, "hasPreviousPage": True,
                                          "startCursor": None}
