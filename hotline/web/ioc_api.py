"""``GET /api/ioc/summary``: the headline figures as JSON for the province's IOC wall.

Authenticated with an API key that has the ``ioc:read`` scope (header
``X-API-Key`` or ``api_key`` parameter; keys are made with ``flask create-api-key
NAME --scope ioc:read`` or on the admin page). Without such a key: 403 with a JSON
error, nothing computed — an Open311 client's key does not open the IOC feed.
"""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

from hotline.models import ApiScope
from hotline.services import accounts
from hotline.services.reports import ioc
from hotline.tx import commit

bp = Blueprint("ioc_api", __name__, url_prefix="/api/ioc")


@bp.get("/summary")
def summary():
    key = request.headers.get("X-API-Key") or request.args.get("api_key")
    client = accounts.verify_api_key(key)
    if client is None:
        return jsonify(error={"code": 403, "message": "Thiếu hoặc sai khóa API (X-API-Key)."}), 403
    if not client.may(ApiScope.IOC_READ):
        return jsonify(error={"code": 403, "message": "Khóa API không có phạm vi ioc:read."}), 403
    data = ioc.summary()
    data["province"] = current_app.config.get("PROVINCE_NAME")
    commit()  # the key's last use, and the working-day table if it was rebuilt
    response = jsonify(data)
    response.headers["Cache-Control"] = "no-store"
    return response
