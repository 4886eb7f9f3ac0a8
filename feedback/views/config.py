"""Quality managers' settings for complaints: categories and time limits."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.roles import quality_manager_required
from feedback import schedule
from feedback.forms import CalendarForm, CategoryForm, HolidayForm, TimeLimitFormSet
from feedback.models import Category, ComplaintSettings, PublicHoliday, Severity, TimeLimit
from feedback.workflow import DEFAULT_LIMITS


@quality_manager_required
def category_list(request: HttpRequest) -> HttpResponse:
    categories = Category.objects.annotate(case_count=Count("cases"))
    return render(request, "feedback/category_list.html", {"categories": categories})


@quality_manager_required
def category_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    category = get_object_or_404(Category, pk=pk) if pk else None
    form = CategoryForm(request.POST or None, instance=category)
    if request.method == "POST" and form.is_valid():
        try:
            schedule.category_save(actor=request.user, category=category, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Category saved."))
            return redirect("category_list")
    title = _("Edit category") if category else _("New category")
    return render(request, "feedback/simple_form.html", {"form": form, "title": title, "back": "category_list"})


@quality_manager_required
def time_limits(request: HttpRequest) -> HttpResponse:
    for severity, (ack, respond, close) in DEFAULT_LIMITS.items():
        TimeLimit.objects.get_or_create(
            severity=severity, defaults={"acknowledge_hours": ack, "respond_hours": respond, "close_hours": close}
        )
    order = {s: i for i, s in enumerate(Severity.values)}
    queryset = TimeLimit.objects.all()
    formset = TimeLimitFormSet(request.POST or None, queryset=queryset)
    if request.method == "POST" and formset.is_valid():
        with transaction.atomic():
            for form in formset.forms:
                # Only the stored limits: a post whose management form counts fewer initial forms than it sends
                # makes the rest "new" rows with no record behind them (they answered 500).
                if form.instance.pk is not None and form.has_changed():
                    # The form has already copied the hours onto its instance; the service reads the stored ones.
                    hours = {name: form.cleaned_data[name] for name in form.Meta.fields}
                    schedule.time_limit_update(actor=request.user, limit=form.instance, **hours)
        messages.success(request, _("Time limits saved. They apply to cases received from now on."))
        return redirect("time_limits")
    forms = sorted(formset.forms, key=lambda f: order.get(f.instance.severity, 99))
    return render(request, "feedback/time_limits.html", {"formset": formset, "forms": forms})


@quality_manager_required
def business_calendar(request: HttpRequest) -> HttpResponse:
    """Working hours, working days and public holidays: the calendar every time limit runs on."""
    config = ComplaintSettings.load()
    initial = _calendar_initial(config)
    form = CalendarForm(request.POST or None, initial=initial, prefix="hours")
    if request.method == "POST" and form.is_valid():
        try:
            schedule.calendar_update(
                actor=request.user,
                work_start=form.cleaned_data["work_start"],
                work_end=form.cleaned_data["work_end"],
                working_days="".join(form.cleaned_data["working_days"]),
                escalate_managers_after=form.cleaned_data["escalate_managers_after"],
                escalate_top_after=form.cleaned_data["escalate_top_after"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Working hours saved. They apply to cases received from now on."))
            return redirect("business_calendar")
    return _calendar_page(request, form, HolidayForm(prefix="holiday"))


def _calendar_initial(config: ComplaintSettings) -> dict:
    return {
        "work_start": config.work_start,
        "work_end": config.work_end,
        "working_days": list(config.working_days),
        "escalate_managers_after": config.escalate_managers_after,
        "escalate_top_after": config.escalate_top_after,
    }


def _calendar_page(request: HttpRequest, form: CalendarForm, holiday_form: HolidayForm) -> HttpResponse:
    this_year = timezone.localdate().year
    holidays = PublicHoliday.objects.filter(date__year__gte=this_year)
    language = request.LANGUAGE_CODE
    rows = [(h, h.name(language)) for h in holidays]
    context = {"form": form, "holiday_form": holiday_form, "holidays": rows, "this_year": this_year}
    return render(request, "feedback/calendar.html", context)


@quality_manager_required
@require_POST
def holiday_add(request: HttpRequest) -> HttpResponse:
    holiday_form = HolidayForm(request.POST, prefix="holiday")
    if holiday_form.is_valid():
        try:
            schedule.holiday_add(
                actor=request.user,
                day=holiday_form.cleaned_data["date"],
                name_vi=holiday_form.cleaned_data["name_vi"],
                name_en=holiday_form.cleaned_data["name_en"],
            )
        except ValidationError as error:
            holiday_form.add_error(None, error)
        else:
            messages.success(request, _("Public holiday added."))
            return redirect("business_calendar")
    config = ComplaintSettings.load()
    initial = _calendar_initial(config)
    return _calendar_page(request, CalendarForm(initial=initial, prefix="hours"), holiday_form)


@quality_manager_required
@require_POST
def holiday_remove(request: HttpRequest, pk: int) -> HttpResponse:
    holiday = get_object_or_404(PublicHoliday, pk=pk)
    schedule.holiday_remove(actor=request.user, holiday=holiday)
    messages.success(request, _("Public holiday removed."))
    return redirect("business_calendar")
