"""Error pages in Vietnamese for people; JSON for API and webhook clients."""
from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException

from hotline.domain.errors import NotFound, PermissionDenied
from hotline.web.hygiene import UnstorableInput

MESSAGES = {
    400: "Yêu cầu không hợp lệ.",
    401: "Bạn cần đăng nhập.",
    403: "Bạn không có quyền truy cập trang này.",
    404: "Không tìm thấy trang hoặc phiếu bạn yêu cầu.",
    405: "Thao tác không được hỗ trợ.",
    413: "Tệp tải lên quá lớn.",
    429: "Bạn thao tác quá nhanh. Vui lòng thử lại sau ít phút.",
    500: "Hệ thống gặp lỗi. Vui lòng thử lại sau.",
}


def _wants_json() -> bool:
    return request.path.startswith(("/channels/", "/open311/", "/api/")) or \
        request.accept_mimetypes.best == "application/json"


def _render(status: int, description: str | None = None, *, own: bool = False):
    """``own``: the description is ours (Vietnamese, for people), not Werkzeug's English."""
    message = description if description and (own or status == 429) \
        else MESSAGES.get(status, MESSAGES[500])
    if _wants_json():
        return jsonify(error={"code": status, "message": message}), status
    if status == 429:
        # A limit reached is not an error of the person's: say so in words, with a way on.
        return render_template("errors/too_many.html", message=_(message)), status
    return render_template("errors/error.html", status=status, message=message), status


def init_app(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        return _render(exc.code or 500, exc.description, own=isinstance(exc, UnstorableInput))

    # A service refusing is a 403/404 page, never a 500.
    @app.errorhandler(PermissionDenied)
    def _denied(_exc):
        return _render(403)

    @app.errorhandler(NotFound)
    def _missing(_exc):
        return _render(404)
