"""Customer management for quality managers, and the customer's own unsubscribe page."""

from __future__ import annotations

import uuid
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import IntegrityError
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from accounts.roles import is_quality_manager, quality_manager_required
from audit.selectors import entries_for
from config.formatting import number
from config.pages import personal_page, unavailable_page
from customers import importing
from customers import services as customer_services
from customers.forms import CustomerForm
from customers.models import Customer, Language
from customers.services import (
    customer_erase,
    customer_for_unsubscribe_token,
    customer_opt_out,
    customer_panels,
    customer_update,
)

PAGE_SIZE = 25
MAX_UPLOAD_BYTES = 20 * 1024 * 1024


def _get_customer_for_user(request: HttpRequest, pk: int) -> Customer:
    if not is_quality_manager(request.user):
        raise PermissionDenied
    return get_object_or_404(Customer, pk=pk)


@quality_manager_required
def customer_list(request: HttpRequest) -> HttpResponse:
    params = request.GET
    customers = Customer.objects.all()
    query = params.get("q", "").strip()
    if query:
        customers = customers.filter(
            Q(name__icontains=query) | Q(email__icontains=query) | Q(external_id__iexact=query) | Q(phone=query)
        )
    if params.get("segment"):
        customers = customers.filter(segment=params["segment"])
    if params.get("language") in Language.values:
        customers = customers.filter(language=params["language"])
    if params.get("type") in Customer.Type.values:
        customers = customers.filter(customer_type=params["type"])
    if params.get("opted_out") == "yes":
        customers = customers.filter(opted_out_at__isnull=False)
    elif params.get("opted_out") == "no":
        customers = customers.filter(opted_out_at__isnull=True)
    page = Paginator(customers.order_by("name", "id"), PAGE_SIZE).get_page(params.get("page"))
    filters = params.copy()
    filters.pop("page", None)
    segments = Customer.objects.exclude(segment="").order_by("segment").values_list("segment", flat=True).distinct()
    return render(
        request,
        "customers/customer_list.html",
        {
            "page": page,
            "q": query,
            "params": params,
            "filters": filters.urlencode(),
            "segments": segments,
            "languages": Language.choices,
            "types": Customer.Type.choices,
        },
    )


@quality_manager_required
def customer_create(request: HttpRequest) -> HttpResponse:
    form = CustomerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        customer = customer_services.customer_create(**form.cleaned_data)
        messages.success(request, _("Customer %(name)s added.") % {"name": customer.name})
        return redirect("customer_detail", pk=customer.pk)
    return render(request, "customers/customer_form.html", {"form": form})


@quality_manager_required
def customer_edit(request: HttpRequest, pk: int) -> HttpResponse:
    customer = _get_customer_for_user(request, pk)
    if customer.erased_at:
        messages.error(request, _("This customer's data has been erased and cannot be edited."))
        return redirect("customer_detail", pk=customer.pk)
    form = CustomerForm(request.POST or None, instance=customer)
    if request.method == "POST" and form.is_valid():
        customer_update(customer=customer, **form.cleaned_data)
        messages.success(request, _("Customer saved."))
        return redirect("customer_detail", pk=customer.pk)
    return render(request, "customers/customer_form.html", {"form": form, "customer": customer})


@quality_manager_required
def customer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    customer = _get_customer_for_user(request, pk)
    panels = [panel for provider in customer_panels if (panel := provider(customer))]
    return render(
        request,
        "customers/customer_detail.html",
        {
            "customer": customer,
            "panels": panels,
            "erasures": customer.erasures.select_related("erased_by"),
            "trail": entries_for(customer),
        },
    )


@require_POST
@quality_manager_required
def customer_erase_view(request: HttpRequest, pk: int) -> HttpResponse:
    customer = _get_customer_for_user(request, pk)
    if request.POST.get("confirm") != "yes":
        messages.error(request, _("Tick the box to confirm: erasure cannot be undone."))
        return redirect("customer_detail", pk=customer.pk)
    try:
        customer_erase(customer=customer, actor=request.user, reason=request.POST.get("reason", ""))
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("The customer's personal data was erased. Their scores stay, anonymous."))
    return redirect("customer_detail", pk=customer.pk)


def _upload_path(key: str) -> Path:
    return Path(settings.VAR_DIR) / "imports" / f"{key}.csv"


@quality_manager_required
def customer_import(request: HttpRequest) -> HttpResponse:
    """Step 1: upload and preview. Step 2 (POST with `key`): import the valid rows of the previewed file."""
    if request.method == "POST" and "key" in request.POST:
        key = request.POST["key"]
        try:
            uuid.UUID(key)
        except ValueError:
            raise PermissionDenied from None
        if request.session.get("import_key") != key or not _upload_path(key).exists():
            messages.error(request, _("That preview has expired. Upload the file again."))
            return redirect("customer_import")
        parsed = importing.parse(_upload_path(key).read_bytes())
        try:
            created, updated = importing.import_rows(parsed)
        except IntegrityError:
            messages.error(
                request,
                _(
                    "Nothing was imported: a row would give an external ID that another "
                    "customer already has. Correct the file and try again."
                ),
            )
            return redirect("customer_import")
        _upload_path(key).unlink(missing_ok=True)
        request.session.pop("import_key", None)
        messages.success(
            request,
            _("Imported: %(created)s new customers, %(updated)s updated, %(skipped)s rows skipped.")
            % {"created": number(created), "updated": number(updated), "skipped": number(len(parsed.invalid))},
        )
        return redirect("customer_list")
    context: dict = {}
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            context["error"] = _("Choose a CSV file.")
        elif upload.size > MAX_UPLOAD_BYTES:
            context["error"] = _("The file is larger than 20 MB: split it.")
        else:
            data = upload.read()
            parsed = importing.parse(data)
            if parsed.file_problem:
                context["error"] = parsed.file_problem
            else:
                key = str(uuid.uuid4())
                _upload_path(key).parent.mkdir(parents=True, exist_ok=True)
                _upload_path(key).write_bytes(data)
                request.session["import_key"] = key
                context.update(
                    {
                        "parsed": parsed,
                        "key": key,
                        "invalid": parsed.invalid[:500],
                        "valid_count": len(parsed.valid),
                        "invalid_count": len(parsed.invalid),
                    }
                )
    return render(request, "customers/customer_import.html", context, status=400 if context.get("error") else 200)


@csrf_exempt  # RFC 8058 one-click unsubscribe: mail clients POST without a form token; the signed link suffices.
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    customer = customer_for_unsubscribe_token(token)
    language = request.GET.get("lang") if request.GET.get("lang") in ("vi", "en") else None
    if customer is None:
        return unavailable_page(request, language or translation.get_language_from_request(request))
    language = language or customer.language
    done = False
    if request.method == "POST":
        customer_opt_out(customer=customer)
        done = True
    return personal_page(request, "respond/unsubscribe.html", {"done": done or bool(customer.opted_out_at)}, language)
