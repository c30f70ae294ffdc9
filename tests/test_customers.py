"""Customers and contact persons on the owner's side."""
import hashlib

CUSTOMERS = """query($search: String, $first: Int, $after: String) {
  customers(search: $search, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { cursor node { id displayName achEnabled contactPersons { email avatarUrl portalAccess } } }
  }
}"""
SET_ACH = "mutation($id: ID!, $on: Boolean!) { setAchEnabled(customerId: $id, enabled: $on) { id achEnabled } }"


async def test_customers_page_through_by_name_and_search(business):
    for name in ("Delta", "alpha", "Charlie", "Bravo"):
        await business.customer(name, companyName=f"{name} Holdings")

    first = await business.staff.data(CUSTOMERS, first=3)
    rest = await business.staff.data(CUSTOMERS, first=3, after=first["customers"]["pageInfo"]["endCursor"])
    searched = await business.staff.data(CUSTOMERS, search="HOLD")
    one = await business.staff.data(CUSTOMERS, search="arli")

    names = [edge["node"]["displayName"] for page in (first, rest) for edge in page["customers"]["edges"]]
    assert sorted(names) == sorted(["Delta", "alpha", "Charlie", "Bravo"]) and len(names) == 4
    assert first["customers"]["totalCount"] == 4
    assert first["customers"]["pageInfo"]["hasNextPage"] is True
    assert rest["customers"]["pageInfo"]["hasNextPage"] is False
    assert searched["customers"]["totalCount"] == 4
    assert [edge["node"]["displayName"] for edge in one["customers"]["edges"]] == ["Charlie"]


async def test_a_contact_person_has_a_gravatar(business):
    customer = await business.customer()

    contact = await business.contact(customer["id"], "  Someone@Client.example.com ")

    digest = hashlib.md5(b"someone@client.example.com").hexdigest()
    assert contact["avatarUrl"] == f"https://www.gravatar.com/avatar/{digest}?d=identicon"
    assert contact["portalAccess"] == "DISABLED"


async def test_bad_customer_input(business):
    bad_currency = await business.staff.error_code(
        'mutation { createCustomer(input: {displayName: "X", currency: "DOLLARS"}) { id } }')
    no_name = await business.staff.error_code('mutation { createCustomer(input: {displayName: "  "}) { id } }')
    customer = await business.customer()
    bad_email = await business.staff.error_code(
        'mutation($id: ID!) { addContactPerson(customerId: $id, input: {firstName: "A", email: "nope"}) { id } }',
        id=customer["id"])

    assert (bad_currency, no_name, bad_email) == ("BAD_USER_INPUT",) * 3


async def test_ach_is_switched_per_customer(business):
    customer = await business.customer()

    switched = await business.staff.data(SET_ACH, id=customer["id"], on=True)

    assert switched["setAchEnabled"]["achEnabled"] is True


async def test_listing_customers_does_not_query_per_customer(business, count_statements):
    for index in range(3):
        customer = await business.customer(f"Many {index}")
        await business.contact(customer["id"], f"c{index}@many.example.com")
    with count_statements() as few:
        await business.staff.data(CUSTOMERS, first=3)
    for index in range(3, 9):
        customer = await business.customer(f"Many {index}")
        await business.contact(customer["id"], f"c{index}@many.example.com")

    with count_statements() as many:
        await business.staff.data(CUSTOMERS, first=9)

    assert 0 < many.count == few.count
