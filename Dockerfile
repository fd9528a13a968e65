# aftercare: the bot as a slim, non-root image. `docker compose up` (docker-compose.yml) runs it
# on PostgreSQL with two workers; see docs/operators.md.
FROM python:3.11-slim AS build
WORKDIR /src
# Only what the package is built from (pyproject's packages): no tests, no .env, no database.
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY care ./care
COPY config ./config
COPY db ./db
COPY messages ./messages
COPY scheduler ./scheduler
COPY delivery ./delivery
COPY fake_telegram ./fake_telegram
RUN python -m venv /opt/aftercare \
    && /opt/aftercare/bin/pip install --no-cache-dir --upgrade pip \
    && /opt/aftercare/bin/pip install --no-cache-dir . \
    && /opt/aftercare/bin/aftercare --version

FROM python:3.11-slim
RUN useradd --system --uid 10001 --user-group --home-dir /var/lib/aftercare --create-home aftercare
COPY --from=build /opt/aftercare /opt/aftercare
ENV PATH=/opt/aftercare/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    STATUS_LISTEN=0.0.0.0:9464
USER aftercare
WORKDIR /var/lib/aftercare
# 9464: /healthz, /readyz, /metrics. 8443: the webhook, when WEBHOOK_URL is set.
EXPOSE 9464 8443
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:9464/healthz', timeout=4)"]
ENTRYPOINT ["aftercare"]
CMD ["run"]
