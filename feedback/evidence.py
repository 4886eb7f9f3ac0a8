"""Evidence files kept with a corrective action (ISO 9001 10.2.2: retain documented information as evidence).

An upload is checked before anything is stored: its size, and its type from its first bytes (a name says nothing:
"report.pdf" may be a page of HTML that a browser would run). Only documents people attach to an investigation are
taken: PDF, common images, Office and OpenDocument files without macros, plain text. The file goes to Django's
default storage under a random name; the record keeps its original name, sniffed type, size and SHA-256, and the
upload is an audited event. Nothing is ever deleted.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils.translation import gettext as _

from audit.trail import audit_record
from feedback.models import ActionEvidence, ActionStatus, CorrectiveAction

HEAD = 8192  # bytes read to tell the type


@dataclass(frozen=True)
class Kind:
    content_type: str
    extensions: tuple[str, ...]


PDF = Kind("application/pdf", ("pdf",))
PNG = Kind("image/png", ("png",))
JPEG = Kind("image/jpeg", ("jpg", "jpeg"))
GIF = Kind("image/gif", ("gif",))
WEBP = Kind("image/webp", ("webp",))
TEXT = Kind("text/plain", ("txt", "csv", "log", "md"))
OOXML = {
    "docx": Kind("application/vnd.openxmlformats-officedocument.wordprocessingml.document", ("docx",)),
    "xlsx": Kind("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ("xlsx",)),
    "pptx": Kind("application/vnd.openxmlformats-officedocument.presentationml.presentation", ("pptx",)),
}
OOXML_PART = {"docx": "word/", "xlsx": "xl/", "pptx": "ppt/"}
ODF = {
    "odt": Kind("application/vnd.oasis.opendocument.text", ("odt",)),
    "ods": Kind("application/vnd.oasis.opendocument.spreadsheet", ("ods",)),
    "odp": Kind("application/vnd.oasis.opendocument.presentation", ("odp",)),
}
ALLOWED_EXTENSIONS = sorted(
    {e for k in (PDF, PNG, JPEG, GIF, WEBP, TEXT, *OOXML.values(), *ODF.values()) for e in k.extensions}
)


def _extension(name: str) -> str:
    return PurePath(name).suffix.lower().lstrip(".")


def _zip_kind(data: bytes, extension: str) -> Kind | None:
    """An Office (OOXML) or OpenDocument file is a zip; tell which by its parts, and refuse macros."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
            if any(n.lower().endswith("vbaproject.bin") or n.lower().startswith("basic/") for n in names):
                return None  # macros: a document that runs code is not evidence
            is_ooxml = extension in OOXML and "[Content_Types].xml" in names
            if is_ooxml and any(n.startswith(OOXML_PART[extension]) for n in names):
                return OOXML[extension]
            if extension in ODF and "mimetype" in names:
                declared = archive.read("mimetype")[:100].decode("ascii", "replace").strip()
                return ODF[extension] if declared == ODF[extension].content_type else None
    except (zipfile.BadZipFile, OSError, KeyError, ValueError):
        return None
    return None


def _is_text(data: bytes) -> bool:
    if b"\x00" in data:
        return False
    head = data.lstrip()[:200].lower()
    if head.startswith((b"<!doctype", b"<html", b"<script", b"<svg", b"<?xml")):
        return False  # markup a browser would render, whatever the name says
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def sniff(data: bytes, name: str) -> Kind | None:
    """The file's type from its content, if it is one we take and its name's extension agrees; else None."""
    extension = _extension(name)
    head = data[:HEAD]
    if head.startswith(b"%PDF-"):
        kind: Kind | None = PDF
    elif head.startswith(b"\x89PNG\r\n\x1a\n"):
        kind = PNG
    elif head.startswith(b"\xff\xd8\xff"):
        kind = JPEG
    elif head.startswith((b"GIF87a", b"GIF89a")):
        kind = GIF
    elif head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        kind = WEBP
    elif head.startswith(b"PK\x03\x04"):
        kind = _zip_kind(data, extension)
    elif extension in TEXT.extensions and _is_text(data):
        kind = TEXT
    else:
        kind = None
    if kind is None or extension not in kind.extensions:
        return None
    return kind


def _clean_name(name: str) -> str:
    """The name to show and to offer on download: the last path part, one line, at most 200 characters."""
    base = PurePath(name.replace("\\", "/")).name
    base = "".join(c for c in base if ord(c) >= 32 and c not in '"<>')
    if len(base) > 200:
        stem, dot, extension = base.rpartition(".")
        base = stem[: 199 - len(extension)] + dot + extension
    return base or "file"


def can_attach(action: CorrectiveAction, step: str) -> bool:
    """Investigation evidence once the action is decided on; effectiveness evidence once actions are planned."""
    if action.status in (ActionStatus.CLOSED, ActionStatus.NOT_NEEDED):
        return False
    if step == ActionEvidence.Step.INVESTIGATION:
        return action.action_needed is True
    if step == ActionEvidence.Step.EFFECTIVENESS:
        return action.items.exists()
    return False


@transaction.atomic
def evidence_add(
    *, action: CorrectiveAction, step: str, upload: UploadedFile, uploaded_by: Any, description: str = ""
) -> ActionEvidence:
    """Keep one file with the action. Bad files raise a translated ValidationError and store nothing."""
    action = CorrectiveAction.objects.select_for_update().get(pk=action.pk)
    if step not in ActionEvidence.Step.values:
        raise ValidationError(_("Unknown step."))
    if not can_attach(action, step):
        if action.status in (ActionStatus.CLOSED, ActionStatus.NOT_NEEDED):
            raise ValidationError(
                _("This corrective action is closed: reopen it, with the reason, before changing it.")
            )
        raise ValidationError(_("Evidence for this step can be added once the step has begun."))
    limit = settings.EVIDENCE_MAX_BYTES
    if upload.size is None or upload.size > limit:
        raise ValidationError(_("The file is too big: at most %(mb)s MB.") % {"mb": f"{limit / (1024 * 1024):.0f}"})
    if upload.size == 0:
        raise ValidationError(_("The file is empty."))
    upload.seek(0)
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise ValidationError(_("The file is too big: at most %(mb)s MB.") % {"mb": f"{limit / (1024 * 1024):.0f}"})
    name = _clean_name(upload.name or "")
    kind = sniff(data, name)
    if kind is None:
        raise ValidationError(
            _("This type of file is not accepted: PDF, images (PNG, JPEG, GIF, WebP), Word, Excel, PowerPoint or "
              "OpenDocument files without macros, or plain text (%(extensions)s).")
            % {"extensions": ", ".join(ALLOWED_EXTENSIONS)}
        )  # fmt: skip
    description = description.strip()
    if len(description) > 300 or any(ord(c) < 32 for c in description):
        raise ValidationError(_("The description is one line of at most 300 characters."))
    evidence = ActionEvidence(
        action=action,
        step=step,
        name=name,
        extension=_extension(name),
        content_type=kind.content_type,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        description=description,
        uploaded_by=uploaded_by,
    )
    from django.core.files.base import ContentFile

    evidence.file.save(name, ContentFile(data), save=False)
    # Stored before the row commits: should the transaction roll back, an orphan file is left, never a row without
    # its file.
    evidence.save()
    audit_record(evidence, action="upload")
    return evidence
