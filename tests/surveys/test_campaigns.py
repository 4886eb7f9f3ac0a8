import re
import smtplib
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.core.mail.backends import locmem
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from surveys import campaigns
from surveys.models import Campaign, Invitation
from tests.factories import CustomerFactory, make_invitation, make_survey, quality_manager

pytestmark = pytest.mark.django_db
S = Invitation.Status


class CountingBackend(locmem.EmailBackend):
    opened = 0

    def open(self):  # type: ignore[no-untyped-def]
        CountingBackend.opened += 1
        return super().open()


@pytest.fixture
def survey():
    return make_survey(kind="nps")


def new_campaign(survey, **kwargs):
    return campaigns.campaign_create(survey=survey, created_by=survey.owner, name="Q4", **kwargs)


def test_every_skip_reason_and_throttling_across_surveys(survey, settings):
    settings.INVITATION_THROTTLE_DAYS = 90
    ok = CustomerFactory(email="ok@example.com", segment="retail")
    CustomerFactory(email="out@example.com", segment="retail", opted_out_at=timezone.now())
    CustomerFactory(email="", segment="retail")
    CustomerFactory(email="bad@", segment="retail")
    asked = CustomerFactory(email="asked@example.com", segment="retail")
    dup = CustomerFactory(email="dup@example.com", segment="retail")
    CustomerFactory(email="other@example.com", segment="sme")
    make_invitation(survey=make_survey(kind="csat"), customer=asked)  # another survey, last week
    make_invitation(survey=survey, customer=dup)
    campaign = new_campaign(survey, segment="retail")
    assert campaigns.campaign_build(campaign=campaign) == 6
    got = {i.customer.email: (i.status, i.status_reason) for i in campaign.invitations.select_related("customer")}
    assert got == {
        "ok@example.com": (S.QUEUED, ""),
        "out@example.com": (S.SKIPPED, "opted_out"),
        "": (S.SKIPPED, "invalid_address"),
        "bad@": (S.SKIPPED, "invalid_address"),
        "asked@example.com": (S.SKIPPED, "throttled"),
        "dup@example.com": (S.SKIPPED, "duplicate"),
    }
    assert campaigns.campaign_build(campaign=campaign) == 0  # idempotent
    assert ok.invitations.count() == 1


