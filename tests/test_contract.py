"""The printed schema contains every definition of the contract, with the same shape."""
from pathlib import Path

import pytest
from graphql import build_schema, get_named_type

from portal.schema import schema

CONTRACT = Path(__file__).parent.parent / "contract" / "portal.graphql"
SHARED_CONTRACT = Path(__file__).parent.parent.parent / "shared" / "contract" / "portal.graphql"

# Contract fields ("Type.field") and arguments ("Type.field(arg)") whose issues are still open.
# This set may only shrink.
NOT_BUILT_YET: set[str] = set()


def _shape(schema_object, name: str) -> dict:
    """Every field, argument, type, default, interface, enum value and union member of a type."""
    graphql_type = schema_object.type_map[name]
    shape = {"kind": type(graphql_type).__name__}
    if hasattr(graphql_type, "fields"):
        shape["fields"] = {
            field_name: {
                "type": str(field.type),
                "args": {arg: (str(a.type), a.default_value) for arg, a in getattr(field, "args", {}).items()},
            }
            for field_name, field in graphql_type.fields.items()
        }
    if hasattr(graphql_type, "interfaces"):
        shape["interfaces"] = {interface.name for interface in graphql_type.interfaces}
    if hasattr(graphql_type, "values"):
        shape["values"] = set(graphql_type.values)
    if hasattr(graphql_type, "types"):
        shape["types"] = {member.name for member in graphql_type.types}
    return shape


def _missing(contract_shape: dict, served_shape: dict, type_name: str) -> list[str]:
    problems = []
    if contract_shape["kind"] != served_shape["kind"]:
        return [f"{type_name} is a {served_shape['kind']}, not a {contract_shape['kind']}"]
    for field_name, field in contract_shape.get("fields", {}).items():
        if f"{type_name}.{field_name}" in NOT_BUILT_YET:
            continue
        served = served_shape["fields"].get(field_name)
        if served is None:
            problems.append(f"{type_name}.{field_name} is missing")
            continue
        if served["type"] != field["type"]:
            problems.append(f"{type_name}.{field_name} is {served['type']}, not {field['type']}")
        for arg, (arg_type, default) in field["args"].items():
            if f"{type_name}.{field_name}({arg})" in NOT_BUILT_YET:
                continue
            served_arg = served["args"].get(arg)
            if served_arg is None or served_arg[0] != arg_type:
                problems.append(f"{type_name}.{field_name}({arg}) should be {arg_type}")
            elif _has_default(default) and served_arg[1] != default:
                problems.append(f"{type_name}.{field_name}({arg}) should default to {default!r}")
        extra_required = [arg for arg, (arg_type, _) in served["args"].items()
                          if arg not in field["args"] and arg_type.endswith("!")]
        problems += [f"{type_name}.{field_name} adds required argument {arg}" for arg in extra_required]
    for key in ("interfaces", "values", "types"):
        if key in contract_shape and not contract_shape[key] <= served_shape.get(key, set()):
            problems.append(f"{type_name} lacks {contract_shape[key] - served_shape.get(key, set())}")
    return problems


def _has_default(default) -> bool:
    from graphql.pyutils import Undefined

    return default is not Undefined


def _reachable(contract) -> set[str]:
    """Type names used by the built operations: through fields, arguments and union members."""
    seen: set[str] = set()
    roots = [(name, field) for root in ("Query", "Mutation", "Subscription") if (t := contract.type_map.get(root))
             for name, field in t.fields.items() if f"{root}.{name}" not in NOT_BUILT_YET]
    pending = [get_named_type(field.type) for _, field in roots]
    pending += [get_named_type(arg.type) for _, field in roots for arg in field.args.values()]
    while pending:
        named = pending.pop()
        if named.name in seen:
            continue
        seen.add(named.name)
        for name, field in getattr(named, "fields", {}).items():
            if f"{named.name}.{name}" in NOT_BUILT_YET:
                continue
            pending.append(get_named_type(field.type))
            pending += [get_named_type(arg.type) for arg_name, arg in getattr(field, "args", {}).items()
                        if f"{named.name}.{name}({arg_name})" not in NOT_BUILT_YET]
        pending += list(getattr(named, "types", [])) + list(getattr(named, "interfaces", []))
    return seen


def test_printed_schema_contains_every_contract_definition():
    contract = build_schema(CONTRACT.read_text())
    served = build_schema(schema.as_str())
    problems = []
    reachable = _reachable(contract)
    for name, graphql_type in contract.type_map.items():
        if name.startswith("__") or name not in reachable | {"Query", "Mutation", "Subscription"}:
            continue
        if name not in served.type_map:
            if name == "Subscription" and all(f"Subscription.{f}" in NOT_BUILT_YET for f in graphql_type.fields):
                continue
            problems.append(f"type {name} is missing")
            continue
        problems += _missing(_shape(contract, name), _shape(served, name), name)
    assert problems == []


def test_the_not_built_set_names_only_contract_fields_and_arguments():
    contract = build_schema(CONTRACT.read_text())
    names = set()
    for type_name, graphql_type in contract.type_map.items():
        for field_name, field in getattr(graphql_type, "fields", {}).items():
            names.add(f"{type_name}.{field_name}")
            names |= {f"{type_name}.{field_name}({arg})" for arg in getattr(field, "args", {})}
    assert names >= NOT_BUILT_YET


@pytest.mark.skipif(not SHARED_CONTRACT.exists(), reason="no ../shared next to this checkout")
def test_the_copy_of_the_contract_is_current():
    assert CONTRACT.read_text() == SHARED_CONTRACT.read_text()
