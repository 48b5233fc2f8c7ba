"""What is not PAKN: emergencies (113 / 114 / 115), complaints and denunciations.

The model and the cues here decide together: an emergency is never left to the model
alone (missing one costs more than a false banner), so a strong cue, or a weaker one
with a sign that it is happening now, is enough. The cues also pick the number, and
stand in for the model when it is missing. Cues are folded phrases matched on whole
words of :func:`hotline.triage.textprep.prepare`'s output.
"""
from __future__ import annotations

import re

SCOPES = ("in_scope", "emergency", "khieu_nai", "to_cao")

# number → (strong cues: an emergency by themselves, weak cues: only with a "now" sign).
EMERGENCY_CUES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "114": (("dang chay", "boc chay", "chay nha", "chay lon", "chay rung", "hoa hoan", "cuu hoa",
             "xe chua chay", "no binh gas", "chay lan sang", "thieu rui", "chay ngun ngut",
             "lua boc", "lua chay", "khoi den kit"),
            ("chay to", "khoi mu mit boc", "lua lan")),
    "115": (("bat tinh", "chay mau", "mau chay", "xe cap cuu gap", "goi cap cuu", "dot quy",
             "ngat xiu", "duoi nuoc", "dien giat", "khong tho", "co giat", "nam bat dong",
             "bi thuong nang", "mat tim", "keu cuu", "vot len", "roi xuong ao",
             "roi xuong song", "roi xuong gieng", "nam im"),
            ("tai nan", "bi thuong", "te nga", "cap cuu", "gay chan", "gay tay", "dung xe",
             "tong xe", "lat xe", "xe lat")),
    "113": (("dam chem", "cam dao", "hung khi", "ma tau", "bat coc", "hon chien", "rượt chem",
             "ruot chem", "danh dap", "vay danh", "cam sung", "ban sung", "dot nhap", "cay cua",
             "cuop giat", "con do"),
            ("danh nhau", "danh nguoi", "danh vo", "danh chu", "cuop", "dap pha", "chem")),
}
_NOW = ("dang", "cuu voi", "gap", "vua", "keu cuu", "bay gio", "luc nay", "ngay bay gio")
# Ordinary reports that share an emergency's words: a risk, a burnt-out bulb, a past event.
_NOT_EMERGENCY = ("bong den", "den duong", "den chay", "de xay ra", "nguy co", "so chap",
                  "so chay", "phong chay", "binh chua chay", "xe cap cuu cua", "thuoc cap cuu",
                  "nam ngoai", "thang truoc", "tuan truoc", "hom kia", "toi qua", "hay xay ra",
                  "chay tui", "dot rac", "dot dong", "dot rom", "suyt", "tuong co")
COMPLAINT_CUES = ("khieu nai",)
DENUNCIATION_CUES = ("to cao", "to giac")
_NOT_LEGAL = ("khong khieu nai", "hong khieu nai", "hong to cao", "khong muon khieu nai", "thu tuc khieu nai",
              "khong to cao", "khong muon to cao")

