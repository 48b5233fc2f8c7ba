"""``flask --app hotline channels …``: the mail receivers and channel set-up helpers."""
from __future__ import annotations

import signal
import threading
import time

import click
from flask import current_app
from flask.cli import AppGroup

channels_cli = AppGroup("channels", help="Citizen channels: mail receivers, webhook set-up.")


@channels_cli.command("smtp-serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8025, show_default=True, type=int, help="Port to listen on.")
def smtp_serve(host: str, port: int) -> None:
    """Receive citizens' mail by SMTP for HOTLINE_MAIL_ADDRESSES (no relaying)."""
    from channels.mail_inbound import MailChannelDisabled, smtp_controller
    app = current_app._get_current_object()
    try:
        controller = smtp_controller(app, host, port)
    except MailChannelDisabled as exc:
        raise click.ClickException(str(exc)) from exc
    controller.start()
    click.echo(f"SMTP receiver on {host}:{port} for "
               f"{', '.join(sorted(controller.handler.addresses))}; Ctrl-C stops it.")
    stop = threading.Event()
    # systemd stops services with SIGTERM: finish cleanly, as on Ctrl-C.
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()


@channels_cli.command("imap-poll")
@click.option("--every", default=0, show_default=True, type=int,
              help="Poll again every N seconds (0: one pass, for cron).")
def imap_poll(every: int) -> None:
    """Take new mail from the IMAP mailbox (IMAP_*), flagging what was stored."""
    from channels.mail_inbound import MailChannelDisabled, poll_imap
    app = current_app._get_current_object()
    while True:
        try:
            click.echo(poll_imap(app).describe())
        except MailChannelDisabled as exc:
            raise click.ClickException(str(exc)) from exc
        if every <= 0:
            return
        time.sleep(every)


@channels_cli.command("status")
def status() -> None:
    """Which channels are enabled, and which settings the others lack."""
    from channels.webhooks import channel_status
    for row in channel_status(current_app.config):
        state = ("enabled" if row["enabled"]
                 else "DISABLED (missing " + ", ".join(row["missing"]) + ")")
        click.echo(f"{row['channel']:<14} {state}")


@channels_cli.command("telegram-set-webhook")
@click.argument("url")
def telegram_set_webhook(url: str) -> None:
    """Register URL (https://…/channels/telegram/webhook) with Telegram, with the secret token."""
    from channels.base import DeliveryError
    from channels.telegram import TelegramAdapter
    if not TelegramAdapter.configured(current_app.config):
        raise click.ClickException("Telegram is disabled: set TELEGRAM_BOT_TOKEN and "
                                   "TELEGRAM_WEBHOOK_SECRET first.")
    try:
        TelegramAdapter(current_app.config).set_webhook(url)
    except DeliveryError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Telegram will deliver updates to {url}.")
