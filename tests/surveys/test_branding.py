"""The organisation's logo and colour on the respondent pages and in the emails."""

import struct
import zlib

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from surveys.invitations import invitation_email_now
from surveys.models import Branding
from tests.factories import make_invitation

pytestmark = pytest.mark.django_db


def png(width: int = 4, height: int = 2) -> bytes:
    """A real (tiny, red) PNG image."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    rows = b"".join(b"\x00" + b"\xcc\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def test_a_quality_manager_sets_the_logo_and_colour_customers_see(qm_client, django_capture_on_commit_callbacks):
    invitation, token = make_invitation()
    client, url = Client(), reverse("respond", args=[token])
    before = client.get(url).content.decode()
    assert "--brand" not in before and 'class="logo"' not in before
    saved = qm_client.post(
        reverse("branding"), {"colour": "#7A1F5C", "logo": SimpleUploadedFile("logo.png", png(), "image/png")}
    )
    assert saved.status_code == 302
    branding = Branding.objects.get()
    assert branding.colour == "#7a1f5c" and bytes(branding.logo) == png() and branding.logo_type == "image/png"
    page = client.get(url).content.decode()  # the survey's cached snapshot was renewed by the change
    assert "<style>:root{--brand:#7a1f5c}</style>" in page
    logo_url = page.split('class="logo" src="', 1)[1].split('"', 1)[0]
    logo = client.get(logo_url)
    assert logo.status_code == 200 and logo["Content-Type"] == "image/png" and logo.content == png()
    assert "immutable" in logo["Cache-Control"]
    assert client.get(logo_url.replace(logo_url.rsplit("/", 2)[1], "0" * 16)).status_code == 404
    unopened, _token = make_invitation(survey=invitation.survey)
    with django_capture_on_commit_callbacks(execute=True):
        invitation_email_now(invitation=unopened)
    html = mail.outbox[0].alternatives[0][0]
    assert f'src="http://127.0.0.1:8000{logo_url}"' in html and "#7a1f5c" in html
    # Removing the logo keeps the colour.
    qm_client.post(reverse("branding"), {"colour": "#7a1f5c", "remove_logo": "on"})
    assert 'class="logo"' not in client.get(url).content.decode()
    assert client.get(logo_url).status_code == 404


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"colour": "#ffee00"}, "khó đọc"),  # white on yellow: 1.2:1
        ({"colour": "red"}, "sáu chữ số"),
        ({"colour": "#0b4f6c", "logo": SimpleUploadedFile("x.svg", b"<svg onload=alert(1)>", "image/svg+xml")}, "PNG"),
        ({"colour": "#0b4f6c", "logo": SimpleUploadedFile("big.png", png() + b"\0" * 210_000, "image/png")}, "200 KB"),
    ],
)
def test_unreadable_colours_and_unsafe_or_large_logos_are_refused(qm_client, data, message):
    page = qm_client.post(reverse("branding"), data)
    assert page.status_code == 200 and message in page.content.decode()
    assert not Branding.objects.exists()


def test_branding_adds_no_query_to_the_respondent_page(qm_client):
    qm_client.post(reverse("branding"), {"colour": "#7a1f5c", "logo": SimpleUploadedFile("l.png", png(), "image/png")})
    counts = []
    for _ in range(2):
        invitation, token = make_invitation(survey=None)
        client = Client()
        client.get(reverse("respond", args=[token]))  # warm
        _other, token = make_invitation(survey=invitation.survey)
        with CaptureQueriesContext(connection) as queries:
            page = client.get(reverse("respond", args=[token]))
        assert "--brand:#7a1f5c" in page.content.decode()
        counts.append(len(queries))
    assert counts[0] == counts[1] <= 3, counts
