# Mission Control: the health dashboard as a container.
#   docker build -t mission-control .
#   docker run --rm -p 9993:9993 -p 9994:9994 mission-control        # the demo fleet
# For a Bytebot deployment use docker-compose.dashboard.yml (README, "Docker").
FROM python:3.11-slim

# HEALTH_CONFIG_PATH: in a container the Bytebot services are compose hostnames, never 127.0.0.1.
# A variable, not a --config flag, so `python -m ops.bytebot_health` (docker exec, a HEALTHCHECK)
# reads the same file as the dashboard. Mount your own file and point the variable at it to change it.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HEALTH_CONFIG_PATH=/app/config/docker.health_config.json

WORKDIR /app

# Dependencies first (exact pins), so a code change does not reinstall them.
COPY requirements.txt ./
RUN pip install --no-cache-dir -r requirements.txt

# The code: only the runtime folders (no tests, benchmarks or data; see .dockerignore).
COPY config/ config/
COPY ops/ ops/
COPY layouts/ layouts/
COPY callbacks/ callbacks/
COPY dash_app/ dash_app/

# A non-root user owns only the data dir: history, recovery log, state and dashboard.log live there.
RUN useradd --uid 10001 --user-group --no-create-home --home-dir /app mc \
    && mkdir -p /app/data \
    && chown mc:mc /app/data
USER mc
VOLUME ["/app/data"]

EXPOSE 9993 9994

# Is the dashboard itself serving? (Not the fleet's health: a Bytebot outage must not mark the
# dashboard unhealthy; that is what `python -m ops.bytebot_health` is for.) Sends DASHBOARD_API_KEY
# when set, for auth.protect_reads. No curl in the slim image: Python's urllib.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request as u; k = os.environ.get('DASHBOARD_API_KEY'); u.urlopen(u.Request('http://127.0.0.1:9993/api/health', headers={'X-API-Key': k} if k else {}), timeout=4)"]

# The demo fleet, reachable from outside the container. Binding a non-loopback address without
# auth is refused unless --insecure: fine for the demo (it controls nothing but its own toy
# services); a real deployment sets DASHBOARD_API_KEY and drops --insecure (see the compose file).
CMD ["python", "-m", "dash_app", "--demo", "--host", "0.0.0.0", "--insecure"]
