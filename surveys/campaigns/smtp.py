"""SMTP for campaigns: a courier that pipelines prepared messages over one connection, the DATA framing, and what
a server's refusal means for delivery (temporary or permanent, in the server's words)."""

from __future__ import annotations

import re
import smtplib

from django.core.mail.backends.smtp import EmailBackend as SMTPBackend


class Courier:
    """Hands prepared messages to an SMTP server over one open connection, as smtplib's sendmail does but for plain
    addresses already checked (it parses both again for every message).

    When the server offers RFC 2920 pipelining, MAIL, RCPT and DATA go in one write, and the server's reply to a
    message's end of data is read only with the next message's envelope: the end of data opens the next group.
    The caller prepares the next message while the server is still taking in the last one, and each message costs
    one network round trip instead of four. Refusals are recorded in `outcomes` as (key, error) — error None when
    the server took the message; a dropped connection raises, leaving `pending` (a key, or None) unsettled.
    """

    def __init__(self, smtp: smtplib.SMTP) -> None:
        self.smtp = smtp
        smtp.ehlo_or_helo_if_needed()
        self.pipelining = smtp.has_extn("pipelining")
        self.pending: int | None = None
        self.outcomes: list[tuple[int, smtplib.SMTPException | None]] = []

    def send(self, key: int, sender: str, recipient: str, data: bytes) -> None:
        commands = [f"MAIL FROM:<{sender}>", f"RCPT TO:<{recipient}>", "DATA"]
        if self.pipelining:
            self.smtp.send("".join(f"{command}\r\n" for command in commands))
            self.finish()
            replies = [self.smtp.getreply() for _command in commands]
        else:
            replies = []
            for command in commands:
                self.smtp.putcmd(command)
                replies.append(self.smtp.getreply())
                if replies[-1][0] not in (250, 251, 354):
                    break
        refusal = self._refusal(replies, sender, recipient)
        if refusal is not None:
            self.outcomes.append((key, refusal))
            return
        self.smtp.send(smtp_data(data))
        self.pending = key
        if not self.pipelining:
            self.finish()

    def finish(self) -> None:
        """Read the reply to the message still waiting for one."""
        if self.pending is None:
            return
        code, reply = self.smtp.getreply()
        key, self.pending = self.pending, None
        self.outcomes.append((key, None if code == 250 else smtplib.SMTPDataError(code, reply)))

    def settled(self) -> list[tuple[int, smtplib.SMTPException | None]]:
        outcomes, self.outcomes = self.outcomes, []
        return outcomes

    def _refusal(self, replies: list[tuple[int, bytes]], sender: str, recipient: str) -> smtplib.SMTPException | None:
        (mail_code, mail_reply), *rest = replies
        # A pipelined DATA that the server accepted after refusing MAIL or RCPT must be ended before RSET.
        accepted_data = len(replies) == 3 and replies[2][0] == 354
        if mail_code != 250:
            self._reset(accepted_data)
            return smtplib.SMTPSenderRefused(mail_code, mail_reply, sender)
        if rest[0][0] not in (250, 251):
            self._reset(accepted_data)
            return smtplib.SMTPRecipientsRefused({recipient: rest[0]})
        if rest[1][0] != 354:
            self._reset(False)
            return smtplib.SMTPDataError(*rest[1])
        return None

    def _reset(self, end_data: bool) -> None:
        if end_data:
            self.smtp.send(b".\r\n")
            self.smtp.getreply()
        self.smtp.rset()


def courier_for(connection) -> Courier | None:  # type: ignore[no-untyped-def]
    """A courier for an open SMTP backend connection; None for the file and test backends."""
    if isinstance(connection, SMTPBackend) and connection.connection:
        return Courier(connection.connection)
    return None


_LINE_END = re.compile(rb"\r\n|\r|\n")
_DOT_AT_LINE_START = re.compile(rb"^\.", re.MULTILINE)


def smtp_data(data: bytes) -> bytes:
    """A message as the DATA of an SMTP transaction, ended: RFC 5321 2.3.8 and 4.5.2.

    Every line end becomes CRLF (a bare CR or LF is how "end of data" is smuggled past one server and not another),
    every line that starts with a dot gets a second one, and the message ends with CRLF "." CRLF. After the first
    pass every line ends in CRLF, so the multiline ^ of the second marks exactly the starts of lines."""
    data = _LINE_END.sub(b"\r\n", data)
    data = _DOT_AT_LINE_START.sub(b"..", data)
    return data + (b"" if data.endswith(b"\r\n") else b"\r\n") + b".\r\n"


# --- What an SMTP failure means for delivery (delivery.py's state machine) --------------------------------------------


def smtp_temporary(error: BaseException) -> bool:
    """A refusal worth trying again later: a 4xx reply (RFC 5321 §4.2.1), a refused or dropped connection, a
    timeout. A 5xx reply is permanent."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _reply in error.recipients.values()]
        return bool(codes) and all(400 <= code < 500 for code in codes)
    if isinstance(error, smtplib.SMTPResponseException):
        return 400 <= error.smtp_code < 500
    return isinstance(error, (smtplib.SMTPServerDisconnected, OSError))


def smtp_words(error: BaseException) -> str:
    """The server's words, as a person reads them ("451 4.3.0 Try again later"), not a Python repr."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        replies = list(error.recipients.values())
        if replies:
            code, reply = replies[0]
            return _reply_text(code, reply)
    if isinstance(error, smtplib.SMTPResponseException):
        return _reply_text(error.smtp_code, error.smtp_error)
    # No reply to quote: a key that the campaign page shows in the reader's language (campaigns.reason_text).
    if isinstance(error, TimeoutError):
        return SMTP_TIMEOUT
    if isinstance(error, ConnectionRefusedError):
        return SMTP_REFUSED
    if isinstance(error, smtplib.SMTPServerDisconnected):
        return SMTP_CLOSED
    return f"{type(error).__name__}: {error}"[:300]


SMTP_TIMEOUT, SMTP_REFUSED, SMTP_CLOSED = "smtp-timeout", "smtp-refused", "smtp-closed"


def _reply_text(code: int, reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    return f"{code} {' '.join(text.split())}"[:300]
