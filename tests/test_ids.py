"""Global ids and cursors: the formats already handed out, read back strictly."""
import base64
import json
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal.core.base64url import decode_base64url, encode_base64url
from portal.core.cursors import (
    decode_activity_cursor,
    decode_page_cursor,
    encode_activity_cursor,
    encode_page_cursor,
)
from portal.core.errors import BadUserInput, NotFound
from portal.core.ids import (
    MAX_PK,
    NO_SUCH_ROW,
    bounded_int,
    canonical_int,
    decode_id,
    from_global_id,
    to_global_id,
)

NEWEST_FIRST = [date.fromisoformat, str, bounded_int]
TYPE_NAMES = st.from_regex(r"[A-Z][A-Za-z]{0,30}", fullmatch=True)
PKS = st.integers(min_value=1, max_value=MAX_PK)
KEYS = st.tuples(st.dates(), st.text(max_size=40), st.integers(min_value=-MAX_PK, max_value=MAX_PK))


def other_spellings(number: int) -> list[str]:
    """Texts int() reads as `number` that str() does not write."""
    digits = str(number)
    spellings = [f"0{digits}", f"+{digits}", f" {digits}", f"{digits} ", f"{digits}\n", f"{digits}.0",
                 digits.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))]
    return spellings + ([f"{digits[0]}_{digits[1:]}"] if len(digits) > 1 else [])


