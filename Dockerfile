# The app image: web (gunicorn), worker and beat all run from it (see docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=project.settings \
    DJANGO_CONFIGURATION=Prod \
    VAR_DIR=/app/var

WORKDIR /app
# DejaVu Sans draws the voter rolls: Latin, Greek, Cyrillic and Arabic (shaped, right to left).
RUN apt-get update \
    && apt-get install -y --no-install-recommends fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
# collectstatic reads settings only; these placeholders never reach a running container.
RUN SECRET_KEY=collectstatic DATABASE_URL=sqlite:////tmp/unused.sqlite3 \
    CELERY_BROKER_URL=memory:// python manage.py collectstatic --no-input \
    && useradd --create-home app && mkdir -p /app/var && chown -R app /app/var
USER app

EXPOSE 8000
# Threads: a zip of a whole run streams for minutes; a sync worker would be cut off at 30 s.
# gunicorn runs no system checks: `check` first, so that a setting out of range (or a weak
# SECRET_KEY) stops the web process with one line, as it stops migrate and the worker.
CMD ["sh", "-c", "python manage.py check && exec gunicorn project.wsgi --bind 0.0.0.0:8000 --workers 3 --worker-class gthread --threads 4 --access-logfile -"]
