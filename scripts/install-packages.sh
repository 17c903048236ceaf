#!/usr/bin/env bash
# Installs the Debian packages behind the given commands when a command is missing (apt-get update runs
# at most once). Commands it knows: dockerd docker-compose docker-registry busybox pigz zstd rsync pgrep
# sshd apache2 (the real SFTP and WebDAV servers the target tests start on ports of their own),
# gpg age script (the tests open encrypted archives with the gpg and age CLIs).
# Without arguments: all of them.
#
# Usage: scripts/install-packages.sh [COMMAND...]
set -euo pipefail

declare -A package_of=(
  [dockerd]=docker.io
  [docker-compose]=docker-compose
  [docker-registry]=docker-registry
  [busybox]=busybox-static
  [pigz]=pigz
  [zstd]=zstd
  [rsync]=rsync
  [pgrep]=procps
  [sshd]=openssh-server
  [apache2]=apache2
  [gpg]=gnupg
  [age]=age
  [script]=bsdutils
)
commands=("$@")
if [[ ${#commands[@]} -eq 0 ]]; then
  commands=(dockerd docker-compose docker-registry busybox pigz zstd rsync pgrep sshd apache2 gpg age script)
fi

missing=()
for command in "${commands[@]}"; do
  package=${package_of[$command]:-}
  [[ -n $package ]] || { echo "install-packages: unknown command $command" >&2; exit 2; }
  if ! PATH=$PATH:/usr/sbin:/sbin command -v "$command" >/dev/null 2>&1; then
    missing+=("$package")
  fi
done
[[ ${#missing[@]} -gt 0 ]] || exit 0

if [[ $(id -u) -ne 0 ]]; then
  echo "install-packages: missing ${missing[*]}; run as root or install them" >&2
  exit 1
fi
echo "install-packages: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2
# No recommends: docker.io's would pull apparmor, whose profiles a test host does not need.
# policy-rc.d 101: openssh-server's and apache2's postinst must not start the machine's own daemons (the
# tests start theirs on free ports; a CI host's port 22 or 80 is none of ours).
policy=/usr/sbin/policy-rc.d
added_policy=false
if [[ ! -e $policy ]]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 0755 "$policy" && added_policy=true
fi
status=0
apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2 || status=$?
if $added_policy; then rm -f "$policy"; fi
exit "$status"
