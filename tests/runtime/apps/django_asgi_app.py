"""The Django test app, served over ASGI."""

import _configure
import django_app  # noqa: F401  (settings, URLs and views)
from django.core.asgi import get_asgi_application

application = _configure.install(get_asgi_application())
