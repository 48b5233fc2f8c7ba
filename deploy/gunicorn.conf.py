"""gunicorn settings for Hotline 1022 (``gunicorn -c deploy/gunicorn.conf.py``).

Every value can be overridden from the environment (GUNICORN_*), so the
systemd unit and this file stay generic. Metrics: with several workers,
prometheus_client needs ``PROMETHEUS_MULTIPROC_DIR`` set in the environment
*before* the app is imported (the systemd unit sets it) and an empty directory
at start; ``on_starting`` empties it and ``child_exit`` tells the client a
worker is gone, so its live gauges are dropped.
"""
import multiprocessing
import os
import shutil

wsgi_app = "hotline:create_app()"
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# Web requests are short and mostly wait on PostgreSQL: 2 × cores + 1 sync workers,
# each with a few threads so a slow upload does not hold a whole worker.
workers = int(os.environ.get("GUNICORN_WORKERS") or multiprocessing.cpu_count() * 2 + 1)
threads = int(os.environ.get("GUNICORN_THREADS") or 4)
worker_class = "gthread"
timeout = int(os.environ.get("GUNICORN_TIMEOUT") or 60)
graceful_timeout = 30
keepalive = 5
# Restart workers now and then: bounds the damage of any slow leak.
max_requests = 2000
max_requests_jitter = 200
# nginx sits in front on the same host; trust its X-Forwarded-* headers only from there.
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")
proxy_allow_ips = forwarded_allow_ips
# Access lines come from the app as JSON (hotline/logs.py); gunicorn logs errors only.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")
# Load the app once in the master: a configuration error (HOTLINE_ENV=production with
# an unsafe setting) stops the service at start instead of in every worker.
preload_app = True
limit_request_line = 8190
limit_request_field_size = 8190


def on_starting(server):
    path = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if path:
        shutil.rmtree(path, ignore_errors=True)
        os.makedirs(path, exist_ok=True)


def child_exit(server, worker):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess
        multiprocess.mark_process_dead(worker.pid)
