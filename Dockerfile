FROM python:3.12-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 VAR_DIR=/app/var
WORKDIR /app
COPY pyproject.toml README.md requirements.lock ./
RUN pip install --no-cache-dir -r requirements.lock && pip install --no-cache-dir --no-deps .
COPY . .
RUN pip install --no-cache-dir polib && python scripts/compile_messages.py \
    && DJANGO_ENV=production SECRET_KEY=build-only ALLOWED_HOSTS=build SITE_URL=http://build \
       python manage.py collectstatic --no-input
RUN useradd --create-home app && mkdir -p /app/var && chown -R app /app/var
USER app
EXPOSE 8000
CMD ["gunicorn", "-c", "gunicorn.conf.py", "config.wsgi:application"]
