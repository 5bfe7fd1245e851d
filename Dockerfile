# The portal's image: one image, the Procfile's processes as its commands (web is the default; see compose.yaml).
# Build stage: dependencies from the hash-locked requirements, static files collected.
FROM python:3.12-slim-bookworm AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PYTHONDONTWRITEBYTECODE=1
WORKDIR /app
RUN python -m venv /opt/venv
COPY requirements/base.txt requirements/base.txt
RUN /opt/venv/bin/pip install --require-hashes --no-deps -r requirements/base.txt
COPY . .
# collectstatic needs settings, not secrets: throwaway values that exist only in this build step.
RUN DJANGO_SETTINGS_MODULE=config.settings.base DJANGO_SECRET_KEY=collectstatic-only \
    CARD_VAULT_KEYS=build:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= CARD_VAULT_ACTIVE_KEY_ID=build \
    CARD_VAULT_FINGERPRINT_KEY=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= \
    /opt/venv/bin/python manage.py collectstatic --noinput --verbosity 0 \
 && rm -rf tests benchmarks sandbox demo .ci

# Final stage: no compilers, no pip cache, not root.
FROM python:3.12-slim-bookworm
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=config.settings.base \
    PROMETHEUS_MULTIPROC_DIR=/tmp/portal-metrics
RUN useradd --system --uid 10001 --user-group --home-dir /app --shell /usr/sbin/nologin portal
WORKDIR /app
COPY --from=build /opt/venv /opt/venv
COPY --from=build /app /app
USER 10001:10001
EXPOSE 8000
# Liveness only (/healthz asks no dependency); orchestrators probe /readyz for readiness.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status != 200)"]
# Migrations are a one-shot command of their own (compose.yaml: migrate), never part of the web's start.
CMD ["gunicorn", "-c", "config/gunicorn.py", "config.wsgi"]
