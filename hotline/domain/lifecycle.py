"""Ticket statuses and the moves allowed between them (DESIGN.md, "The ticket").

```
new ─┬─ answered ───────────────────────────────────────────┐
     ├─ rejected                                            │
     └─ assigned ─ in_progress ─┬─ resolved ─ approved ─────┼─ published ─ closed
          ▲   │                 ├─ waiting_citizen ─┘
          │   └─ returned (back to operator triage)
          └──────── reopened (citizen disputes within N days)
```
"""
from __future__ import annotations

from enum import StrEnum

from hotline.domain.errors import TransitionError


class Status(StrEnum):
    NEW = "new"
    ANSWERED = "answered"
    REJECTED = "rejected"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    WAITING_CITIZEN = "waiting_citizen"
    RETURNED = "returned"
    RESOLVED = "resolved"
    APPROVED = "approved"
    PUBLISHED = "published"
    CLOSED = "closed"
    REOPENED = "reopened"


class Kind(StrEnum):
    PHAN_ANH = "phan_anh"    # report of a problem
    KIEN_NGHI = "kien_nghi"  # proposal / request
    HOI_DAP = "hoi_dap"      # question


S = Status
TRANSITIONS: dict[Status, frozenset[Status]] = {
    S.NEW: frozenset({S.ANSWERED, S.REJECTED, S.ASSIGNED}),
    S.ASSIGNED: frozenset({S.IN_PROGRESS, S.RETURNED, S.ASSIGNED}),
    S.IN_PROGRESS: frozenset({S.RESOLVED, S.WAITING_CITIZEN, S.RETURNED}),
    S.WAITING_CITIZEN: frozenset({S.IN_PROGRESS}),
    S.RETURNED: frozenset({S.ASSIGNED, S.ANSWERED, S.REJECTED}),
    # A lead who does not approve sends the result back to the handler.
    S.RESOLVED: frozenset({S.APPROVED, S.IN_PROGRESS}),
    S.APPROVED: frozenset({S.PUBLISHED, S.CLOSED, S.REOPENED}),
    S.ANSWERED: frozenset({S.PUBLISHED, S.CLOSED, S.REOPENED}),
    S.PUBLISHED: frozenset({S.CLOSED, S.REOPENED}),
    S.CLOSED: frozenset({S.REOPENED}),
    S.REOPENED: frozenset({S.ASSIGNED, S.IN_PROGRESS}),
    S.REJECTED: frozenset(),
}

# Statuses in which the ticket is not finished from the citizen's point of view (open in
# reports). The agency's clock stops at "resolved"; approval by the lead is internal.
OPEN_STATUSES = frozenset({S.NEW, S.ASSIGNED, S.IN_PROGRESS, S.WAITING_CITIZEN,
                           S.RETURNED, S.REOPENED, S.RESOLVED})
# Statuses in which the citizen has had an answer.
DONE_STATUSES = frozenset({S.ANSWERED, S.APPROVED, S.PUBLISHED, S.CLOSED})
FINAL_STATUSES = frozenset({S.REJECTED, S.CLOSED})

LABELS_VI = {
    S.NEW: "Mới tiếp nhận",
    S.ANSWERED: "Đã trả lời trực tiếp",
    S.REJECTED: "Từ chối",
    S.ASSIGNED: "Đã chuyển cơ quan xử lý",
    S.IN_PROGRESS: "Đang xử lý",
    S.WAITING_CITIZEN: "Chờ người dân bổ sung",
    S.RETURNED: "Trả lại tổng đài (sai thẩm quyền)",
    S.RESOLVED: "Đã có kết quả, chờ duyệt",
    S.APPROVED: "Đã có kết quả",
    S.PUBLISHED: "Đã công khai kết quả",
    S.CLOSED: "Đã đóng",
    S.REOPENED: "Mở lại",
}
KIND_LABELS_VI = {Kind.PHAN_ANH: "Phản ánh", Kind.KIEN_NGHI: "Kiến nghị", Kind.HOI_DAP: "Hỏi đáp"}


def can_transition(current: Status | str, target: Status | str) -> bool:
    """Whether the rules allow moving from ``current`` to ``target``."""
    return Status(target) in TRANSITIONS[Status(current)]


def check_transition(current: Status | str, target: Status | str) -> Status:
    """Return ``target`` as a ``Status`` or raise ``TransitionError`` naming both states."""
    cur, tgt = Status(current), Status(target)
    if tgt not in TRANSITIONS[cur]:
        raise TransitionError(
            f"Không thể chuyển phiếu từ trạng thái «{LABELS_VI[cur]}» ({cur}) "
            f"sang «{LABELS_VI[tgt]}» ({tgt}).",
            current=str(cur), target=str(tgt),
        )
    return tgt
