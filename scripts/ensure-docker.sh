#!/usr/bin/env bash
# Makes sure a Docker Engine answers. When `docker info` fails, installs what is missing (docker.io and the
# other Debian packages the build and the tests use), starts dockerd in the background and waits for it.
# Idempotent: with a working engine it only installs missing packages.
#
# The dockerd it starts logs to $BACKUPVOL_DOCKERD_LOG (/tmp/dockerd.log) and its pid is written to
# $BACKUPVOL_DOCKERD_PIDFILE (/run/backupvol-dockerd.pid), so whoever called this can stop exactly that one.
# Prints "started" on stdout when it started a dockerd, "running" when one was already answering.
set -euo pipefail

log_file=${BACKUPVOL_DOCKERD_LOG:-/tmp/dockerd.log}
pid_file=${BACKUPVOL_DOCKERD_PIDFILE:-/run/backupvol-dockerd.pid}
wait_seconds=${BACKUPVOL_DOCKERD_WAIT:-60}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export PATH=$PATH:/usr/sbin:/sbin

log() { echo "ensure-docker: $*" >&2; }
# The dockerd we started or found, or the one that wrote /var/run/docker.pid since.
dockerd_alive() {
  local recorded
  kill -0 "$pid" 2>/dev/null && return 0
  recorded=$(cat /var/run/docker.pid 2>/dev/null) || return 1
  [[ $recorded =~ ^[0-9]+$ ]] && kill -0 "$recorded" 2>/dev/null
}

# Installing docker.io starts the service on a host with an init system: the check below sees it.
"$here/install-packages.sh"

if timeout 20 docker info >/dev/null 2>&1; then
  echo running
  exit 0
fi
# dockerd records its pid in /var/run/docker.pid. One that is alive but not answering yet (still restoring
# plugins and containers) is waited for rather than doubled.
started=running
pid=$(cat /var/run/docker.pid 2>/dev/null || true)
if [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null; then
  log "dockerd $pid is running but not answering yet; waiting"
else
  started=started
  log "starting dockerd (log: $log_file)"
  # A pidfile left by a dockerd that died uncleanly makes the new one refuse to start.
  rm -f /var/run/docker.pid
  # setsid: the engine must outlive the shell, make and test runner that started it.
  setsid dockerd </dev/null >>"$log_file" 2>&1 &
  pid=$!
  echo "$pid" >"$pid_file"
fi

for ((second = 0; second < wait_seconds; second++)); do
  if timeout 20 docker info >/dev/null 2>&1; then
    log "dockerd answers after ${second}s"
    # dockerd's own pidfile is the truth (setsid may have forked).
    if [[ $started == started && -f /var/run/docker.pid ]]; then
      cp /var/run/docker.pid "$pid_file"
    fi
    echo "$started"
    exit 0
  fi
  if ! dockerd_alive; then
    log "dockerd exited; the end of $log_file:"
    tail -n 30 "$log_file" >&2
    exit 1
  fi
  sleep 1
done
log "dockerd did not answer within ${wait_seconds}s; the end of $log_file:"
tail -n 30 "$log_file" >&2
exit 1
