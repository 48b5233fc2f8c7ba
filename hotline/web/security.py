"""Security headers on every response, and production cookie settings.

The Content-Security-Policy allows scripts and styles only from our own origin
(no inline code, no CDN) and refuses framing; HSTS is sent only in production,
where TLS is guaranteed by nginx (deploy/nginx-hotline.conf). Staff pages and a
citizen's status pages carry ``Cache-Control: no-store`` (personal data must not
stay in a shared computer's cache or a proxy), unless the view chose its own.
"""
from __future__ import annotations

from flask import Flask, Response
from flask.sessions import SecureCookieSessionInterface

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
       "form-action 'self'; frame-ancestors 'none'")
HSTS = "max-age=31536000; includeSubDomains"
# Paths whose pages hold personal data: every staff area, sign-in, and the status pages.
NO_STORE_PREFIXES = ("/operator", "/agency", "/manager", "/admin", "/personal-data", "/bulk",
                     "/login", "/logout", "/account", "/staff", "/status",
                     "/api/ioc")


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

    defaults = [("Content-Security-Policy", csp_for(app.config.get("MAP_TILE_URL"))),
                ("X-Frame-Options", "DENY"),
                ("X-Content-Type-Options", "nosniff"),
                ("Referrer-Policy", "strict-origin-when-cross-origin"),
                ("Permissions-Policy", "camera=(), microphone=(), geolocation=(self)"),
                ("Cross-Origin-Opener-Policy", "same-origin")]
    if production:
        defaults.append(("Strict-Transport-Security", HSTS))
    app.wsgi_app = SecurityHeaders(app.wsgi_app, defaults, no_store=NO_STORE_PREFIXES)


def csp_for(tile_url: str | None) -> str:
    """The policy, with the map tile server's origin (and only it) allowed as images."""
    if not tile_url:
        return CSP
    from urllib.parse import urlsplit
    parts = urlsplit(tile_url)
    if parts.scheme not in ("https", "http") or not parts.netloc:
        return CSP
    origin = f"{parts.scheme}://{parts.netloc.replace('{s}', '*')}"
    return CSP.replace("img-src 'self' data:", f"img-src 'self' data: {origin}")


class SecurityHeaders:
    """WSGI middleware adding each default header a response does not carry already (a
    view may set its own: a page that may be framed, say).

    Added to the finished header list, they skip werkzeug's per-header checks and copy,
    which cost an intake request a fortieth of its CPU as an ``after_request`` hook.
    """

    def __init__(self, wsgi_app, headers: list[tuple[str, str]],
                 no_store: tuple[str, ...] = ()):
        self.wsgi_app = wsgi_app
        self.headers = [(name.lower(), (name, value)) for name, value in headers]
        self.private = [*self.headers, ("cache-control", ("Cache-Control", "no-store"))]
        self.no_store = no_store

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO") or ""
        defaults = self.private if self.no_store and path.startswith(self.no_store) \
            else self.headers

        def start(status, headers, exc_info=None):
            have = {name.lower() for name, _ in headers}
            headers.extend(header for lower, header in defaults if lower not in have)
            return start_response(status, headers, exc_info)
        return self.wsgi_app(environ, start)
