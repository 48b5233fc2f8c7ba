"""The one interface every channel implements, and the registry that finds them.

Inbound: a webhook or listener parses the platform's payload into
``IncomingMessage``s and hands them to intake: webhooks through
``hotline.services.staging.stage`` (stored before the answer, processed by the intake
drain), the mail receiver straight to ``hotline.services.intake.receive``.
Outbound: the outbox relay calls ``get_adapter(row.channel).send(message)``
with one ``OutboundMessage`` (one dataclass argument, so adding a field never
changes every adapter's signature).
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar


@dataclass(frozen=True)
class OutboundMessage:
    """One message to one recipient, as the outbox row describes it."""

    key: str                 # idempotency key of the outbox row
    channel: str
    recipient: str           # chat id, PSID, Zalo user id, phone (E.164) or e-mail
    text: str
    subject: str | None = None
    ticket_code: str | None = None
    extra: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class DeliveryResult:
    """What the platform said: its message id, for the ticket's record."""

    provider_id: str | None = None


class DeliveryError(Exception):
    """A send failed. ``transient`` failures (5xx, timeouts) are retried with backoff."""

    transient = False

    def __init__(self, message: str, *, transient: bool | None = None):
        super().__init__(message)
        if transient is not None:
            self.transient = transient


class TransientDeliveryError(DeliveryError):
    transient = True


class PermanentDeliveryError(DeliveryError):
    transient = False


class ChannelAdapter(ABC):
    """A channel: ``kind`` names it; ``configured`` says whether its secrets are set."""

    kind: ClassVar[str]
    #: Settings that must be non-empty for the channel to run (never shown anywhere).
    required_settings: ClassVar[tuple[str, ...]] = ()

    def __init__(self, config: Mapping[str, object]):
        self.config = config

    @classmethod
    def configured(cls, config: Mapping[str, object]) -> bool:
        return all(config.get(name) for name in cls.required_settings)

    @classmethod
    def missing_settings(cls, config: Mapping[str, object]) -> list[str]:
        return [name for name in cls.required_settings if not config.get(name)]

    @abstractmethod
    def send(self, message: OutboundMessage) -> DeliveryResult:
        """Deliver ``message`` or raise ``DeliveryError``."""


_REGISTRY: dict[str, type[ChannelAdapter]] = {}


def register(adapter_class: type[ChannelAdapter]) -> type[ChannelAdapter]:
    """Class decorator: make an adapter findable by its ``kind``."""
    _REGISTRY[adapter_class.kind] = adapter_class
    return adapter_class


def adapter_classes() -> dict[str, type[ChannelAdapter]]:
    _load_all()
    return dict(_REGISTRY)


def get_adapter(kind: str, config: Mapping[str, object]) -> ChannelAdapter | None:
    """The adapter for ``kind`` built on ``config``, or ``None`` if unknown or not configured."""
    _load_all()
    cls = _REGISTRY.get(kind)
    if cls is None or not cls.configured(config):
        return None
    return cls(config)


def _load_all() -> None:
    # Importing the modules runs their @register decorators; a missing module is a
    # channel not built yet, not an error.
    import importlib
    for name in ("sms", "email", "telegram", "zalo", "facebook"):
        try:
            importlib.import_module(f"channels.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"channels.{name}":
                raise
