"""The OpenAPI 3 document of ``/open311/v2/`` (served at ``/open311/v2/openapi.json``).

Built per request so ``service_code`` lists the province's current services. The
suite runs schemathesis against it (tests/web/test_open311.py).
"""
from __future__ import annotations

from flask import current_app
from sqlalchemy import select

from hotline.extensions import db
from hotline.models import Field

_FORMAT = {"name": "format", "in": "path", "required": True,
           "description": "Định dạng trả về: json hoặc xml.",
           "schema": {"type": "string", "enum": ["json", "xml"]}}
_NULLABLE_STR = {"type": ["string", "null"]}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _responses(ok_schema: dict | None, *, ok: str = "200", errors=(400, 404),
               description: str = "Thành công") -> dict:
    out = {}
    if ok_schema is not None:
        out[ok] = {"description": description, "content": {
            "application/json": {"schema": ok_schema},
            "text/xml": {"schema": {"type": "string"}}}}
    for code in errors:
        out[str(code)] = {"description": {400: "Tham số không hợp lệ", 403: "api_key không hợp lệ",
                                          404: "Không tìm thấy"}[code],
                          "content": {"application/json": {"schema": _ref("Errors")},
                                      "text/xml": {"schema": {"type": "string"}}}}
    return out


def _schemas() -> dict:
    request_props = {
        "service_request_id": {"type": "string"},
        "status": {"type": "string", "enum": ["open", "closed"]},
        "status_notes": _NULLABLE_STR,
        "service_name": _NULLABLE_STR,
        "service_code": _NULLABLE_STR,
        "description": _NULLABLE_STR,
        "agency_responsible": _NULLABLE_STR,
        "service_notice": _NULLABLE_STR,
        "requested_datetime": {"type": "string", "format": "date-time"},
        "updated_datetime": {"type": ["string", "null"], "format": "date-time"},
        "expected_datetime": {"type": ["string", "null"], "format": "date-time"},
        "address": _NULLABLE_STR,
        "address_id": _NULLABLE_STR,
        "zipcode": _NULLABLE_STR,
        "lat": {"type": ["number", "null"]},
        "long": {"type": ["number", "null"]},
        "media_url": _NULLABLE_STR,
        # extensions=true
        "detailed_status": {"type": "string"},
        "detailed_status_label": {"type": "string"},
        "channel": {"type": "string"},
        "notes": {"type": "array", "items": {
            "type": "object", "required": ["datetime", "type"],
            "properties": {"datetime": {"type": "string", "format": "date-time"},
                           "type": {"type": "string"}, "summary": _NULLABLE_STR}}},
    }
    return {
        "Errors": {"type": "array", "minItems": 1, "items": {
            "type": "object", "required": ["code", "description"],
            "properties": {"code": {"type": "integer"}, "description": {"type": "string"}}}},
        "Service": {"type": "object",
                    "required": ["service_code", "service_name", "metadata", "type"],
                    "properties": {
                        "service_code": {"type": "string"}, "service_name": {"type": "string"},
                        "description": {"type": "string"}, "metadata": {"type": "boolean"},
                        "type": {"type": "string", "enum": ["realtime", "batch", "blackbox"]},
                        "keywords": {"type": "string"}, "group": {"type": "string"}}},
        "ServiceDefinition": {"type": "object", "required": ["service_code", "attributes"],
                              "properties": {
                                  "service_code": {"type": "string"},
                                  "attributes": {"type": "array", "items": _ref("Attribute")}}},
        "Attribute": {"type": "object",
                      "required": ["variable", "code", "datatype", "required", "order",
                                   "description"],
                      "properties": {
                          "variable": {"type": "boolean"}, "code": {"type": "string"},
                          "datatype": {"type": "string", "enum": [
                              "string", "number", "datetime", "text", "singlevaluelist",
                              "multivaluelist"]},
                          "required": {"type": "boolean"},
                          "datatype_description": {"type": "string"},
                          "order": {"type": "integer"}, "description": {"type": "string"},
                          "values": {"type": "array", "items": {
                              "type": "object", "required": ["key", "name"],
                              "properties": {"key": {"type": "string"},
                                             "name": {"type": "string"}}}}}},
        "ServiceRequest": {"type": "object",
                           "required": ["service_request_id", "status", "requested_datetime"],
                           "properties": request_props},
        "PostResult": {"type": "array", "minItems": 1, "maxItems": 1, "items": {
            "type": "object", "required": ["service_request_id"],
            "properties": {"service_request_id": {"type": "string"},
                           "service_notice": _NULLABLE_STR, "account_id": _NULLABLE_STR}}},
        "Discovery": {"type": "object", "required": ["endpoints"], "properties": {
            "changeset": {"type": "string"}, "contact": {"type": "string"},
            "key_service": {"type": "string"},
            "endpoints": {"type": "array", "items": {"type": "object", "properties": {
                "specification": {"type": "string"}, "url": {"type": "string"},
                "changeset": {"type": "string"}, "type": {"type": "string"},
                "formats": {"type": "array", "items": {"type": "string"}}}}}}},
    }


