"""Paging the stored activity both ways, with its total and a full PageInfo."""
from live import COMMENT

ACTIVITY = """query($after: String, $first: Int, $before: String, $last: Int) {
  activity(after: $after, first: $first, before: $before, last: $last) {
    totalCount edges { cursor node { summary } }
    pageInfo { hasNextPage endCursor hasPreviousPage startCursor } } }"""


async def seven_comments(scene) -> list[str]:
    """The summaries of the organization's eight events: the invitation accepted, then seven comments."""
    for number in range(1, 8):
        await scene["portal"].data(COMMENT, id=scene["invoice"]["id"], body=f"Comment {number}")
    return ["accepted the invitation to the portal"] + [f"commented on invoice {scene['invoice']['number']}"] * 7


def summaries(page: dict) -> list[str]:
    return [edge["node"]["summary"].split(" ", 2)[-1] for edge in page["edges"]]


def cursors(page: dict) -> list[str]:
    return [edge["cursor"] for edge in page["edges"]]


async def everything(business) -> list[str]:
    return cursors((await business.staff.data(ACTIVITY, first=100))["activity"])


async def test_paging_back_from_the_latest_walks_every_event_once(business, scene):
    await seven_comments(scene)
    every = await everything(business)
    pages, before = [], None

    while True:
        page = (await business.staff.data(ACTIVITY, last=3, before=before))["activity"]
        pages.insert(0, page)
        if not page["pageInfo"]["hasPreviousPage"]:
            break
        before = page["pageInfo"]["startCursor"]

    assert [cursors(page) for page in pages] == [every[0:2], every[2:5], every[5:8]]  # oldest first in each
    assert [page["totalCount"] for page in pages] == [8, 8, 8]
    assert pages[-1]["pageInfo"]["hasNextPage"] is False  # the latest page: nothing newer
    assert all(page["pageInfo"]["hasNextPage"] for page in pages[:-1])
    assert all(page["pageInfo"]["startCursor"] == cursors(page)[0] and page["pageInfo"]["endCursor"] ==
               cursors(page)[-1] for page in pages)


async def test_paging_forward_says_what_lies_behind(business, scene):
    await seven_comments(scene)
    every = await everything(business)

    first = (await business.staff.data(ACTIVITY, after=every[0], first=3))["activity"]
    last = (await business.staff.data(ACTIVITY, after=every[4], first=3))["activity"]

    assert cursors(first) == every[1:4] and cursors(last) == every[5:8]
    assert first["pageInfo"] == {"hasNextPage": True, "endCursor": every[3], "hasPreviousPage": True,
                                 "startCursor": every[1]}
    assert last["pageInfo"] == {"hasNextPage": False, "endCursor": every[7], "hasPreviousPage": True,
                                "startCursor": every[5]}
    assert first["totalCount"] == last["totalCount"] == 8


async def test_without_arguments_the_latest_fifty_oldest_first(business, scene):
    expected = await seven_comments(scene)

    page = (await business.staff.data(ACTIVITY))["activity"]
    latest_three = (await business.staff.data(ACTIVITY, first=3))["activity"]

    assert summaries(page) == expected
    assert page["pageInfo"]["hasPreviousPage"] is False and page["pageInfo"]["hasNextPage"] is False
    assert cursors(latest_three) == cursors(page)[-3:]
    assert latest_three["pageInfo"]["hasPreviousPage"] is True


async def test_a_page_before_the_oldest_event_is_empty(business, scene):
    every = await everything(business)

    page = (await business.staff.data(ACTIVITY, before=every[0], last=5))["activity"]

    assert page["edges"] == [] and page["totalCount"] == 1
    assert page["pageInfo"] == {"hasNextPage": True, "endCursor": None, "hasPreviousPage": False,
                                "startCursor": None}


async def test_forward_and_back_do_not_mix_and_sizes_are_bounded(business, scene, other_business):
    every = await everything(business)
    theirs = await everything(other_business)

    for arguments in ({"after": every[0], "last": 1}, {"before": every[0], "first": 1}, {"first": 1, "last": 1},
                      {"after": every[0], "before": every[0]}, {"last": 101}, {"last": -1},
                      {"before": "bm90IGEgY3Vyc29y"}):
        assert await business.staff.error_code(ACTIVITY, **arguments) == "BAD_USER_INPUT", arguments
    assert theirs == []  # another organization has no events to leak
    assert await scene["portal"].error_code(ACTIVITY, last=1) == "FORBIDDEN"
