# Production image: gunicorn serves the app, whitenoise the static files; the same image runs the
# Celery worker, beat and (optionally) the Tripletex sandbox.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 DYNAMIK_VAR_DIR=/app/var
WORKDIR /app

RUN useradd --create-home --uid 1000 dynamik
# Pango and a font for WeasyPrint (the report pack PDF).
RUN apt-get update && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 \
    fonts-dejavu-core && rm -rf /var/lib/apt/lists/*
# Production dependencies only, exactly as locked (every file's hash checked; `make lock` writes it).
COPY requirements.txt ./
RUN pip install --require-hashes -r requirements.txt
COPY . .
# collectstatic needs settings but no real secrets or database.
RUN DEBUG=false SECRET_KEY=build-only FIELD_ENCRYPTION_KEYS=YnVpbGQtb25seS1rZXktMDAwMDAwMDAwMDAwMDAwMDA= \
    TRIPLETEX_CONSUMER_TOKEN=build-only DATABASE_URL=sqlite:////tmp/build.sqlite3 \
    python manage.py collectstatic --noinput \
 && mkdir -p /app/var/contract-notes && chown -R dynamik /app/var
USER dynamik
EXPOSE 8000
CMD ["gunicorn", "dynamik.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
