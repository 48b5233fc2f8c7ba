"""Open311 GeoReport v2 at ``/open311/v2/``: JSON or XML by the path's suffix.

Errors follow the spec: an array of ``{code, description}`` (``<errors><error>`` in
XML) with HTTP 400, 403 or 404. Extensions real deployments use: ``page`` and
``page_size``, a keyset cursor ``after`` (the next one is in the ``Link`` header),
``updated_after``, and ``extensions=true`` adding ``detailed_status``, ``channel``
and ``notes`` (the public timeline). CSRF-exempt: clients authenticate POST with
``api_key``. The OpenAPI 3 document is at ``/open311/v2/openapi.json``.
"""
from __future__ import annotations

from xml.etree import ElementTree as ET

from flask import Blueprint, Response, current_app, json, request, url_for
from werkzeug.exceptions import HTTPException

from hotline.domain.errors import HotlineError, NotFound, PermissionDenied
from hotline.extensions import csrf
from hotline.services import open311
from hotline.tx import commit

bp = Blueprint("open311", __name__, url_prefix="/open311/v2")
csrf.exempt(bp)

FORMATS = "any(json, xml)"
# XML element of each item of a list, by the list's name.
_ITEM_NAMES = {"services": "service", "service_requests": "request", "attributes": "attribute",
               "values": "value", "endpoints": "endpoint", "formats": "format", "notes": "note",
               "errors": "error"}


def _xml_value(parent: ET.Element, name: str, value) -> None:
    node = ET.SubElement(parent, name)
    if isinstance(value, list):
        child = _ITEM_NAMES.get(name, "item")
        for item in value:
            _xml_value(node, child, item)
    elif isinstance(value, dict):
        for key, item in value.items():
            _xml_value(node, key, item)
    elif isinstance(value, bool):
        node.text = "true" if value else "false"
    elif value is not None:
        node.text = str(value)


def render(fmt: str, root: str, payload, status: int = 200, headers=None) -> Response:
    """``payload`` as JSON, or as XML under ``<root>`` (a list's items named per the spec)."""
    if fmt == "xml":
        element = ET.Element(root)
        if isinstance(payload, list):
            child = _ITEM_NAMES.get(root, "item")
            for item in payload:
                _xml_value(element, child, item)
        else:
            for key, value in payload.items():
                _xml_value(element, key, value)
        body = b'<?xml version="1.0" encoding="utf-8"?>' + ET.tostring(element, encoding="utf-8",
                                                                        xml_declaration=False)
        return Response(body, status=status, mimetype="text/xml", headers=headers)
    return Response(json.dumps(payload, ensure_ascii=False), status=status,
                    mimetype="application/json", headers=headers)


def error(fmt: str, status: int, description: str) -> Response:
    return render(fmt if fmt in ("json", "xml") else "json", "errors",
                  [{"code": status, "description": description}], status)


def _fmt() -> str:
    return (request.view_args or {}).get("fmt") or (
        "xml" if request.path.endswith(".xml") else "json")


@bp.errorhandler(HotlineError)
def _domain_error(exc: HotlineError):
    status = 404 if isinstance(exc, NotFound) else 403 if isinstance(exc, PermissionDenied) else 400
    return error(_fmt(), status, exc.message)


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    status = exc.code if exc.code in (400, 403, 404) else exc.code or 500
    return error(_fmt(), status, exc.description or exc.name)


@bp.get(f"/discovery.<{FORMATS}:fmt>")
def discovery(fmt):
    base = current_app.config["PUBLIC_URL"].rstrip("/") + "/open311/v2"
    return render(fmt, "discovery", {
        "changeset": "2026-11-22T00:00:00+07:00",
        "contact": f"Tổng đài 1022 — {current_app.config.get('PROVINCE_NAME', '')}",
        "key_service": "API key do quản trị viên cấp (flask --app hotline create-api-key TÊN).",
        "endpoints": [{
            "specification": "http://wiki.open311.org/GeoReport_v2", "url": base,
            "changeset": "2026-11-22T00:00:00+07:00", "type": "production",
            "formats": ["text/xml", "application/json"],
        }],
    })


@bp.get(f"/services.<{FORMATS}:fmt>")
def services(fmt):
    return render(fmt, "services", open311.list_services())


@bp.get(f"/services/<service_code>.<{FORMATS}:fmt>")
def service(service_code, fmt):
    return render(fmt, "service_definition", open311.service_definition(service_code))


@bp.post(f"/requests.<{FORMATS}:fmt>")
def create_request(fmt):
    item = open311.create_request(request.form,
                                  idempotency_key=request.headers.get("Idempotency-Key"))
    commit()
    return render(fmt, "service_requests", [item], 201)


@bp.get(f"/requests.<{FORMATS}:fmt>")
def list_requests(fmt):
    query = open311.parse_query(request.args)
    items, next_cursor = open311.find_requests(query)
    headers = {}
    if next_cursor:
        args = {k: v for k, v in request.args.items() if k not in ("after", "page")}
        url = url_for("open311.list_requests", fmt=fmt, after=next_cursor, _external=False, **args)
        headers["Link"] = f'<{url}>; rel="next"'
    return render(fmt, "service_requests", items, headers=headers)


@bp.get(f"/requests/<service_request_id>.<{FORMATS}:fmt>")
def get_request(service_request_id, fmt):
    extensions = str(request.args.get("extensions") or "").lower() in ("true", "1", "yes")
    return render(fmt, "service_requests",
                  open311.get_request(service_request_id, extensions=extensions))


@bp.get(f"/tokens/<token>.<{FORMATS}:fmt>")
def token(token, fmt):
    # POST answers with the service_request_id it reserved (even before the intake drain
    # has routed the request), so there is never a queued token to resolve.
    return error(fmt, 404, "Không có yêu cầu nào đang chờ với token này: hệ thống trả "
                           "service_request_id ngay khi tạo yêu cầu.")


@bp.get("/openapi.json")
def openapi():
    from hotline.web.open311_openapi import document
    return Response(json.dumps(document(), ensure_ascii=False), mimetype="application/json")


@bp.route("/<path:anything>", methods=["GET", "POST"])
def not_found(anything):
    """Unknown paths and formats answer in the spec's error shape, not as an HTML page."""
    return error(_fmt(), 404, "Không có tài nguyên này trong GeoReport v2.")
