#!/usr/bin/env bash
# Start or stop the web console's local server on loopback.
# Usage: console/console.sh start|stop PORT [MINISTACK_PORT]
set -euo pipefail
cd "$(dirname "$0")/.."
port="${2:-${CONSOLE_PORT:-8400}}"
ministack_port="${3:-${MINISTACK_PORT:-4566}}"
state=".local/console-${port}"
mkdir -p .local
up() { curl -fs -o /dev/null --max-time 2 "http://127.0.0.1:${port}/config.json"; }

case "${1:-}" in
start)
  if [ -f "${state}.pid" ] && kill -0 "$(cat "${state}.pid")" 2>/dev/null; then
    kill "$(cat "${state}.pid")" 2>/dev/null || true  # restart: the stack may have been redeployed
    sleep 0.3
  fi
  AWS_ENDPOINT_URL="http://127.0.0.1:${ministack_port}" \
    nohup .venv/bin/python -m console.serve --port "${port}" >"${state}.log" 2>&1 &
  echo $! >"${state}.pid"
  for _ in $(seq 1 40); do
    if up; then echo "Console: http://127.0.0.1:${port}/  (log: ${state}.log)"; exit 0; fi
    sleep 0.25
  done
  echo "The console did not start; see ${state}.log" >&2; tail -n 20 "${state}.log" >&2; exit 1
  ;;
stop)
  if [ -f "${state}.pid" ]; then
    kill "$(cat "${state}.pid")" 2>/dev/null || true
    rm -f "${state}.pid"
    echo "Console on port ${port} stopped."
  fi
  ;;
*) echo "usage: $0 start|stop PORT [MINISTACK_PORT]" >&2; exit 2 ;;
esac
