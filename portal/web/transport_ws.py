"""graphql-transport-ws as this service speaks it: one execution per event for all who get the same answer.

A live event reaches every subscriber of its organization in this worker at once (notifications/
subscriptions.py). Subscriptions that would get the same answer — the same document, operation and
variables, asked by the same person (so under the same visibility rules and permission outcomes) — share
one execution of it and one serialised payload (`SharedAnswers`); each subscription then only wraps the
payload in its own envelope and writes it, in its own task, so a slow socket holds back only itself (its
bounded queue ends it, notifications/subscriptions.py). Errors name the connection's request id, so an
answer with errors is shaped for each subscriber.
"""
import asyncio
import contextlib
import dataclasses
import heapq
import inspect
import itertools
import json
import weakref
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from graphql import ExecutionResult as CoreResult
from graphql import GraphQLError, execute_subscription_event
from starlette.websockets import WebSocketDisconnect, WebSocketState
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.schema.schema import StreamResult
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import Operation
from strawberry.types.execution import ExecutionResult, PreExecutionError

from portal.notifications.subscriptions import running_feed
from portal.ops.heap import connection_closed, connection_opened
from portal.resolvers.context import Context, deliver_through, event_scope, release_event_session
from portal.resolvers.loaders import Loaders
from portal.schema.document_limits import checked_document
from portal.schema.errors import shape_errors
from portal.web.session_watch import SessionCheckedTransportWS

StreamedResult = TypeVar("StreamedResult")


class PortalTransportWS(SessionCheckedTransportWS):
    """graphql-transport-ws as Strawberry speaks it, plus what this service needs of it.

    - The server pings every keep-alive interval (Strawberry's keep_alive serves only the legacy
      protocol), from one timer for all connections (`Pings`); clients answer with pong, and the
      traffic keeps idle connections open.
    - Errors carry `extensions.code` and unexpected ones are masked, as over HTTP (ErrorCodes only
      sees a streamed operation's results once it ends).
    - Live events are executed once for all the subscriptions that get the same answer (`LiveOperation`).
    - A delivered event's database connection goes back to the pool once its result is computed,
      before the send, which a slow client may hold up.
    - The connection closes (4403) once its session ends, with or without a subscription (session_watch.py);
      the check as each operation starts is shared by the operations that start together.
    - In `portal serve`, the objects of open connections are frozen out of the garbage collector's passes
      once a burst of them has settled (portal/ops/heap.py).
    """

    _heap_epoch: int | None = None

    def on_request_accepted(self) -> None:
        super().on_request_accepted()
        pings().add(self)
        self._heap_epoch = connection_opened()

    async def shutdown(self) -> None:
        pings().discard(self)
        connection_closed(self._heap_epoch)
        await super().shutdown()

    async def ping(self) -> None:
        if self.connection_acknowledged:
            with contextlib.suppress(Exception):
                await self.send_message({"type": "ping"})

    async def _session_is_live(self) -> bool:
        """As each operation starts: one query for a burst of them (ActivityFeed.session_is_live)."""
        principal = self.context.principal
        return principal is not None and await running_feed(self.context.services).session_is_live(
            principal.session_id)

    async def run_operation(self, operation: Operation[Context, None]) -> None:
        deliver_through(LiveOperation(self, operation))  # in this operation's task only
        await super().run_operation(operation)

    async def _send_result_stream(self, operation: Operation[Context, None], result_source: StreamResult) -> None:
        await super()._send_result_stream(operation, self._ready_to_send(result_source))

    async def _ready_to_send(self, results: StreamResult) -> StreamResult:
        try:
            async for result in results:
                await release_event_session()
                yield self.shaped(result)
        except GraphQLError as refusal:
            # A document refused while parsing (a syntax error, or too large or costly: document_limits.py)
            # is raised by the parse hook, not returned: answer it as Strawberry answers a pre-execution error.
            yield self.shaped(PreExecutionError(data=None, errors=[refusal]))

    def shaped(self, result: StreamedResult) -> StreamedResult:
        # Only ExecutionResults come: the schema does not enable incremental delivery (@defer, @stream).
        if isinstance(result, ExecutionResult) and result.errors and not self._closes_connection(result):
            # A copy: ErrorCodes shapes the original once more when the operation ends.
            result = dataclasses.replace(result, errors=shape_errors(result.errors, self.context.request_id))
        return result

    def _closes_connection(self, result: ExecutionResult) -> bool:
        """Strawberry answers a syntax error or a missing operation by closing with 4400; keep those errors."""
        if not isinstance(result, PreExecutionError) or not result.errors:
            return False
        return bool(self._get_pre_execution_close_reason(result.errors[0]))

    async def send_text(self, text: str) -> None:
        """A message already encoded, as send_message sends one."""
        try:
            await self.websocket.ws.send_text(text)  # type: ignore[attr-defined]
        except WebSocketDisconnect as gone:
            raise WebSocketDisconnected from gone


