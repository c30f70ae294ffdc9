"""One transaction rule: each root mutation field commits once, on success, here and nowhere else.

Per field, so that in `mutation { a b }` a failing `b` rolls back only what `b` wrote and keeps
`a`, as its answer reported. A commit that fails becomes that field's error. The exceptions live
where they are named: the payment flow (services/checkout.py) commits each of its steps, and
sign-in tries note themselves as failures, and take that back when the password verifies, in sessions
of their own (models/throttle.py).
"""
from typing import Any

from strawberry.extensions.field_extension import AsyncExtensionResolver, FieldExtension

from portal.resolvers.context import Info


class CommitOnSuccess(FieldExtension):
    async def resolve_async(self, next_: AsyncExtensionResolver, source: Any, info: Info, **kwargs: Any) -> Any:
        session = info.context.session
        try:
            result = await next_(source, info, **kwargs)
            await info.context.commit()
        except BaseException:
            await session.rollback()
            raise
        return result
