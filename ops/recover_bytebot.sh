#!/usr/bin/env bash
# Restart ONE service of a Bytebot docker compose deployment; never the whole project.
#
#   ops/recover_bytebot.sh SERVICE
#
# SERVICE is the monitor's name (bytebot-desktop, bytebot-agent, bytebot-ui, postgres, llm-proxy)
# or the compose service / container name it maps to. Anything else exits 2 without running docker.
#
# Environment:
#   BYTEBOT_COMPOSE_FILE     compose file (e.g. ~/bytebot/docker/docker-compose.yml); when set,
#                            the service is restarted with `docker compose -f FILE restart SERVICE`
#   BYTEBOT_COMPOSE_PROJECT  compose project name (-p), optional (Bytebot's file names it "bytebot")
#   BYTEBOT_RECOVER_MODE     "compose" or "container"; default: compose if BYTEBOT_COMPOSE_FILE is
#                            set, else `docker restart CONTAINER` (Bytebot sets fixed container names)
#   BYTEBOT_STOP_TIMEOUT     seconds docker waits for a clean stop before killing (default 10)
#   DOCKER                   the docker CLI to run (default: docker from PATH)
set -euo pipefail

usage() {
    echo "usage: $(basename "$0") SERVICE   (one of: bytebot-desktop bytebot-agent bytebot-ui postgres llm-proxy)" >&2
}

if [ "$#" -ne 1 ]; then
    usage
    exit 2
fi

# monitor name -> compose service and container name, from Bytebot's docker/docker-compose.yml
# (llm-proxy from docker-compose.proxy.yml).
case "$1" in
    bytebot-desktop)                     compose_service=bytebot-desktop;   container=bytebot-desktop ;;
    bytebot-agent)                       compose_service=bytebot-agent;     container=bytebot-agent ;;
    bytebot-ui)                          compose_service=bytebot-ui;        container=bytebot-ui ;;
    postgres | bytebot-postgres)         compose_service=postgres;          container=bytebot-postgres ;;
    llm-proxy | bytebot-llm-proxy)       compose_service=bytebot-llm-proxy; container=bytebot-llm-proxy ;;
    *)
        echo "recover_bytebot.sh: refusing unknown service '$1' (nothing restarted)" >&2
        usage
        exit 2
        ;;
esac

docker_cli=${DOCKER:-docker}
stop_timeout=${BYTEBOT_STOP_TIMEOUT:-10}
case "$stop_timeout" in
    '' | *[!0-9]*) echo "recover_bytebot.sh: BYTEBOT_STOP_TIMEOUT must be whole seconds" >&2; exit 2 ;;
esac

mode=${BYTEBOT_RECOVER_MODE:-}
if [ -z "$mode" ]; then
    if [ -n "${BYTEBOT_COMPOSE_FILE:-}" ]; then mode=compose; else mode=container; fi
fi

if ! command -v "$docker_cli" >/dev/null 2>&1; then
    echo "recover_bytebot.sh: '$docker_cli' not found on PATH" >&2
    exit 127
fi

case "$mode" in
    compose)
        args=(compose)
        if [ -n "${BYTEBOT_COMPOSE_FILE:-}" ]; then args+=(-f "$BYTEBOT_COMPOSE_FILE"); fi
        if [ -n "${BYTEBOT_COMPOSE_PROJECT:-}" ]; then args+=(-p "$BYTEBOT_COMPOSE_PROJECT"); fi
        args+=(restart -t "$stop_timeout" "$compose_service")
        echo "recover_bytebot.sh: restarting compose service $compose_service" >&2
        ;;
    container)
        args=(restart -t "$stop_timeout" "$container")
        echo "recover_bytebot.sh: restarting container $container" >&2
        ;;
    *)
        echo "recover_bytebot.sh: BYTEBOT_RECOVER_MODE must be 'compose' or 'container', not '$mode'" >&2
        exit 2
        ;;
esac

exec "$docker_cli" "${args[@]}"
