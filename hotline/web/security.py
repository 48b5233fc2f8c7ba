"""Security headers on every response, and production cookie settings.

The Content-Security-Policy allows scripts and styles only from our own origin
(no inline code, no CDN) and refuses framing; HSTS is sent only in production,
where TLS is guaranteed by nginx (deploy/nginx-hotline.conf).
"""
from __future__ import annotations

from flask import Flask, Response
from flask.sessions import SecureCookieSessionInterface

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
       "form-action 'self'; frame-ancestors 'none'")
HSTS = "max-age=31536000; includeSubDomains"


class CookieSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie session, its serializer built once per set of keys instead of
    on every request (it was a sixtieth of an intake request's CPU)."""

    _cached: tuple | None = None

    def get_signing_serializer(self, app: Flask):
        keys = (app.secret_key, tuple(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        cached = self._cached
        if cached is None or cached[0] != keys:  # a rotated key makes a new one
            cached = self._cached = (keys, super().get_signing_serializer(app))
        return cached[1]

    def save_session(self, app: Flask, session, response: Response) -> None:
        # An API call or a webhook has an empty session nobody changed: nothing to set or
        # delete, so skip reading the seven cookie settings Flask reads first.
        if not session and not session.modified:
            if session.accessed:
                response.vary.add("Cookie")
            return
        super().save_session(app, session, response)


def init_app(app: Flask) -> None:
    app.session_interface = CookieSessions()
    production = app.config.get("HOTLINE_ENV") == "production"
    if production:
        app.config["SESSION_COOKIE_SECURE"] = True
        app.config.setdefault("REMEMBER_COOKIE_SECURE", True)
    app.config.setdefault("MAX_CONTENT_LENGTH", int(app.config.get("MAX_UPLOAD_MB", 30)) << 20)
    proxies = int(app.config.get("PROXY_COUNT") or 0)
    if proxies:
        # Behind nginx: the client's address (audit log, rate limits) and https come from
        # X-Forwarded-For / -Proto, trusted only for the configured number of hops.
        from werkzeug.middleware.proxy_fix import ProxyFix
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=0)

    defaults = [("Content-Security-Policy", CSP), ("X-Frame-Options", "DENY"),
                ("X-Content-Type-Options", "nosniff"),
                ("Referrer-Policy", "strict-origin-when-cross-origin"),
                ("Permissions-Policy", "camera=(), microphone=(), geolocation=(self)"),
                ("Cross-Origin-Opener-Policy", "same-origin")]
    if production:
        defaults.append(("Strict-Transport-Security", HSTS))

    @app.after_request
    def _headers(response: Response) -> Response:
        # One pass over the response's headers: a view may have set its own (a page that
        # may be framed, say); Headers.setdefault per name costs a scan and a KeyError each.
        have = {name.lower() for name, _ in response.headers.items()}
        for name, value in defaults:
            if name.lower() not in have:
                response.headers.add(name, value)
        return response
