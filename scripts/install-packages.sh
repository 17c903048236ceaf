#!/usr/bin/env bash
# Installs the Debian packages behind the given commands when a command is missing (apt-get update runs
# at most once). Commands it knows: dockerd docker-compose docker-registry busybox pigz zstd rsync pgrep
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
  [gpg]=gnupg
  [age]=age
  [script]=bsdutils
)
commands=("$@")
if [[ ${#commands[@]} -eq 0 ]]; then
  commands=(dockerd docker-compose docker-registry busybox pigz zstd rsync pgrep gpg age script)
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
apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
