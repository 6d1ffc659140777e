"""Django app (WSGI and ASGI) with one SSE stream family."""

import django
from django.conf import settings
from django.http import JsonResponse
from django.urls import path
from stream_options import stream_options

settings.configure(
    DEBUG=False,
    ALLOWED_HOSTS=["127.0.0.1"],
    ROOT_URLCONF=__name__,
    SECRET_KEY="stream-tests",
    MIDDLEWARE=[],
    INSTALLED_APPS=[],
)
django.setup()

from django.core.asgi import get_asgi_application  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402

from prodready.runtime import Production  # noqa: E402

wsgi = Production(get_wsgi_application())
asgi = Production(get_asgi_application())
wsgi_reports = wsgi.stream("reports", **stream_options())
asgi_reports = asgi.stream("reports", **stream_options())


def report_events(request, task_id):
    reports = asgi_reports if "ASGI" in type(request).__name__ else wsgi_reports
    return reports.response(task_id, request)


def publish(request, task_id):
    count = int(request.GET.get("count", 1))
    ids = [wsgi_reports.publish(task_id, {"n": i}, event="progress") for i in range(count)]
    return JsonResponse({"ids": ids})


urlpatterns = [
    path("reports/<task_id>/events", report_events),
    path("reports/<task_id>/publish", publish),
]
