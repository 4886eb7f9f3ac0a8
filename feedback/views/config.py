"""Quality managers' settings for complaints: categories and time limits."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from accounts.roles import quality_manager_required
from feedback.forms import CategoryForm, TimeLimitFormSet
from feedback.models import Category, Severity, TimeLimit
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
        form.save()
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
        formset.save()
        messages.success(request, _("Time limits saved. They apply to cases received from now on."))
        return redirect("time_limits")
    forms = sorted(formset.forms, key=lambda f: order.get(f.instance.severity, 99))
    return render(request, "feedback/time_limits.html", {"formset": formset, "forms": forms})
