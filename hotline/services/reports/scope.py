"""Who may read which figures: managers the whole province, agency leads their own unit.

Every report function takes a :class:`Scope` built here from the actor, so the
restriction is a service rule (a lead asking for another agency gets only their
own), never a template ``if``.
"""
from __future__ import annotations

from dataclasses import dataclass

from hotline.domain.errors import PermissionDenied
from hotline.models import User

REPORT_ROLES = frozenset({"manager", "agency_lead"})


@dataclass(frozen=True)
class Scope:
    """``agency_id`` None: every agency; otherwise only that one."""

    agency_id: int | None
    actor_id: int | None = None
    is_manager: bool = False

    @property
    def whole_province(self) -> bool:
        return self.agency_id is None

    def agency_filter(self, requested: int | None) -> int | None:
        """The agency a query may look at: a lead's own whatever they ask for."""
        return self.agency_id if self.agency_id is not None else requested


def scope_for(actor: User | None) -> Scope:
    """The reading scope of ``actor``; ``PermissionDenied`` for roles without reports."""
    if actor is None or actor.role not in REPORT_ROLES:
        raise PermissionDenied("Bạn không có quyền xem báo cáo.")
    if actor.role == "agency_lead":
        if actor.agency_id is None:
            raise PermissionDenied("Tài khoản lãnh đạo đơn vị chưa gắn với đơn vị nào.")
        return Scope(agency_id=actor.agency_id, actor_id=actor.id)
    return Scope(agency_id=None, actor_id=actor.id, is_manager=True)


def require_manager(actor: User | None) -> Scope:
    """Scope of a province-level manager; agency leads and others are refused."""
    scope = scope_for(actor)
    if not scope.is_manager:
        raise PermissionDenied("Chỉ lãnh đạo tỉnh / IOC được thực hiện thao tác này.")
    return scope


SYSTEM = Scope(agency_id=None, actor_id=None, is_manager=True)  # jobs and the IOC feed