NOTICES = {
    "emergency": ("Tình huống khẩn cấp: đề nghị gọi ngay {number} ({service}). Tổng đài viên "
                  "chuyển {number}; phiếu vẫn được ghi nhận."),
    "khieu_nai": ("Đây là khiếu nại: theo Luật Khiếu nại 2011, đơn gửi người đã ra quyết định "
                  "hành chính hoặc cơ quan có người có hành vi hành chính bị khiếu nại (giải quyết "
                  "lần đầu), hoặc qua Ban Tiếp công dân. Tổng đài 1022 ghi nhận và hướng dẫn, "
                  "không giải quyết khiếu nại."),
    "to_cao": ("Đây là tố cáo: theo Luật Tố cáo 2018, đơn gửi người đứng đầu cơ quan, tổ chức "
               "quản lý người bị tố cáo (hoặc cơ quan thanh tra, Ban Tiếp công dân). Tổng đài 1022 "
               "ghi nhận và hướng dẫn, không giải quyết tố cáo."),
}
# The same, said to the citizen in the acknowledgement (chat, e-mail, web).
CITIZEN_NOTICES = {
    "emergency": ("Nếu đây là tình huống khẩn cấp, xin anh/chị gọi ngay số {number} ({service}) "
                  "để được hỗ trợ kịp thời. Phản ánh của anh/chị vẫn được Tổng đài ghi nhận."),
    "khieu_nai": ("Nội dung anh/chị gửi có tính chất khiếu nại. Theo Luật Khiếu nại 2011, khiếu nại "
                  "được gửi đến người đã ra quyết định hành chính hoặc cơ quan có người có hành vi "
                  "hành chính bị khiếu nại, hoặc qua Ban Tiếp công dân. Tổng đài vẫn ghi nhận và sẽ "
                  "hướng dẫn anh/chị."),
    "to_cao": ("Nội dung anh/chị gửi có tính chất tố cáo. Theo Luật Tố cáo 2018, tố cáo được gửi "
               "đến người đứng đầu cơ quan, tổ chức quản lý người bị tố cáo, hoặc qua Ban Tiếp "
               "công dân. Tổng đài vẫn ghi nhận và sẽ hướng dẫn anh/chị."),
}
SERVICES = {"113": "Công an", "114": "Cứu nạn, cứu hộ - chữa cháy", "115": "Cấp cứu y tế"}


def _has(prepared: str, cue: str) -> bool:
    return re.search(r"(?:^| )" + re.escape(cue) + r"(?: |$)", prepared) is not None


def _any(prepared: str, cues) -> bool:
    return any(_has(prepared, c) for c in cues)


def emergency_cue(prepared: str) -> str | None:
    """The number a cue points to (strong cue, or weak cue happening now), or ``None``."""
    if _any(prepared, _NOT_EMERGENCY):
        strong_only = True
    else:
        strong_only = not _any(prepared, _NOW)
    for number, (strong, weak) in EMERGENCY_CUES.items():
        if _any(prepared, strong) or (not strong_only and _any(prepared, weak)):
            return number
    return None


def emergency_number(prepared: str) -> str:
    """113, 114 or 115 for an emergency message (113 when no cue says which)."""
    found = emergency_cue(prepared)
    if found:
        return found
    for number, (strong, weak) in EMERGENCY_CUES.items():
        if _any(prepared, weak):
            return number
    return "113"


def legal_cue(prepared: str) -> str | None:
    """``to_cao`` or ``khieu_nai`` when the writer says so (and does not deny it)."""
    if _any(prepared, _NOT_LEGAL):
        return None
    if _any(prepared, DENUNCIATION_CUES):
        return "to_cao"
    if _any(prepared, COMPLAINT_CUES):
        return "khieu_nai"
    return None


def decide(prepared: str, model_scope: str | None = None,
           model_score: float = 0.0) -> tuple[str, str | None]:
    """The scope and emergency number from the cues and (when there is one) the model."""
    number = emergency_cue(prepared)
    if number:
        return "emergency", number
    if model_scope == "emergency" and model_score >= 0.9:
        return "emergency", emergency_number(prepared)
    legal = legal_cue(prepared)
    if legal:
        return legal, None
    if model_scope in ("khieu_nai", "to_cao") and model_score >= 0.6 \
            and not _any(prepared, _NOT_LEGAL):
        return model_scope, None
    return "in_scope", None


def notice(scope: str, number: str | None = None, *, citizen: bool = False) -> str | None:
    """The banner text for ``scope`` (``None`` for an ordinary report); ``citizen``: the
    polite wording of the acknowledgement."""
    template = (CITIZEN_NOTICES if citizen else NOTICES).get(scope)
    if template is None:
        return None
    number = number or "113"
    return template.format(number=number, service=SERVICES.get(number, ""))