def first_written(raw: bytes) -> str:
    """How ids and cursors have been written since the first release."""
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def with_last_bit_set(text: str) -> str:
    """The same bytes spelled with a bit set past the last one (a non-canonical base64 spelling)."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    return text[:-1] + alphabet[alphabet.index(text[-1]) | 1]


# ---------------------------------------------------------------- base64


@given(st.binary(max_size=200))
def test_base64url_round_trips_in_the_format_handed_out(raw):
    assert encode_base64url(raw) == first_written(raw)
    assert decode_base64url(encode_base64url(raw)) == raw


@given(st.binary(min_size=1, max_size=200))
def test_base64url_refuses_other_spellings_of_the_same_bytes(raw):
    text = encode_base64url(raw)
    padded = base64.urlsafe_b64encode(raw).decode()
    standard = base64.b64encode(raw).decode().rstrip("=")
    for spelling in {padded, standard, text + "=", " " + text, text + "\n"} - {text}:
        with pytest.raises(ValueError):
            decode_base64url(spelling)
    if len(text) % 4:
        with pytest.raises(ValueError):
            decode_base64url(with_last_bit_set(text))


@given(st.text(max_size=40))
def test_base64url_reads_a_text_only_in_its_one_spelling(text):
    try:
        raw = decode_base64url(text)
    except ValueError:
        return
    assert encode_base64url(raw) == text


@pytest.mark.parametrize("text", ["A", "AAAAA", "SW52b2ljZTo0Mg==", "SW52b2ljZTo0Mh", "SW5+b2ljZTo0Mg",
                                  "SW5/b2ljZTo0Mg", "SW5.b2ljZTo0Mg", "SW52b2ljZ To0Mg"])
def test_base64url_refuses_what_it_does_not_write(text):
    with pytest.raises(ValueError):
        decode_base64url(text)


# ---------------------------------------------------------------- integers


@given(st.integers())
def test_canonical_int_reads_what_str_writes(number):
    assert canonical_int(str(number)) == number


@pytest.mark.parametrize("text", [*other_spellings(12), *other_spellings(-12), "-0", "", "0x1", "1e3"])
def test_canonical_int_refuses_other_spellings(text):
    with pytest.raises(ValueError):
        canonical_int(text)


# ---------------------------------------------------------------- global ids


def test_ids_keep_the_format_already_emailed():
    assert to_global_id("Invoice", 42) == "SW52b2ljZTo0Mg"
    assert from_global_id("SW52b2ljZTo0Mg") == ("Invoice", 42)


@given(TYPE_NAMES, PKS)
def test_ids_round_trip(type_name, pk):
    global_id = to_global_id(type_name, pk)
    assert global_id == first_written(f"{type_name}:{pk}".encode())
    assert from_global_id(global_id) == (type_name, pk)


@given(TYPE_NAMES, PKS)
def test_ids_with_a_bit_set_past_the_last_byte_are_bad_input(type_name, pk):
    global_id = to_global_id(type_name, pk)
    if len(global_id) % 4:
        with pytest.raises(BadUserInput):
            from_global_id(with_last_bit_set(global_id))


@pytest.mark.parametrize("global_id", [
    "SW52b2ljZTo0Mg==", "SW52b2ljZTo0Mg=", "SW52b2ljZTo0Mh", "SW52b2ljZTo0M+", "SW52b2ljZTo0M/", " SW52b2ljZTo0Mg",
    "", "%%%", first_written(b"Invoice"), first_written(b"Invoice:"), first_written(b"Invoice:42x"),
    first_written(b"Invoice:42:1"), first_written(b"Invoice:42\x00"), first_written(b"Invoice:\xff"),
    *[first_written(f"Invoice:{pk}".encode()) for pk in other_spellings(12)],
])
def test_malformed_ids_are_bad_input(global_id):
    with pytest.raises(BadUserInput):
        from_global_id(global_id)


@pytest.mark.parametrize("pk", ["0", "-5", str(MAX_PK + 1), "99999999999999999999"])
def test_well_formed_ids_out_of_range_name_a_row_that_cannot_exist(pk):
    """So that whoever looks the row up answers exactly as for any missing one."""
    assert from_global_id(first_written(f"Invoice:{pk}".encode())) == ("Invoice", NO_SUCH_ROW)


def test_an_id_of_another_issued_type_is_not_found_and_of_no_issued_type_malformed():
    import portal.schema  # noqa: F401 - building the schema registers the types ids are issued for

    assert decode_id(to_global_id("Invoice", 7), "Invoice", "Estimate") == 7
    with pytest.raises(NotFound, match="Customer not found"):
        decode_id(to_global_id("Invoice", 7), "Customer")
    for type_name in ("invoice", "Nothing", "PageInfo", "In voice", ""):
        with pytest.raises(BadUserInput):
            decode_id(first_written(f"{type_name}:7".encode()), "Customer")


# ---------------------------------------------------------------- page cursors


def test_page_cursors_keep_the_format_already_handed_out():
    cursor = first_written(b'["2026-01-02", "INV-00001", 7]')
    assert encode_page_cursor((date(2026, 1, 2), "INV-00001", 7)) == cursor
    assert decode_page_cursor(cursor, NEWEST_FIRST) == (date(2026, 1, 2), "INV-00001", 7)


@given(KEYS)
def test_page_cursors_round_trip(key):
    cursor = encode_page_cursor(key)
    assert cursor == first_written(json.dumps([key[0].isoformat(), key[1], key[2]]).encode())
    assert decode_page_cursor(cursor, NEWEST_FIRST) == key


@given(KEYS)
def test_page_cursors_with_a_bit_set_past_the_last_byte_are_bad_input(key):
    cursor = encode_page_cursor(key)
    if len(cursor) % 4:
        with pytest.raises(BadUserInput):
            decode_page_cursor(with_last_bit_set(cursor), NEWEST_FIRST)


@pytest.mark.parametrize("json_text", [
    '["2026-01-02", "INV-1", 7] ', '["2026-01-02","INV-1",7]', '["2026-01-02", "INV-1", 7.0]',
    '["2026-01-02", "INV-1", "7"]', '["2026-01-02", "INV-1", true]', '["20260102", "INV-1", 7]',
    '["2026-01-02", 1, 7]', '["2026-01-02", "INV-1", 1e400]', '["2026-01-02", "INV-1", 10000000000000]',
    '["2026-01-02", "INV-1"]', '["2026-01-02", "INV-1", 7, 8]', '{"date": "2026-01-02"}', "[1, 2]", "7",
    '["2026-01-02", "INV-1", 7]x', '["2026-01-02", "INV-1", 7]\x00', "[" * 100_000,
])
def test_page_cursors_written_otherwise_are_bad_input(json_text):
    with pytest.raises(BadUserInput):
        decode_page_cursor(first_written(json_text.encode()), NEWEST_FIRST)


@pytest.mark.parametrize("cursor", ["%%%", "", "WyIyMDI2LTAxLTAyIiwgIklOVi0wMDAwMSIsIDdd=",
                                    "WyIyMDI2LTAxLTAyIiwgIklOVi0wMDAwMSIsIDdd==",
                                    "WyIyMDI2LTAxLTAyIiwgIklOVi0wMDAwMSIsIDdd\n"])
def test_page_cursors_not_in_unpadded_base64_are_bad_input(cursor):
    with pytest.raises(BadUserInput):
        decode_page_cursor(cursor, NEWEST_FIRST)


# ---------------------------------------------------------------- activity cursors


def test_activity_cursors_keep_the_format_already_handed_out():
    assert encode_activity_cursor(3, 15) == first_written(b"activity:3:15") == "YWN0aXZpdHk6MzoxNQ"
    assert decode_activity_cursor("YWN0aXZpdHk6MzoxNQ", 3) == 15


@given(PKS, st.integers(min_value=0, max_value=MAX_PK))
def test_activity_cursors_round_trip(organization_id, sequence):
    cursor = encode_activity_cursor(organization_id, sequence)
    assert decode_activity_cursor(cursor, organization_id) == sequence


@given(PKS, st.integers(min_value=0, max_value=MAX_PK))
def test_activity_cursors_of_another_organization_are_bad_input(organization_id, sequence):
    cursor = encode_activity_cursor(organization_id, sequence)
    with pytest.raises(BadUserInput):
        decode_activity_cursor(cursor, organization_id + 1)


@given(PKS, st.integers(min_value=0, max_value=MAX_PK))
def test_activity_cursors_with_a_bit_set_past_the_last_byte_are_bad_input(organization_id, sequence):
    cursor = encode_activity_cursor(organization_id, sequence)
    if len(cursor) % 4:
        with pytest.raises(BadUserInput):
            decode_activity_cursor(with_last_bit_set(cursor), organization_id)


@pytest.mark.parametrize("raw", [
    b"activity:3", b"activity:3:15:1", b"activity:3:15x", b"activity:3:15\n", b"Activity:3:15", b"activity:3:",
    b"activity:3:99999999999999999999", b"activity:\xff:15",
    *[f"activity:{organization}:15".encode() for organization in other_spellings(3)],
    *[f"activity:3:{sequence}".encode() for sequence in [*other_spellings(15), "-0"]],
])
def test_activity_cursors_written_otherwise_are_bad_input(raw):
    with pytest.raises(BadUserInput):
        decode_activity_cursor(first_written(raw), 3)


@pytest.mark.parametrize("cursor", ["YWN0aXZpdHk6MzoxNQ==", "YWN0aXZpdHk6MzoxNR", "YWN0aXZpdHk6Mzox+Q", "garbage"])
def test_activity_cursors_not_in_unpadded_base64_are_bad_input(cursor):
    with pytest.raises(BadUserInput):
        decode_activity_cursor(cursor, 3)
