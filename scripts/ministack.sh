#!/usr/bin/env bash
# Start or stop MiniStack on loopback, with the local mail server it relays SES mail to.
# Usage: scripts/ministack.sh start|stop|status [PORT]
set -euo pipefail
cd "$(dirname "$0")/.."
port="${2:-${MINISTACK_PORT:-4566}}"
state=".local/ministack-${port}"
mail=".local/smtp-${port}"   # the mail server of this MiniStack: .pid, .port, .log
maildir=".local/maildir"
mkdir -p .local
health() { curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:${port}/_ministack/health" 2>/dev/null; }
running() { ps -o stat= -p "$1" 2>/dev/null | grep -qv '^Z'; }   # a zombie has ended
alive() { [ -f "$1.pid" ] && running "$(cat "$1.pid")"; }

# The SMTP server (scripts/mailserver.py) on loopback, delivering to the Maildir. Port
# 0 takes a free one; the server writes it to ${mail}.port once it accepts mail.
start_mail() {
  rm -f "${mail}.port"
  nohup .venv/bin/python -m scripts.mailserver --maildir "${maildir}" --port "${1:-0}" \
    --port-file "${mail}.port" >"${mail}.log" 2>&1 &
  echo $! >"${mail}.pid"
  for _ in $(seq 1 40); do
    if [ -s "${mail}.port" ]; then echo "Mail server on 127.0.0.1:$(cat "${mail}.port") -> ${maildir}"; return 0; fi
    if ! alive "${mail}"; then break; fi
    sleep 0.25
  done
  echo "The mail server did not start; see ${mail}.log" >&2; tail -n 20 "${mail}.log" >&2; exit 1
}

stop_pid() {  # stop_pid STATE NAME: TERM the process (and its children), wait for it to end
  [ -f "$1.pid" ] || return 1
  local pid; pid=$(cat "$1.pid")
  pkill -TERM -P "$pid" 2>/dev/null || true
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 40); do running "$pid" || break; sleep 0.25; done
  rm -f "$1.pid"
  echo "$2 on port ${port} stopped."
}

case "${1:-}" in
start)
  if health; then
    echo "MiniStack already answers on 127.0.0.1:${port}; reusing it."
    if ! alive "${mail}"; then
      if [ -s "${state}.smtp" ]; then
        start_mail "$(cat "${state}.smtp")"   # the port this MiniStack relays to
      else
        echo "warning: this MiniStack was not started with the mail relay; emails reach no mailbox" \
          "(make stop MINISTACK_PORT=${port}, then make run)." >&2
      fi
    fi
    exit 0
  fi
  if alive "${mail}"; then stop_pid "${mail}" "Mail server" >/dev/null; fi
  start_mail 0
  smtp_port=$(cat "${mail}.port")
  echo "${smtp_port}" >"${state}.smtp"
  # Loopback only; IOT_MTLS_ENABLED=false keeps its MQTT listener closed. SMTP_HOST
  # turns on its SES relay: every email SES sends (Cognito's codes too) goes there.
  BIND_HOST=127.0.0.1 GATEWAY_PORT="${port}" IOT_MTLS_ENABLED=false SMTP_HOST="127.0.0.1:${smtp_port}" \
    nohup .venv-ministack/bin/ministack >"${state}.log" 2>&1 &
  echo $! >"${state}.pid"
  for _ in $(seq 1 60); do
    if health; then echo "MiniStack started on 127.0.0.1:${port} (log: ${state}.log)"; exit 0; fi
    sleep 0.5
  done
  echo "MiniStack did not start; see ${state}.log" >&2; tail -n 20 "${state}.log" >&2; exit 1
  ;;
stop)
  # Its Lambda workers are its children: the whole group goes.
  stop_pid "${state}" "MiniStack" || echo "No MiniStack started by this project on port ${port}."
  stop_pid "${mail}" "Mail server" || true
  rm -f "${state}.smtp"
  ;;
status)
  if alive "${mail}" && [ -s "${mail}.port" ]; then
    echo "Mail server on 127.0.0.1:$(cat "${mail}.port") -> ${maildir}"
  else
    echo "No mail server for port ${port}"
  fi
  if health; then echo "MiniStack answers on 127.0.0.1:${port}"; else echo "MiniStack is not running on port ${port}"; exit 1; fi
  ;;
*) echo "usage: $0 start|stop|status [PORT]" >&2; exit 2 ;;
esac
