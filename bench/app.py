"""The hotline app as the HTTP benchmark serves it: the production code with the
per-IP rate limits and form CSRF tokens off (a load driver on one address would
otherwise be throttled by design)."""
from hotline import create_app as _create_app


def create_app():
    return _create_app({"RATELIMIT_ENABLED": False, "WTF_CSRF_ENABLED": False})
