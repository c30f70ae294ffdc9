"""Domain errors. Each maps to one `extensions.code` of the contract."""


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


class BadUserInput(DomainError):
    code = "BAD_USER_INPUT"


class Conflict(DomainError):
    code = "CONFLICT"


class PaymentFailed(DomainError):
    code = "PAYMENT_FAILED"


class RateLimited(DomainError):
    code = "RATE_LIMITED"
