"""Domain errors. Each maps to one `extensions.code` of the contract."""
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass


class DomainError(Exception):
    code = "INTERNAL_SERVER_ERROR"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    @property
    def extensions(self) -> dict[str, object]:
        """The error's `extensions` for the client: its code, and whatever else helps it react."""
        return {"code": self.code}


class Unauthenticated(DomainError):
    code = "UNAUTHENTICATED"

    def __init__(self, message: str = "Sign in first.", *, reason: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason  # what is wrong with the bearer token that was sent: MALFORMED, UNKNOWN, EXPIRED

    @property
    def extensions(self) -> dict[str, object]:
        return {"code": self.code, "reason": self.reason} if self.reason else {"code": self.code}


class Forbidden(DomainError):
    code = "FORBIDDEN"

    def __init__(self, message: str = "You are not allowed to do this.") -> None:
        super().__init__(message)


class NotFound(DomainError):
    code = "NOT_FOUND"

    def __init__(self, what: str = "Object") -> None:
        super().__init__(f"{what} not found.")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input: what, and where (a path into the input, like `line_items[0].name`)."""

    message: str
    field: str | None = None

    def under(self, path: str) -> "Problem":
        """The same problem seen from the object that holds `path`."""
        if self.field is None:
            return Problem(self.message, path)
        return Problem(self.message, path + ("" if self.field.startswith("[") else ".") + self.field)


class BadUserInput(DomainError):
    """The client sent something the service refuses; `problems` lists every fault found, each at its field."""

    code = "BAD_USER_INPUT"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.problems = [Problem(message, field)]

    @classmethod
    def of(cls, problems: list[Problem]) -> "BadUserInput":
        error = cls(" ".join(problem.message for problem in problems))
        error.problems = problems
        return error

    def under(self, path: str) -> "BadUserInput":
        """The problems that have a field, seen from the object that holds `path` (an argument, say)."""
        return BadUserInput.of([problem if problem.field is None else problem.under(path)
                                for problem in self.problems])


class InputCheck:
    """Checks the parts of an input one after the other, so that the client hears of every problem at once.

        check = InputCheck()
        with check.field("display_name"):
            name = single_line(display_name, "A display name", limit=200, required=True)
        ...
        check.done()  # raises BadUserInput with every problem found, each at its field

    A value assigned inside a failed `field` block is never read: `done()` raises first.
    """

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    @contextmanager
    def field(self, path: str) -> Iterator[None]:
        """A check of the value at `path`: what it refuses is noted there, and checking goes on."""
        try:
            yield
        except BadUserInput as error:
            self.problems += [problem.under(path) for problem in error.problems]

    @contextmanager
    def collect(self) -> Iterator[None]:
        """A check of several fields that names each problem's field itself."""
        try:
            yield
        except BadUserInput as error:
            self.problems += error.problems

    def add(self, path: str, message: str) -> None:
        self.problems.append(Problem(message, path))

    def done(self) -> None:
        if self.problems:
            raise BadUserInput.of(self.problems)


class Conflict(DomainError):
    code = "CONFLICT"


class PaymentFailed(DomainError):
    code = "PAYMENT_FAILED"


class RateLimited(DomainError):
    code = "RATE_LIMITED"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after  # seconds until a try may go through

    @property
    def extensions(self) -> dict[str, object]:
        return {"code": self.code, "retryAfter": self.retry_after}