def test_sending_uses_one_connection_per_chunk_and_never_sends_twice(
    survey, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "tests.surveys.test_campaigns.CountingBackend"
    CountingBackend.opened = 0
    for i in range(5):
        CustomerFactory(email=f"c{i}@example.com")
    campaign = new_campaign(survey)
    with django_capture_on_commit_callbacks(execute=True):
        campaigns.campaign_start(campaign=campaign)  # the chunk is handed over on commit (eager here)
    ids = list(campaign.invitations.values_list("id", flat=True))
    campaign.refresh_from_db()
    assert len(mail.outbox) == 5 and CountingBackend.opened == 1
    assert campaigns.send_chunk(ids) == {"already-sent": 5}  # a re-run sends nothing
    assert len(mail.outbox) == 5
    assert campaign.status == Campaign.Status.SENT
    assert set(campaign.invitations.values_list("status", flat=True)) == {S.SENT}


def test_a_refused_message_is_recorded_as_failed(survey, monkeypatch):
    CustomerFactory(email="c@example.com")
    campaign = new_campaign(survey)
    campaigns.campaign_build(campaign=campaign)

    def refuse(self, messages):  # type: ignore[no-untyped-def]
        raise smtplib.SMTPRecipientsRefused({"c@example.com": (550, b"5.1.1 mailbox unavailable")})

    monkeypatch.setattr(locmem.EmailBackend, "send_messages", refuse)
    assert campaigns.send_chunk(list(campaign.invitations.values_list("id", flat=True))) == {"failed": 1}
    invitation = campaign.invitations.get()
    assert invitation.status == S.FAILED and "550" in invitation.status_reason


def test_reminders_respect_the_wait_and_the_limit_and_carry_the_same_link(survey, django_capture_on_commit_callbacks):
    CustomerFactory(email="r@example.com")
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        campaign = new_campaign(survey, remind_after_days=3, max_reminders=2, expiry_days=30)
        with django_capture_on_commit_callbacks(execute=True):
            campaigns.campaign_start(campaign=campaign)
    assert len(mail.outbox) == 1
    with time_machine.travel(start + timedelta(days=2), tick=False):
        assert campaigns.send_reminders() == 0
    with time_machine.travel(start + timedelta(days=3, hours=1), tick=False):
        due = campaigns.reminders_due()
        assert campaigns.send_reminders() == 1
        # Two beat runs that both saw it due: the second finds it reminded already, under the row lock.
        assert campaigns.send_chunk(due, reminder=True) == {"not-due": 1}
    with time_machine.travel(start + timedelta(days=7), tick=False):
        assert campaigns.send_reminders() == 1
    with time_machine.travel(start + timedelta(days=20), tick=False):
        assert campaigns.send_reminders() == 0  # the limit of two is reached
    assert len(mail.outbox) == 3
    links = {line for m in mail.outbox for line in m.body.splitlines() if "/s/" in line and "score" not in line}
    assert len(links) == 1 and "Nhắc lại" in mail.outbox[1].subject


def test_answered_and_opted_out_customers_get_no_reminder(survey, django_capture_on_commit_callbacks):
    answered, leaving = CustomerFactory(email="a@example.com"), CustomerFactory(email="b@example.com")
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        campaign = new_campaign(survey, remind_after_days=1, max_reminders=3)
        with django_capture_on_commit_callbacks(execute=True):
            campaigns.campaign_start(campaign=campaign)
    token_line = next(
        line
        for m in mail.outbox
        if m.to == [answered.email]
        for line in m.body.splitlines()
        if "/s/" in line and "score" not in line
    )
    qid = survey.current_version.questions.order_by("position").first().pk
    Client().post(token_line.replace("http://127.0.0.1:8000", ""), {f"q{qid}": "9"})
    leaving.opted_out_at = timezone.now()
    leaving.save()
    with time_machine.travel(start + timedelta(days=2), tick=False):
        assert campaigns.send_reminders() == 0
    assert campaign.invitations.get(customer=answered).status == S.ANSWERED


def test_expiry_and_scheduled_start_are_safe_to_run_twice(survey, django_capture_on_commit_callbacks):
    CustomerFactory(email="x@example.com")
    later = timezone.now() + timedelta(hours=2)
    campaign = new_campaign(survey, send_at=later, expiry_days=1)
    assert campaigns.campaigns_start_due() == 0
    with time_machine.travel(later + timedelta(minutes=1), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            assert campaigns.campaigns_start_due() == 1
        assert campaigns.campaigns_start_due() == 0
    assert len(mail.outbox) == 1
    with time_machine.travel(later + timedelta(days=2), tick=False):
        assert campaigns.expire_invitations() == 1
        assert campaigns.expire_invitations() == 0
    assert campaign.invitations.get().status == S.EXPIRED


def _preview_key(page) -> str:
    assert page.status_code == 200
    return re.search(r'name="audience_key" value="([0-9a-f]+)"', page.content.decode()).group(1)


def test_the_audience_is_shown_and_confirmed_before_anything_is_sent(
    qm_client, qm, settings, django_capture_on_commit_callbacks
):
    settings.INVITATION_THROTTLE_DAYS = 90
    survey = make_survey(kind="nps", owner=qm)
    CustomerFactory(email="a@example.com", segment="retail")
    CustomerFactory(email="b@example.com", segment="retail")
    CustomerFactory(email="", segment="retail")
    CustomerFactory(email="out@example.com", segment="retail", opted_out_at=timezone.now())
    CustomerFactory(email="sme@example.com", segment="sme")
    url = reverse("campaign_new", args=[survey.pk])
    form = {"name": "Retail", "segment": "retail", "expiry_days": "30", "max_reminders": "1"}
    page = qm_client.post(url, form)
    html = page.content.decode()
    assert "4 khách hàng phù hợp." in html and "2 người sẽ được mời." in html
    assert "Không có địa chỉ email hợp lệ: 1" in html and "Từ chối nhận khảo sát: 1" in html
    assert "Xác nhận: gửi cho 2 khách hàng" in html
    assert Campaign.objects.count() == 0 and Invitation.objects.count() == 0 and not mail.outbox
    key = _preview_key(page)
    # Confirming without the preview's key, or after the filters changed, shows the audience again.
    for data in ({**form, "action": "send"}, {**form, "segment": "", "action": "send", "audience_key": key}):
        again = qm_client.post(url, data)
        assert again.status_code == 200 and "hãy kiểm tra lại" in again.content.decode()
    assert Campaign.objects.count() == 0
    unfiltered = qm_client.post(url, {**form, "segment": ""}).content.decode()
    assert "Chưa đặt bộ lọc nào: mọi khách hàng đều thuộc đối tượng gửi." in unfiltered
    assert "5 khách hàng phù hợp." in unfiltered
    with django_capture_on_commit_callbacks(execute=True):
        done = qm_client.post(url, {**form, "action": "send", "audience_key": key})
    campaign = Campaign.objects.get()
    assert done["Location"] == reverse("campaign_detail", args=[campaign.pk])
    assert campaign.invitations.filter(status=S.SENT).count() == 2
    assert sorted(m.to[0] for m in mail.outbox) == ["a@example.com", "b@example.com"]


def test_a_large_audience_is_counted_with_thousands_grouped(qm_client, qm):
    # The confirmation a quality manager reads before sending: "1.500 khách hàng phù hợp", not "1500".
    from customers.models import Customer

    survey = make_survey(kind="nps", owner=qm)
    Customer.objects.bulk_create(Customer(name=f"Khách {i}", email=f"k{i}@example.com") for i in range(1500))
    Customer.objects.bulk_create(Customer(name=f"Không email {i}", email="") for i in range(1000))
    page = qm_client.post(
        reverse("campaign_new", args=[survey.pk]), {"name": "Tất cả", "expiry_days": "30", "max_reminders": "1"}
    )
    html = page.content.decode()
    assert "2.500 khách hàng phù hợp." in html and "1.500 người sẽ được mời." in html
    assert "Không có địa chỉ email hợp lệ: 1.000" in html and "Xác nhận: gửi cho 1.500 khách hàng" in html


def test_with_no_customers_yet_the_audience_says_to_add_them_not_to_change_the_filters(qm_client, qm):
    # A new installation: the first survey is ready, no customer is in the system. "Change the filters" (none is
    # set) sent the quality manager nowhere; the page now points to the import and the customer form.
    survey = make_survey(kind="nps", owner=qm)
    form = {"name": "Đợt đầu", "expiry_days": "30", "max_reminders": "1"}
    html = qm_client.post(reverse("campaign_new", args=[survey.pk]), form).content.decode()
    assert "Chưa có khách hàng nào để gửi" in html
    assert f'href="{reverse("customer_import")}"' in html and f'href="{reverse("customer_create")}"' in html
    assert "hãy đổi bộ lọc" not in html and "mọi khách hàng đều thuộc đối tượng gửi" not in html
    assert Campaign.objects.count() == 0
    # With customers, none of them matching a filter, the advice is still to change the filters.
    CustomerFactory(email="a@example.com", segment="retail")
    html = qm_client.post(reverse("campaign_new", args=[survey.pk]), {**form, "segment": "sme"}).content.decode()
    assert "hãy đổi bộ lọc" in html and "Chưa có khách hàng nào để gửi" not in html


@pytest.mark.parametrize(
    ("language", "said"),
    [
        ("vi", "2 dòng trong danh sách khách hàng không khớp khách hàng nào nên bị bỏ ra:"),
        ("en", "2 lines of the customer list match no customer and are left out:"),
    ],
)
def test_lines_of_a_pasted_list_that_match_no_customer_are_named_before_sending(qm_client, qm, language, said):
    # A quality manager pastes addresses from a spreadsheet: a mistyped one used to vanish without a word, and
    # "2 customers match" did not say which of the four lines was missed.
    survey = make_survey(kind="nps", owner=qm)
    CustomerFactory(email="hoa@example.com")
    CustomerFactory(email="an@example.com", external_id="CRM-7")
    form = {"name": "Đợt đầu", "expiry_days": "30", "max_reminders": "1"}
    listed = "Hoa@Example.com\nCRM-7\nhoa@exmple.com\nCRM-8\nCRM-8"
    page = qm_client.post(
        reverse("campaign_new", args=[survey.pk]), {**form, "audience_list": listed}, HTTP_ACCEPT_LANGUAGE=language
    )
    html = page.content.decode()
    section = html.split('data-testid="audience-unmatched"', 1)[1].split("</div>", 1)[0]
    assert said in section
    assert "<li>hoa@exmple.com</li><li>CRM-8</li></ul>" in section and "Hoa@Example.com" not in section
    # Every line found: no warning.
    html = qm_client.post(
        reverse("campaign_new", args=[survey.pk]), {**form, "audience_list": "hoa@example.com\nCRM-7"}
    ).content.decode()
    assert 'data-testid="audience-unmatched"' not in html and "2 khách hàng phù hợp." in html


def test_a_test_send_goes_to_the_quality_manager_only_and_changes_nothing(qm_client, qm):
    qm.email = "lan.qm@example.com"
    qm.save()
    survey = make_survey(kind="nps", owner=qm)
    CustomerFactory(email="a@example.com")
    url = reverse("campaign_new", args=[survey.pk])
    page = qm_client.post(url, {"name": "Thử", "language": "en", "expiry_days": "30", "action": "test"})
    assert page.status_code == 200
    assert "Đã gửi email thử tới lan.qm@example.com." in page.content.decode()
    assert 'value="Thử"' in page.content.decode()  # what was typed stays
    assert [m.to for m in mail.outbox] == [["lan.qm@example.com"]]
    test = mail.outbox[0]
    preview = f"/surveys/{survey.pk}/preview/?lang=en"
    assert test.subject.startswith("[Thử] ") and preview in test.body and "/s/" not in test.body
    assert f"{preview}&amp;score=10" in test.alternatives[0][0]
    assert Campaign.objects.count() == 0 and Invitation.objects.count() == 0
    qm.email = ""
    qm.save()
    refused = qm_client.post(url, {"name": "x", "expiry_days": "30", "action": "test"}).content.decode()
    assert "Tài khoản của bạn chưa có địa chỉ email" in refused and len(mail.outbox) == 1


def test_campaign_pages_show_the_funnel(qm_client, django_capture_on_commit_callbacks):
    survey = make_survey(kind="csat", owner=quality_manager())
    CustomerFactory(email="f@example.com", segment="vip")
    CustomerFactory(email="", segment="vip")
    form = {"name": "VIP", "segment": "vip", "expiry_days": "30", "max_reminders": "1"}
    with django_capture_on_commit_callbacks(execute=True):
        key = _preview_key(qm_client.post(reverse("campaign_new", args=[survey.pk]), form))
        page = qm_client.post(
            reverse("campaign_new", args=[survey.pk]), {**form, "action": "send", "audience_key": key}
        )
    campaign = Campaign.objects.get()
    assert page["Location"] == reverse("campaign_detail", args=[campaign.pk])
    html = qm_client.get(page["Location"]).content.decode()
    assert "Không có địa chỉ email hợp lệ: 1" in html
    data = qm_client.get(reverse("campaign_progress", args=[campaign.pk])).json()
    assert (data["audience"], data["sent"], data["skipped_total"], data["status"]) == (2, 1, 1, "sent")
    bad = qm_client.post(
        reverse("campaign_new", args=[survey.pk]),
        {"name": "x", "expiry_days": "0", "remind_after_days": "40", "max_reminders": "9"},
    )
    assert bad.status_code == 200 and Campaign.objects.count() == 1


def test_a_lease_that_ends_is_queued_again_and_sent_once(survey, settings):
    # A worker claimed it, then was killed before recording anything: sent again (a duplicate at worst, never lost).
    CustomerFactory(email="lost@example.com")
    campaign = new_campaign(survey)
    campaigns.campaign_build(campaign=campaign)
    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.SENDING)
    invitation = campaign.invitations.get()
    start = timezone.now()
    lease = timedelta(seconds=settings.INVITATION_SEND_LEASE_SECONDS)
    Invitation.objects.filter(pk=invitation.pk).update(status=S.SENDING, attempts=1, lease_until=start + lease)
    assert campaigns.invitations_dispatch(now=start) == 0  # still within its lease: nobody touches it
    assert len(mail.outbox) == 0
    with time_machine.travel(start + lease + timedelta(seconds=1), tick=False):
        assert campaigns.invitations_dispatch() == 1  # re-queued and handed out (sent in-process here)
        assert campaigns.invitations_dispatch() == 0
    invitation.refresh_from_db()
    assert (invitation.status, invitation.attempts) == (S.SENT, 2)
    assert [m.to for m in mail.outbox] == [["lost@example.com"]]
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SENT


def test_a_lease_that_ends_on_the_last_attempt_fails_with_a_readable_reason(survey, settings, client, qm):
    settings.INVITATION_MAX_ATTEMPTS = 3
    CustomerFactory(email="lost@example.com")
    campaign = new_campaign(survey)
    campaigns.campaign_build(campaign=campaign)
    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.SENDING)
    invitation = campaign.invitations.get()
    past = timezone.now() - timedelta(seconds=1)
    Invitation.objects.filter(pk=invitation.pk).update(status=S.SENDING, attempts=3, lease_until=past)
    campaigns.invitations_dispatch()
    invitation.refresh_from_db()
    assert (invitation.status, invitation.status_reason) == (S.FAILED, campaigns.WORKER_STOPPED)
    assert len(mail.outbox) == 0
    client.force_login(qm)
    page = client.get(reverse("campaign_detail", args=[campaign.pk])).content.decode()
    assert "Tiến trình gửi đã dừng ở lần thử cuối" in page
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SENT  # nothing left queued, sending or deferred