class PortalWebSocketAdapter(ASGIWebSocketAdapter):
    async def close(self, code: int, reason: str) -> None:
        # Closed already with a reason of ours (a refused token), which Strawberry's own close would replace.
        if self.ws.application_state != WebSocketState.DISCONNECTED:
            await super().close(code, reason)


@dataclasses.dataclass(frozen=True)
class Answer:
    """One execution's result for an event, and its payload as JSON when it is the same for every subscriber."""

    result: CoreResult
    payload: str | None  # None: it has errors, which are shaped for each connection


class LiveOperation:
    """One subscription's way to its client: its events answered through `SharedAnswers`, then written."""

    __slots__ = ("_answers", "_envelope", "_key", "handler", "operation")

    def __init__(self, handler: PortalTransportWS, operation: Operation[Context, None]) -> None:
        self.handler, self.operation = handler, operation
        self._answers = shared_answers()
        self._key: Hashable | None = None
        self._envelope = f'{{"id":{json.dumps(operation.id)},"type":"next","payload":'

    def sharing_key(self) -> Hashable:
        """Who gets the same answer: the same document, operation and variables, asked by the same person."""
        if self._key is None:
            principal = self.handler.context.principal
            person = None if principal is None else (principal.organization_id, principal.staff_user_id,
                                                     principal.contact_person_id, principal.customer_id)
            variables = json.dumps(self.operation.variables, sort_keys=True, separators=(",", ":"))
            self._key = (self.operation.query, self.operation.operation_name, variables, person)
        return self._key

    async def prepare(self, event: object, root_value: Callable[[], object]) -> None:
        await self._answers.answer(event, self.sharing_key(), lambda: self._execute(root_value()))

    async def deliver(self, event: object, root_value: Callable[[], object]) -> None:
        answer = await self._answers.answer(event, self.sharing_key(), lambda: self._execute(root_value()))
        if self.operation.completed:
            return
        payload = answer.payload if answer.payload is not None else self._payload_with_errors(answer.result)
        with contextlib.suppress(WebSocketDisconnected):  # gone: the connection's shutdown ends this operation
            await self.handler.send_text(f"{self._envelope}{payload}}}")

    async def _execute(self, root_value: object) -> Answer:
        """The operation executed for one event, with a session and DataLoaders of the event's own.

        As Strawberry executes each event of a subscription, less the schema extensions' per-field hooks
        (only tracing has one): this execution answers many operations, whose own spans it is not part of.
        """
        context, schema = self.handler.context, self.handler.schema
        principal = context.viewer
        document = checked_document(self.operation.query).document
        executor = schema.execution_context_class.build(  # type: ignore[attr-defined]
            schema._schema, document, None, context, self.operation.variables,  # type: ignore[attr-defined]
            self.operation.operation_name)
        if isinstance(executor, list):  # the variables no longer coerce: cannot happen for a running operation
            return Answer(CoreResult(None, executor), None)
        async with event_scope(context.services.read_session_factory, lambda session: Loaders(session, principal)):
            executed = execute_subscription_event(executor.build_per_event_executor(root_value))
            result = await executed if inspect.isawaitable(executed) else executed
        if result.errors:
            return Answer(result, None)
        return Answer(result, self._json({"data": result.data}))

    def _payload_with_errors(self, result: CoreResult) -> str:
        errors = shape_errors(result.errors or [], self.handler.context.request_id)
        return self._json({"data": result.data, "errors": [error.formatted for error in errors]})

    def _json(self, value: object) -> str:
        """As Strawberry encodes the messages it sends (the view's encode_json)."""
        encoded = self.handler.view.encode_json(value)
        return encoded if isinstance(encoded, str) else encoded.decode()


