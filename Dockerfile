# The production image: web (gunicorn), worker and beat (celery) and the one-shot migrate all run it.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=config.settings.production

RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin app
WORKDIR /app

# Dependencies first (a layer that changes only with the pins): the project installs no packages of
# its own (pyproject.toml: packages = []), so pyproject.toml and the lock are all `pip install .` needs.
COPY pyproject.toml requirements.lock ./
RUN pip install -c requirements.lock .

COPY . .
# Static files (admin, Swagger UI) are collected into the image and served by WhiteNoise. The
# production settings insist on a real SECRET_KEY, so the build uses a throwaway one.
RUN SECRET_KEY="$(python -c 'import secrets; print(secrets.token_urlsafe(64))')" \
        python manage.py collectstatic --noinput \
    && mkdir -p .run /tmp/prometheus /tmp/beat \
    && chown -R app:app .run /tmp/prometheus /tmp/beat

USER app
EXPOSE 8000
CMD ["gunicorn", "config.wsgi:application", "--config", "config/gunicorn_conf.py", "--no-control-socket"]