class RefusingBackend(locmem.EmailBackend):
    """Refuses every recipient with `reply` (code, words) while it is set; accepts once it is None."""

    reply: tuple[int, bytes] | None = None

    def send_messages(self, messages):  # type: ignore[no-untyped-def]
        if RefusingBackend.reply is not None:
            raise smtplib.SMTPRecipientsRefused({messages[0].to[0]: RefusingBackend.reply})
        return super().send_messages(messages)


class DownBackend(locmem.EmailBackend):
    def open(self):  # type: ignore[no-untyped-def]
        raise ConnectionRefusedError(111, "Connection refused")


def test_a_451_defers_with_backoff_over_hours_then_sends_once(survey, settings, qm_client):
    settings.EMAIL_BACKEND = "tests.surveys.test_campaigns.RefusingBackend"
    RefusingBackend.reply = (451, b"4.3.0 Mailbox busy, try later")
    CustomerFactory(email="busy@example.com")
    campaign = new_campaign(survey)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        campaigns.campaign_start(campaign=campaign)
        campaigns.invitations_dispatch()
    invitation = campaign.invitations.get()
    assert invitation.status == S.DEFERRED
    assert invitation.status_reason == "451 4.3.0 Mailbox busy, try later"  # the server's words, not a repr
    assert invitation.next_attempt_at == start + timedelta(minutes=1)
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SENDING  # not "sent" while anything is deferred
    page = qm_client.get(reverse("campaign_detail", args=[campaign.pk])).content.decode()
    assert "451 4.3.0 Mailbox busy, try later" in page
    data = qm_client.get(reverse("campaign_progress", args=[campaign.pk])).json()
    assert (data["deferred"], data["queued"], data["sent"]) == (1, 0, 0)
    # Each refusal doubles the wait: 1, 2, 4, 8 ... minutes, then hourly.
    at = start
    waits = []
    for _try in range(8):
        at = invitation.next_attempt_at
        with time_machine.travel(at - timedelta(seconds=1), tick=False):
            campaigns.invitations_dispatch()  # not yet due
        invitation.refresh_from_db()
        assert invitation.status == S.DEFERRED
        with time_machine.travel(at, tick=False):
            campaigns.invitations_dispatch()
        invitation.refresh_from_db()
        waits.append(round((invitation.next_attempt_at - at).total_seconds() / 60))
    assert waits == [2, 4, 8, 16, 32, 60, 60, 60]
    RefusingBackend.reply = None  # the server is well again
    with time_machine.travel(invitation.next_attempt_at, tick=False):
        campaigns.invitations_dispatch()
    invitation.refresh_from_db()
    assert (invitation.status, invitation.attempts, invitation.status_reason) == (S.SENT, 10, "")
    assert [m.to for m in mail.outbox] == [["busy@example.com"]]
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SENT


