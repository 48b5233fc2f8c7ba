"""Domain errors: every rule the domain enforces fails with one of these."""


class HotlineError(Exception):
    """Base of every error the domain and services raise on purpose.

    ``message`` is Vietnamese, shown to users as is; ``code`` is a stable
    machine-readable name for APIs and tests.
    """

    code = "error"

    def __init__(self, message: str, *, code: str | None = None, **details):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.details = details


class ValidationError(HotlineError):
    """Input that cannot be accepted as given (empty text, bad phone, unknown code)."""

    code = "invalid"


class TransitionError(HotlineError):
    """A lifecycle move the rules do not allow from the current status."""

    code = "illegal_transition"


class PermissionDenied(HotlineError):
    """The actor may not do this (role or agency scope)."""

    code = "forbidden"


class NotFound(HotlineError):
    """No such object, or none the actor may see (the two look the same)."""

    code = "not_found"


class CalendarError(HotlineError):
    """A working-time computation that cannot be done (e.g. no working days configured)."""

    code = "calendar"
