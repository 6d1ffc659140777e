"""Django test app in one file: settings, URLs and views."""

import logging

from django.conf import settings
from django.http import JsonResponse
from django.urls import path

settings.configure(
    DEBUG=False,
    ALLOWED_HOSTS=["127.0.0.1", "localhost"],
    ROOT_URLCONF=__name__,
    SECRET_KEY="django-test-key-not-used-for-anything-real-8f3b2c",
    MIDDLEWARE=[],
    INSTALLED_APPS=[],
    LOGGING_CONFIG=None,
)

log = logging.getLogger("django_app")


def hello(request):
    return JsonResponse({"hello": "world"})


def item(request, item_id):
    log.warning("looking up item %s", item_id)
    return JsonResponse({"id": item_id})


def boom(request):
    raise RuntimeError("unhandled in a view")


urlpatterns = [
    path("hello", hello),
    path("items/<int:item_id>", item),
    path("boom", boom),
]

import _configure  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402

application = _configure.install(get_wsgi_application())