def test_a_550_fails_for_good_with_the_server_words(survey, settings):
    settings.EMAIL_BACKEND = "tests.surveys.test_campaigns.RefusingBackend"
    RefusingBackend.reply = (550, b"5.1.1 <nobody@example.com>: Recipient address rejected")
    CustomerFactory(email="nobody@example.com")
    campaign = new_campaign(survey)
    campaigns.campaign_start(campaign=campaign)
    assert campaigns.invitations_dispatch() == 1
    invitation = campaign.invitations.get()
    assert invitation.status == S.FAILED
    assert invitation.status_reason == "550 5.1.1 <nobody@example.com>: Recipient address rejected"
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SENT


def test_deferred_past_the_limit_fails(survey, settings):
    settings.EMAIL_BACKEND = "tests.surveys.test_campaigns.RefusingBackend"
    settings.INVITATION_MAX_ATTEMPTS = 2
    RefusingBackend.reply = (421, b"4.7.0 Too many connections")
    CustomerFactory(email="c@example.com")
    campaign = new_campaign(survey)
    campaigns.campaign_start(campaign=campaign)
    campaigns.invitations_dispatch()
    invitation = campaign.invitations.get()
    assert invitation.status == S.DEFERRED
    with time_machine.travel(invitation.next_attempt_at, tick=False):
        campaigns.invitations_dispatch()
    invitation.refresh_from_db()
    assert (invitation.status, invitation.status_reason) == (S.FAILED, "421 4.7.0 Too many connections")


