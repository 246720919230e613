# syntax=docker/dockerfile:1
# SyncTV server image: `docker build -t synctv .`, then `docker run -p 8080:8080 -v synctv:/data synctv`.
# Cluster mode is configured with SYNCTV_* environment variables (see README.md and docker-compose.yml).

# --- web client dependencies (hls.js) ---------------------------------------------------------------------------
FROM node:20-bookworm-slim AS web
WORKDIR /src
COPY synctv/web/package.json synctv/web/package-lock.json synctv/web/
RUN npm ci --prefix synctv/web --omit=dev --no-audit --no-fund

# --- Python package into a self-contained virtualenv ----------------------------------------------------------
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
WORKDIR /src
COPY pyproject.toml README.md ./
COPY synctv ./synctv
COPY --from=web /src/synctv/web/node_modules ./synctv/web/node_modules
RUN /opt/venv/bin/pip install .

# --- runtime ---------------------------------------------------------------------------------------------------
FROM python:3.11-slim
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN groupadd --system --gid 10001 synctv \
 && useradd --system --uid 10001 --gid synctv --home-dir /data --shell /usr/sbin/nologin synctv \
 && mkdir -p /data && chown synctv:synctv /data
COPY --from=build /opt/venv /opt/venv
USER synctv:synctv
WORKDIR /data
VOLUME ["/data"]
# 8080: HTTP API, WebSocket, web client, /live /ready /health /metrics; 9090: cluster mesh gRPC.
EXPOSE 8080 9090
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD python -c "import os,urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/live' % os.environ.get('SYNCTV_SERVER_HTTP_PORT', '8080'), timeout=2)" || exit 1
# Exec form: the server is PID 1 and gets SIGTERM itself (not-ready, leave discovery, close WebSockets, exit).
STOPSIGNAL SIGTERM
ENTRYPOINT ["synctv"]
CMD ["serve", "--data-dir", "/data"]
