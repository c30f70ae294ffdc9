"""Every type, field, argument, input field and enum value of the schema is described: it is the API's documentation."""
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
)

from portal.schema import schema


def undescribed() -> list[str]:
    missing = []
    for name, graphql_type in schema._schema.type_map.items():
        if name.startswith("__"):
            continue
        if not graphql_type.description:
            missing.append(name)
        if isinstance(graphql_type, GraphQLObjectType | GraphQLInterfaceType | GraphQLInputObjectType):
            for field_name, field in graphql_type.fields.items():
                if not field.description:
                    missing.append(f"{name}.{field_name}")
                missing += [f"{name}.{field_name}({arg})" for arg, argument in getattr(field, "args", {}).items()
                            if not argument.description]
        if isinstance(graphql_type, GraphQLEnumType):
            missing += [f"{name}.{value_name}" for value_name, value in graphql_type.values.items()
                        if not value.description]
    return missing


def test_nothing_in_the_schema_lacks_a_description():
    assert undescribed() == []


def test_arguments_and_enum_values_are_printed_with_their_descriptions():
    printed = schema.as_str()

    assert '"""How many items to return: 0 to 100; 20 when omitted."""' in printed
    assert '"""Paid in full."""\n  PAID' in printed