def test_an_unreachable_server_defers_the_whole_chunk_and_loses_nothing(survey, settings, qm_client):
    settings.EMAIL_BACKEND = "tests.surveys.test_campaigns.DownBackend"
    for i in range(3):
        CustomerFactory(email=f"d{i}@example.com")
    campaign = new_campaign(survey)
    campaigns.campaign_start(campaign=campaign)
    campaigns.invitations_dispatch()
    states = set(campaign.invitations.values_list("status", "status_reason", "attempts"))
    assert states == {(S.DEFERRED, "smtp-refused", 1)}
    page = qm_client.get(reverse("campaign_detail", args=[campaign.pk])).content.decode()
    assert "Máy chủ thư đã từ chối kết nối." in page
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    with time_machine.travel(timezone.now() + timedelta(minutes=1, seconds=1), tick=False):
        assert campaigns.invitations_dispatch() == 3
    assert sorted(m.to[0] for m in mail.outbox) == [f"d{i}@example.com" for i in range(3)]
    assert set(campaign.invitations.values_list("status", flat=True)) == {S.SENT}


def test_a_dispatched_chunk_whose_message_was_lost_is_handed_out_again(survey, settings, monkeypatch):
    CustomerFactory(email="c@example.com")
    campaign = new_campaign(survey)
    campaigns.campaign_start(campaign=campaign)
    from surveys import tasks

    lost: list[object] = []
    monkeypatch.setattr(tasks.campaign_send_chunk, "apply_async", lambda args: lost.append(args))
    start = timezone.now()
    assert campaigns.invitations_dispatch(now=start) == 1 and len(lost) == 1  # the message vanished with Redis
    assert campaigns.invitations_dispatch(now=start + timedelta(minutes=1)) == 0  # leased: not handed out twice
    monkeypatch.undo()
    later = start + timedelta(seconds=settings.INVITATION_SEND_LEASE_SECONDS + 1)
    assert campaigns.invitations_dispatch(now=later) == 1
    assert [m.to for m in mail.outbox] == [["c@example.com"]]


