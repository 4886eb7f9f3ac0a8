"""Campaigns: a survey sent to an audience, in chunks over reused SMTP connections, with throttling, reminders and
expiry.

- `audience`: who a campaign reaches, and why the others are skipped;
- `lifecycle`: create, build, start, cancel, and the funnel;
- `delivery`: the delivery state machine (dispatcher, chunks, leases, backoff), reminders and expiry;
- `mailing`, `messages`, `smtp`: one email, the rendered templates, and the SMTP courier and its refusals;
- `testsend`: a test email to the quality manager.

The names below are the package's services, for views, tasks, commands and tests; the modules hold the rest."""

from surveys.campaigns.audience import audience, campaign_audience_preview
from surveys.campaigns.delivery import (
    CHUNK,
    UNDELIVERED,
    WORKER_STOPPED,
    expire_invitations,
    invitations_dispatch,
    reminders_due,
    request_dispatch,
    send_chunk,
    send_reminders,
)
from surveys.campaigns.lifecycle import (
    campaign_build,
    campaign_cancel,
    campaign_create,
    campaign_start,
    campaigns_start_due,
    funnel,
    reason_text,
)
from surveys.campaigns.mailing import invitation_email_send, retry_delay

__all__ = [
    "CHUNK",
    "UNDELIVERED",
    "WORKER_STOPPED",
    "audience",
    "campaign_audience_preview",
    "campaign_build",
    "campaign_cancel",
    "campaign_create",
    "campaign_start",
    "campaigns_start_due",
    "expire_invitations",
    "funnel",
    "invitation_email_send",
    "invitations_dispatch",
    "reason_text",
    "reminders_due",
    "request_dispatch",
    "retry_delay",
    "send_chunk",
    "send_reminders",
]
