import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
application = get_wsgi_application()

# After setup (the settings say whether traces are on), before the first request builds the middleware chain.
from core.tracing import tracing_configure  # noqa: E402

tracing_configure(process="web")
