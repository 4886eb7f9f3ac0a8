"""Every user-facing string is translated into Vietnamese, and the catalogue holds every string in the code."""

import os
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import polib
import pytest
from django.utils import formats, timezone, translation

from tests.helpers import require

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "locale" / "vi" / "LC_MESSAGES" / "django.po"


def _entries(path: Path) -> dict[str, polib.POEntry]:
    return {entry.msgid: entry for entry in polib.pofile(str(path)) if not entry.obsolete}


def test_vietnamese_catalogue_is_complete():
    catalogue = polib.pofile(str(PO))
    untranslated = [e.msgid for e in catalogue.untranslated_entries()]
    fuzzy = [e.msgid for e in catalogue.fuzzy_entries()]
    assert not untranslated, f"untranslated: {untranslated}"
    assert not fuzzy, f"fuzzy: {fuzzy}"


def test_placeholders_survive_translation():
    import re

    pattern = re.compile(r"%\(\w+\)s|\{\}")
    for entry in polib.pofile(str(PO)):
        if entry.msgid_plural:
            continue
        assert sorted(pattern.findall(entry.msgid)) == sorted(pattern.findall(entry.msgstr)), entry.msgid


def test_catalogue_holds_every_string_in_the_code(tmp_path):
    require(shutil.which("xgettext") is not None, "needs GNU gettext (xgettext) to extract strings")
    # Extract from a copy of the sources, so the committed catalogue is never touched by the test.
    copy = tmp_path / "src"
    shutil.copytree(
        ROOT,
        copy,
        ignore=shutil.ignore_patterns(
            ".venv", "var", ".git", "tests", "bench", "node_modules", "*.mo", "__pycache__", ".pytest_cache"
        ),
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "makemessages", "--locale", "vi", "--no-obsolete"],
        cwd=copy,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "VAR_DIR": str(tmp_path / "var")},
    )
    assert result.returncode == 0, result.stderr
    extracted = _entries(copy / "locale" / "vi" / "LC_MESSAGES" / "django.po")
    missing = sorted(set(extracted) - set(_entries(PO)))
    assert not missing, f"strings in the code but not in locale/vi (run `make messages`): {missing}"
    # `make messages` must keep every translation: xgettext reads "95% interval" as a Python format ("% i"), and the
    # merge then marked such entries fuzzy, which the compiled catalogue leaves out (the dashboard fell back to
    # English). Such strings carry `# xgettext:no-python-format`.
    fuzzy = [e.msgid for e in extracted.values() if e.fuzzy]
    assert not fuzzy, f"`make messages` would mark these fuzzy (and drop their translation): {fuzzy}"


@pytest.mark.parametrize("language", ["vi", "en"])
def test_compiled_catalogue_is_used(language):
    from django.utils import translation

    with translation.override(language):
        text = str(translation.gettext("Send my answers"))
    assert text == ("Gửi câu trả lời" if language == "vi" else "Send my answers")


@pytest.mark.django_db
def test_long_dates_in_vietnamese_are_lower_case_inside_a_sentence(mailoutbox):
    # Django's Vietnamese long date starts with a capital, "Ngày 04 tháng 1 năm 2027"; it is written mid-sentence
    # ("Liên kết có hiệu lực đến ngày 04 tháng 1 năm 2027.", "Đã tiếp nhận: 02:59 ngày 05 tháng 12 năm 2026").
    from surveys.campaigns import invitation_email_send
    from tests.factories import make_invitation

    invitation, _token = make_invitation(language="vi")
    invitation_email_send(invitation_id=invitation.pk)
    when = timezone.localdate(invitation.expires_at)
    expected = f"Liên kết có hiệu lực đến ngày {when:%d} tháng {when.month} năm {when.year}."
    assert expected in mailoutbox[0].body and expected in mailoutbox[0].alternatives[0][0]
    with translation.override("vi"):
        assert formats.date_format(datetime(2026, 12, 5, 2, 59), "DATETIME_FORMAT") == "02:59 ngày 05 tháng 12 năm 2026"


@pytest.mark.django_db
def test_dates_are_written_day_month_year_with_slashes_in_vietnamese(qm_client):
    # Django's Vietnamese formats write 05-01-2026; Vietnamese readers, and the dashboard's own period labels, use
    # 05/01/2026. English keeps Django's format.
    url = "/reports/complaint-handling/?start=2026-01-05&end=2026-03-31"
    html = qm_client.get(url, HTTP_ACCEPT_LANGUAGE="vi").content.decode()
    assert "05/01/2026" in html and "31/03/2026" in html and "05-01-2026" not in html
    qm_client.post("/i18n/setlang/", {"language": "en"})
    assert "01/05/2026" in qm_client.get(url).content.decode()