class SharedAnswers:
    """Each live event's answers by sharing key, kept while the event is: computed once, by the first asker.

    An answer is computed in a task of its own, so that the subscriber that asked first may go (its
    client gone) without taking the others' answer with it.
    """

    def __init__(self) -> None:
        self._by_event: dict[int, dict[Hashable, asyncio.Task[Answer]]] = {}
        self.executions = 0  # answers computed: with the deliveries counted, how much is shared


    async def answer(self, event: object, key: Hashable, compute: Callable[[], Any]) -> Answer:
        answers = self._by_event.get(id(event))
        if answers is None:
            answers = self._by_event[id(event)] = {}
            weakref.finalize(event, self._by_event.pop, id(event), None)  # forgotten with the event
        task = answers.get(key)
        if task is None or (task.done() and (task.cancelled() or task.exception() is not None)):
            task = answers[key] = asyncio.get_running_loop().create_task(compute())
            self.executions += 1
        if task.done():  # prepared before the subscriber woke (notifications/subscriptions.py)
            return task.result()
        return await asyncio.shield(task)


class Pings:
    """One timer for all connections of this worker: each is pinged every keep-alive interval of its view.

    The connections wait in a heap by when they are due, so a wake-up costs the connections it pings.
    """

    def __init__(self) -> None:
        self._due: list[tuple[float, int, PortalTransportWS]] = []
        self._open: set[PortalTransportWS] = set()
        self._order = itertools.count()  # ties are broken by arrival, never by comparing connections
        self._changed = asyncio.Event()
        self._timer: asyncio.Task | None = None
        self._sending: set[asyncio.Task] = set()

    def add(self, connection: PortalTransportWS) -> None:
        if connection.view.keep_alive_interval is None:
            return
        self._open.add(connection)
        self._schedule(connection, asyncio.get_running_loop().time())
        if self._timer is None or self._timer.done():
            self._timer = asyncio.create_task(self._run(), name="websocket-pings")
        self._changed.set()

    def discard(self, connection: PortalTransportWS) -> None:
        self._open.discard(connection)  # its entry in the heap is dropped when it comes due

    def _schedule(self, connection: PortalTransportWS, now: float) -> None:
        heapq.heappush(self._due, (now + (connection.view.keep_alive_interval or 0), next(self._order), connection))

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while self._due:
            due, _, connection = self._due[0]
            now = loop.time()
            if connection not in self._open:
                heapq.heappop(self._due)
            elif due <= now:
                heapq.heappop(self._due)
                self._schedule(connection, now)
                sending = asyncio.create_task(connection.ping())
                self._sending.add(sending)
                sending.add_done_callback(self._sending.discard)
            else:
                self._changed.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), due - now)


# Per event loop: a worker has one; tests may run several, one after the other.
_pings: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Pings]" = weakref.WeakKeyDictionary()
_shared: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, SharedAnswers]" = weakref.WeakKeyDictionary()


def pings() -> Pings:
    loop = asyncio.get_running_loop()
    if loop not in _pings:
        _pings[loop] = Pings()
    return _pings[loop]


def shared_answers() -> SharedAnswers:
    loop = asyncio.get_running_loop()
    if loop not in _shared:
        _shared[loop] = SharedAnswers()
    return _shared[loop]
