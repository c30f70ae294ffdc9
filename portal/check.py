"""`portal check`: the settings, then the database, the broker and the mail server, reached as the service will.

One line each, `name: ok (…)` or `name: FAILED: what to fix`; the command exits non-zero if any failed.
Each probe is bounded by a timeout, so that an unreachable host fails the check rather than hang it.
"""
import asyncio
import functools
import os
import tempfile
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

import aiosmtplib
from broadcaster import Broadcast
from sqlalchemy import text

from portal.core.database import create_engine
from portal.core.settings import Settings
from portal.notifications.delivery import SmtpDelivery

TIMEOUT_SECONDS = 5.0


def _reason(error: BaseException) -> str:
    if isinstance(error, TimeoutError):
        return f"no answer within {TIMEOUT_SECONDS:.0f} s"
    message = str(error).splitlines()[0] if str(error) else ""
    return f"{type(error).__name__}: {message}" if message else type(error).__name__


def _shown(url: str) -> str:
    """A URL as printed: scheme, host, port and path, never a user name or password."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    return f"{parts.scheme}://{host}{f':{parts.port}' if parts.port else ''}{parts.path}"


async def check_database(settings: Settings) -> str:
    engine = create_engine(settings.database_url)
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
            revision = (await connection.execute(text("SELECT version_num FROM alembic_version"))).scalar()
    finally:
        await engine.dispose()
    return f"{_shown(settings.database_url)}, schema revision {revision}"


async def check_broker(settings: Settings) -> str:
    url = settings.broadcast_url
    if url.startswith("memory://"):
        return "memory://, for one process only: use redis:// or postgres:// with several workers or hosts"
    broadcast = Broadcast(url)
    await broadcast.connect()
    try:
        await broadcast.publish(channel="portal-check", message="ping")
    finally:
        await broadcast.disconnect()
    return _shown(url)


async def check_mail(settings: Settings) -> str:
    if not settings.smtp_url:
        return await asyncio.to_thread(_check_mail_dir, settings.mail_dir)
    options = SmtpDelivery(settings.smtp_url).options
    client = aiosmtplib.SMTP(hostname=options["hostname"], port=options["port"], use_tls=options["use_tls"],
                             start_tls=options["start_tls"], timeout=TIMEOUT_SECONDS)
    await client.connect()
    try:
        if options["username"] and options["password"]:
            await client.login(options["username"], options["password"])
        await client.noop()
    finally:
        client.close()
    return _shown(settings.smtp_url)


def _check_mail_dir(mail_dir: str) -> str:
    """Without SMTP, emails are files: the folder must be one this process can write in."""
    os.makedirs(mail_dir, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=mail_dir, prefix=".check-"):
        pass
    return f"no PORTAL_SMTP_URL: emails are written to {os.path.abspath(mail_dir)}"


async def _line(name: str, probe: Callable[[], Awaitable[str]]) -> tuple[str, bool]:
    try:
        return f"{name}: ok ({await asyncio.wait_for(probe(), TIMEOUT_SECONDS)})", True
    except Exception as error:
        return f"{name}: FAILED: {_reason(error)}", False


async def run_checks(settings: Settings) -> tuple[list[str], bool]:
    """The lines to print, and whether any check failed. The settings were read already (or `portal` stopped)."""
    lines = [f"settings: ok (database {urlsplit(settings.database_url).scheme}, broker "
             f"{urlsplit(settings.broadcast_url).scheme}, logs {settings.log_format})"]
    failed = False
    for name, probe in (("database", check_database), ("broker", check_broker), ("mail", check_mail)):
        line, passed = await _line(name, functools.partial(probe, settings))
        lines.append(line)
        failed = failed or not passed
    return lines, failed
