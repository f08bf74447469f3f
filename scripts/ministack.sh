#!/usr/bin/env bash
# Start or stop MiniStack on loopback.  Usage: scripts/ministack.sh start|stop|status [PORT]
set -euo pipefail
cd "$(dirname "$0")/.."
port="${2:-${MINISTACK_PORT:-4566}}"
state=".local/ministack-${port}"
mkdir -p .local
health() { curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:${port}/_ministack/health"; }

case "${1:-}" in
start)
  if health; then echo "MiniStack already answers on 127.0.0.1:${port}; reusing it."; exit 0; fi
  # Loopback only; IOT_MTLS_ENABLED=false keeps its MQTT listener closed.
  BIND_HOST=127.0.0.1 GATEWAY_PORT="${port}" IOT_MTLS_ENABLED=false \
    nohup .venv-ministack/bin/ministack >"${state}.log" 2>&1 &
  echo $! >"${state}.pid"
  for _ in $(seq 1 60); do
    if health; then echo "MiniStack started on 127.0.0.1:${port} (log: ${state}.log)"; exit 0; fi
    sleep 0.5
  done
  echo "MiniStack did not start; see ${state}.log" >&2; tail -n 20 "${state}.log" >&2; exit 1
  ;;
stop)
  if [ -f "${state}.pid" ]; then
    pid=$(cat "${state}.pid")
    # Its Lambda workers are its children: stop the whole group.
    pkill -TERM -P "$pid" 2>/dev/null || true
    kill "$pid" 2>/dev/null || true
    rm -f "${state}.pid"
    echo "MiniStack on port ${port} stopped."
  else
    echo "No MiniStack started by this project on port ${port}."
  fi
  ;;
status)
  if health; then echo "MiniStack answers on 127.0.0.1:${port}"; else echo "MiniStack is not running on port ${port}"; exit 1; fi
  ;;
*) echo "usage: $0 start|stop|status [PORT]" >&2; exit 2 ;;
esac
