"""The app's URLs plus the baselines the respondent path is measured against."""

from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from config.urls import urlpatterns as app_urlpatterns


def bare(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok")


@csrf_exempt
def one_insert(request: HttpRequest) -> HttpResponse:
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO bench_ping (payload) VALUES (%s)", [request.POST.get("q", "")])
    return HttpResponse("ok")


urlpatterns = [
    path("bench/bare/", bare),
    path("bench/insert/", one_insert),
    *app_urlpatterns,
]
