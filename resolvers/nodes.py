"""node(id): any object the viewer may see, by its global id.

Each node type loads itself (`load_visible` on the types of `schema/`, through the `*_visible_to`
queries of `models/`); the schema hands the loaders in, by type name, so this layer needs no types.
"""
import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from portal.core.database import AsyncSession
from portal.core.errors import NotFound
from portal.core.ids import from_global_id, malformed
from portal.models.auth import Principal
from portal.models.projects import shown_only_with_projects
from portal.resolvers.context import Context
from portal.resolvers.projects import require_projects_shown

# How a node type loads the objects of some primary keys for a principal: in the keys' order, None
# for a key that is missing or not theirs to see (the two must look alike).
LoadVisible = Callable[[AsyncSession, Principal, list[int]], Awaitable[list[Any]]]


async def node(ctx: Context, global_id: str, loaders: Mapping[str, LoadVisible]) -> Any:
    """The object `global_id` names, loaded by its type (`loaders`), if the viewer may see it.

    An id that names no node type is BAD_USER_INPUT; an object the viewer may not see answers
    NOT_FOUND, exactly like a missing one.
    """
    principal = ctx.viewer
    type_name, pk = from_global_id(global_id)
    load = loaders.get(type_name)
    if load is None:
        raise malformed(global_id)
    [found] = await load(ctx.session, principal, [pk])
    if found is None:
        raise NotFound(in_words(type_name))
    await _check_projects_shown(ctx, type_name, found)
    return found


def in_words(type_name: str) -> str:
    """A type's name as error messages write it: "ProjectTask" is "Project task"."""
    return re.sub(r"(?<!^)(?=[A-Z])", " ", type_name).capitalize()


async def _check_projects_shown(ctx: Context, type_name: str, found: Any) -> None:
    """Projects, their tasks, time and comments disappear from the portal when the owner hides them."""
    commented_type = found.row.subject_type if type_name in ("Comment", "PortalUpdate") else None
    if shown_only_with_projects(type_name, commented_type=commented_type):
        await require_projects_shown(ctx)
