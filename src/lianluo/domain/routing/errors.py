"""Exceptions of the routing engine.

Endpoints map them to status codes in one place:

- `ConfigError` and its subclasses (a queue, agent or expression that cannot be saved) -> 422;
  `ExpressionError` carries the 0-based character `position` of the fault.
- `NotFoundError` subclasses (unknown queue, agent or contact id) -> 404.
- `ConflictError` subclasses (duplicate id, operation not valid in the current state,
  time going backwards) -> 409.
"""

from __future__ import annotations


class RoutingError(Exception):
    """Base class of every error the routing engine raises."""


class ConfigError(RoutingError, ValueError):
    """A configuration (queue, agent, expression) is invalid; nothing was changed."""


class QueueConfigError(ConfigError):
    """A queue configuration is invalid (levels outside 1-10, relaxation steps out of order,
    unknown overflow queue, ...). `queue_id` and `field` say where."""

    def __init__(self, message: str, *, queue_id: str | None = None, field: str | None = None):
        where = ".".join(part for part in (queue_id, field) if part)
        super().__init__(f"{where}: {message}" if where else message)
        self.queue_id = queue_id
        self.field = field
        self.reason = message


class AgentConfigError(ConfigError):
    """An agent profile is invalid (skill level outside 1-10, negative capacity, ...)."""


class ExpressionError(ConfigError):
    """An attribute expression does not parse; `position` is the 0-based offset of the error."""

    def __init__(
        self,
        message: str,
        *,
        expression: str,
        position: int,
        queue_id: str | None = None,
        field: str | None = None,
    ):
        where = ".".join(part for part in (queue_id, field) if part)
        prefix = f"{where}: " if where else ""
        super().__init__(f"{prefix}{message} at position {position} in {expression!r}")
        self.reason = message
        self.expression = expression
        self.position = position
        self.queue_id = queue_id
        self.field = field

    def located(self, *, queue_id: str, field: str) -> ExpressionError:
        """The same error, naming the queue and field it came from."""
        return ExpressionError(
            self.reason,
            expression=self.expression,
            position=self.position,
            queue_id=queue_id,
            field=field,
        )


class NotFoundError(RoutingError, LookupError):
    """An id the engine does not know."""


class UnknownQueueError(NotFoundError):
    """No queue with this id is configured."""


class UnknownAgentError(NotFoundError):
    """No agent with this id is known."""


class UnknownContactError(NotFoundError):
    """No contact with this id is in routing (never enqueued, or already finished)."""


class ConflictError(RoutingError):
    """The operation does not fit the current state."""


class DuplicateIdError(ConflictError):
    """An agent or contact with this id already exists."""


class InvalidStateError(ConflictError):
    """E.g. accepting an offer that expired, completing a contact that is still waiting."""


class ClockError(ConflictError, ValueError):
    """`now` went backwards: the engine's clock is monotonic."""