@pytest.mark.parametrize("closed", [False, True])
def test_a_survey_not_active_says_to_activate_it_first_and_offers_no_sending(qm_client, qm, closed, mailoutbox):
    """A draft (or closed) survey's campaign section tells the quality manager what to do first; the sending page
    no longer lets them pick an audience, mail a test and confirm, only to be refused at the end."""
    from surveys import building

    CustomerFactory(email="a@example.com")
    survey = make_survey(owner=qm, active=closed)
    if closed:
        building.survey_close(survey=survey)
    detail = reverse("survey_detail", args=[survey.pk])
    html = qm_client.get(detail).content.decode()
    section = html[html.index('id="camp-h"') :].split("</section>")[0]
    expected = "Khảo sát này đã đóng: hãy mở lại" if closed else "Khảo sát này đang là bản nháp: hãy kích hoạt"
    assert 'data-testid="campaigns-activate-first"' in section and expected in section
    assert reverse("campaign_new", args=[survey.pk]) not in section
    url = reverse("campaign_new", args=[survey.pk])
    form = {"name": "Tất cả", "expiry_days": "30", "max_reminders": "1"}
    for page in (qm_client.get(url), qm_client.post(url, {**form, "action": "test"}),
                 qm_client.post(url, {**form, "action": "send"})):  # fmt: skip
        assert page.status_code == 302 and page["Location"] == detail
    page = qm_client.get(url, follow=True).content.decode()
    assert ("hãy mở lại" if closed else "Hãy kích hoạt khảo sát trước khi gửi") in page
    assert Campaign.objects.count() == 0 and Invitation.objects.count() == 0 and not mailoutbox
    # Once active (activated or reopened), the section offers sending and says nothing of activating.
    building.survey_activate(survey=survey)
    html = qm_client.get(detail).content.decode()
    section = html[html.index('id="camp-h"') :].split("</section>")[0]
    assert "campaigns-activate-first" not in section and url in section
