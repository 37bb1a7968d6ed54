"""Sending the two e-mails accounts need: the confirmation link and the password-reset link.

Standard-library SMTP in a worker thread (one message per event is all this sends, so no mail
library is needed); without ``INKDIGIT_SMTP_HOST`` the message is logged instead, so that a
local ``inkdigit serve`` can still be signed up to by copying the link from its log.
"""

from __future__ import annotations

import asyncio
import logging
import smtplib
import ssl
from collections.abc import Coroutine
from email.message import EmailMessage
from typing import Any

import anyio

from inkdigit.service.config import Settings

log = logging.getLogger("inkdigit.service.mail")


class Mailer:
    """Sends in the background: the request that caused a message is answered without waiting
    for the mail server, so an address with an account is answered as fast as one without (no
    enumeration by timing), and a slow server slows nobody's sign-up."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._pending: set[asyncio.Task[None]] = set()

    async def send(self, to: str, subject: str, body: str) -> None:
        """Queue one plain-text message; it is sent (or logged) by a task of its own."""
        task = asyncio.get_running_loop().create_task(self._send(to, subject, body))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    def spawn(self, work: Coroutine[Any, Any, None]) -> None:
        """Run ``work`` (which sends mail) after the request that asked for it has been answered."""
        task = asyncio.get_running_loop().create_task(self._logged(work))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    @staticmethod
    async def _logged(work: Coroutine[Any, Any, None]) -> None:
        try:
            await work
        except Exception:
            log.exception("an account e-mail's work failed")

    async def drain(self) -> None:
        """Wait for the messages still being sent (at shutdown)."""
        if self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)

    async def _send(self, to: str, subject: str, body: str) -> None:
        """Send one message, or log it when no mail server is configured.

        A mail server that fails is logged, never raised: the person asking must get the same
        answer whether or not their address has an account (no enumeration), and can ask again.
        """
        if not self.settings.smtp_host:
            log.warning("no SMTP server configured (INKDIGIT_SMTP_HOST): e-mail to %s not sent.\n"
                        "Subject: %s\n%s", to, subject, body)
            return
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = self.settings.smtp_from, to, subject
        message.set_content(body)
        try:
            await anyio.to_thread.run_sync(self._deliver, message)
        except (OSError, smtplib.SMTPException) as exc:
            log.error("sending e-mail to %s failed: %s", to, exc)

    def _deliver(self, message: EmailMessage) -> None:
        s = self.settings
        assert s.smtp_host is not None
        if s.smtp_security == "ssl":
            client: smtplib.SMTP = smtplib.SMTP_SSL(s.smtp_host, s.smtp_port, timeout=30,
                                                    context=ssl.create_default_context())
        else:
            client = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=30)
        with client:
            if s.smtp_security == "starttls":
                client.starttls(context=ssl.create_default_context())
            if s.smtp_username:
                client.login(s.smtp_username, s.smtp_password or "")
            client.send_message(message)
