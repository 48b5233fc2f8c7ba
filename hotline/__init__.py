"""Hotline 1022 — the citizen hotline platform. ``create_app`` is the only entry point."""
from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any

from flask import Flask

from hotline import config as config_mod

PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
PROJECT_DIR = os.path.dirname(PACKAGE_DIR)

log = logging.getLogger(__name__)


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: defaults → environment → ``config`` → extensions → blueprints → CLI.

    No database or network work happens here; the schema comes from
    ``flask --app hotline db upgrade``.
    """
    app = Flask(
        __name__,
        template_folder=_resource_dir("templates"),
        static_folder=os.path.join(PACKAGE_DIR, "static"),
        instance_relative_config=True,
    )
    app.config.update(config_mod.defaults(app.instance_path))
    app.config.update(config_mod.from_environ(os.environ))
    if config:
        app.config.update(config)
    app.config["SQLALCHEMY_DATABASE_URI"] = config_mod.normalize_db_url(
        app.config["SQLALCHEMY_DATABASE_URI"])
    config_mod.check(app.config)
    os.makedirs(app.instance_path, exist_ok=True)

    _init_extensions(app)
    _register_blueprints(app)
    from hotline import cli
    cli.init_app(app)
    return app


def _resource_dir(name: str) -> str:
    """templates/ and migrations/ sit beside the package in a checkout."""
    return os.path.join(PROJECT_DIR, name)


def _init_extensions(app: Flask) -> None:
    from hotline import database
    from hotline.extensions import babel, csrf, db, limiter, login_manager, migrate

    db.init_app(app)
    database.init_app(app)
    migrate.init_app(app, db, directory=_resource_dir("migrations"))
    csrf.init_app(app)
    from hotline.web import filters
    babel.init_app(app, locale_selector=filters.select_locale,
                   default_translation_directories=os.path.join(PACKAGE_DIR, "translations"))
    filters.init_app(app)
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config.get("REDIS_URL") or "memory://")
    if app.config.get("REDIS_URL"):
        # A Redis that stops answering must cost a request a second at most: then the
        # limiter counts in this process's memory (logged) until Redis is back.
        app.config.setdefault("RATELIMIT_STORAGE_OPTIONS",
                              {"socket_connect_timeout": 1, "socket_timeout": 1})
    limiter.init_app(app)
    login_manager.init_app(app)
    import hotline.auth  # the user loader
    hotline.auth.init_app(app)
    import hotline.models  # noqa: F401 - register the tables on the metadata

    from workers import periodic, queue
    queue.init_app(app)
    periodic.init_app(app)


def _register_blueprints(app: Flask) -> None:
    from hotline.web import auth_views, errors, health, hygiene

    hygiene.init_app(app)  # first: its int converter must exist before any rule is added

    app.register_blueprint(health.bp)
    app.register_blueprint(auth_views.bp)
    _register_staff_console(app)
    _register_reports(app)
    _register_public(app)
    _register_operations(app)
    _register_maps(app)
    errors.init_app(app)
    from channels import webhooks
    webhooks.init_app(app)


def _register_public(app: Flask) -> None:
    """Citizens' pages, the publication moderation queue and Open311."""
    from hotline.web import moderation, open311, privacy_notice, public

    app.register_blueprint(public.bp)
    app.register_blueprint(privacy_notice.bp)
    app.register_blueprint(moderation.bp)
    app.register_blueprint(open311.bp)


def _register_maps(app: Flask) -> None:
    """Maps of published reports and hot spots; the ward under a point."""
    from hotline.web import maps

    app.register_blueprint(maps.bp)
    app.register_blueprint(maps.staff)


def _register_operations(app: Flask) -> None:
    """Administration, privacy, bulk actions, security headers, request logs, metrics."""
    from hotline import logs, metrics
    from hotline.web import admin, bulk, privacy, security

    app.register_blueprint(admin.bp)
    app.register_blueprint(bulk.bp)
    app.register_blueprint(privacy.bp)
    security.init_app(app)
    logs.init_app(app)
    metrics.init_app(app)


def _register_staff_console(app: Flask) -> None:
    """Operator console, agency inbox and the PBX call-event webhook."""
    from channels import pbx
    from hotline.extensions import csrf
    from hotline.web import agency, operator

    app.register_blueprint(operator.bp)
    app.register_blueprint(agency.bp)
    csrf.exempt(pbx.bp)  # signed with the shared secret instead
    app.register_blueprint(pbx.bp)


def _register_reports(app: Flask) -> None:
    """Managers' and the IOC's reports and the IOC JSON feed."""
    from hotline.web import ioc_api, manager

    app.register_blueprint(manager.bp)
    app.register_blueprint(ioc_api.bp)
