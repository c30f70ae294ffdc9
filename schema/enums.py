"""The models' enums as GraphQL enums, each value described here so that the models stay free of API wording."""
from collections.abc import Mapping
from enum import Enum
from typing import TypeVar

import strawberry

E = TypeVar("E", bound=Enum)


def graphql_enum(values: type[E], *, name: str, description: str, described: Mapping[E, str]) -> None:
    """Register `values` as the GraphQL enum `name`; `described` gives every value's description.

    strawberry.enum keeps its definition on the class itself, so the model's enum is the GraphQL enum.
    A value left undescribed stops the schema from being built.
    """
    undescribed = [member.name for member in values if member not in described]
    if undescribed:
        raise ValueError(f"Describe every value of {name}: {', '.join(undescribed)} has no description.")
    strawberry.enum(values, name=name, description=description)
    for value in values.__strawberry_definition__.values:  # type: ignore[attr-defined]
        value.description = described[values(value.value)]