def document() -> dict:
    """The OpenAPI 3.1 document for everything under /open311/v2/."""
    service_codes = list(db.session.scalars(select(Field.code).where(Field.active.is_(True))
                                            .order_by(Field.code)))
    code_schema = {"type": "string", "enum": service_codes} if service_codes else {"type": "string"}
    query = [
        {"name": "service_request_id", "in": "query", "schema": {"type": "string"},
         "description": "Mã phiếu, nhiều mã cách nhau bởi dấu phẩy (bỏ qua các tham số khác)."},
        {"name": "service_code", "in": "query", "schema": {"type": "string"}},
        {"name": "start_date", "in": "query", "schema": {"type": "string", "format": "date-time"}},
        {"name": "end_date", "in": "query", "schema": {"type": "string", "format": "date-time"}},
        {"name": "status", "in": "query", "schema": {"type": "string",
                                                     "enum": ["open", "closed", "open,closed"]}},
        {"name": "updated_after", "in": "query",
         "schema": {"type": "string", "format": "date-time"}},
        {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1,
                                                   "maximum": 100000}},
        {"name": "page_size", "in": "query", "schema": {"type": "integer", "minimum": 1,
                                                        "maximum": 1000}},
        {"name": "extensions", "in": "query", "schema": {"type": "string",
                                                         "enum": ["true", "false"]}},
    ]
    post_body = {
        "type": "object", "required": ["api_key", "service_code"],
        "properties": {
            "api_key": {"type": "string"}, "service_code": code_schema,
            "lat": {"type": "number", "minimum": -90, "maximum": 90},
            "long": {"type": "number", "minimum": -180, "maximum": 180},
            "address_string": {"type": "string", "maxLength": 400},
            "address_id": {"type": "string", "maxLength": 100},
            "email": {"type": "string"}, "device_id": {"type": "string", "maxLength": 100},
            "account_id": {"type": "string"}, "first_name": {"type": "string", "maxLength": 90},
            "last_name": {"type": "string", "maxLength": 90}, "phone": {"type": "string"},
            "description": {"type": "string", "maxLength": 4000},
            "media_url": {"type": "string"},
            "request_token": {"type": "string", "maxLength": 100,
                              "description": "Mở rộng: như Idempotency-Key (kèm device_id nếu "
                                             "có), làm POST lặp lại không tạo phiếu mới."},
        },
        "additionalProperties": {"type": "string"},
    }
    base = current_app.config["PUBLIC_URL"].rstrip("/") + "/open311/v2"
    return {
        "openapi": "3.1.0",
        "info": {"title": "Tổng đài 1022 — Open311 GeoReport v2", "version": "2",
                 "description": "GeoReport v2 (http://wiki.open311.org/GeoReport_v2) với các mở "
                                "rộng page/page_size, after, updated_after, extensions=true."},
        "servers": [{"url": base}],
        "paths": {
            "/discovery.{format}": {"get": {
                "operationId": "discovery", "parameters": [_FORMAT],
                "responses": _responses(_ref("Discovery"), errors=(404,))}},
            "/services.{format}": {"get": {
                "operationId": "listServices", "parameters": [_FORMAT],
                "responses": _responses({"type": "array", "items": _ref("Service")},
                                        errors=(404,))}},
            "/services/{service_code}.{format}": {"get": {
                "operationId": "serviceDefinition",
                "parameters": [{"name": "service_code", "in": "path", "required": True,
                                "schema": {"type": "string"}}, _FORMAT],
                "responses": _responses(_ref("ServiceDefinition"), errors=(400, 404))}},
            "/requests.{format}": {
                "get": {"operationId": "listRequests", "parameters": [_FORMAT, *query],
                        "responses": _responses({"type": "array", "items": _ref("ServiceRequest")},
                                                errors=(400, 404))},
                "post": {"operationId": "createRequest", "parameters": [_FORMAT, {
                    "name": "Idempotency-Key", "in": "header", "required": False,
                    "schema": {"type": "string", "maxLength": 255},
                    "description": "Mở rộng: POST lặp lại với cùng khoá (trong cùng api_key) "
                                   "trả về yêu cầu đã tạo, không tạo phiếu mới."}],
                         "requestBody": {"required": True, "content": {
                             "application/x-www-form-urlencoded": {"schema": post_body}}},
                         "responses": _responses(_ref("PostResult"), ok="201",
                                                 errors=(400, 403, 404),
                                                 description="Đã tạo phiếu")}},
            "/requests/{service_request_id}.{format}": {"get": {
                "operationId": "getRequest",
                "parameters": [{"name": "service_request_id", "in": "path", "required": True,
                                "schema": {"type": "string"}}, _FORMAT,
                               {"name": "extensions", "in": "query",
                                "schema": {"type": "string", "enum": ["true", "false"]}}],
                "responses": _responses({"type": "array", "items": _ref("ServiceRequest")},
                                        errors=(400, 404))}},
            "/tokens/{token}.{format}": {"get": {
                "operationId": "getToken",
                "parameters": [{"name": "token", "in": "path", "required": True,
                                "schema": {"type": "string"}}, _FORMAT],
                "responses": _responses(None, errors=(400, 404))}},
        },
        "components": {"schemas": _schemas()},
    }
