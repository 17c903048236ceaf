#!/usr/bin/env bash
# Pushes the plugin built in plugin/ to a registry as REFERENCE (e.g. 127.0.0.1:5000/backupvol:latest),
# without touching a plugin installed locally from the same build.
#
# The engine (20.10) refuses to create a second plugin whose rootfs layer is byte for byte one it already
# holds ("content sha256:...: already exists"), so the pushed copy carries one extra file,
# /etc/backupvol-reference, naming where it was pushed. The copy is made of hard links: no data is copied.
#
# Usage: scripts/push-plugin.sh REFERENCE [PLUGIN_DIR]
set -euo pipefail

reference=${1:?usage: push-plugin.sh REFERENCE [PLUGIN_DIR]}
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
plugin_dir=${2:-$repo/plugin}
[[ -f $plugin_dir/config.json && -d $plugin_dir/rootfs ]] || {
  echo "push-plugin: no plugin in $plugin_dir (make rootfs)" >&2
  exit 1
}

mkdir -p "$repo/.build"
stage=$(mktemp -d "$repo/.build/push.XXXXXX")
cleanup() {
  docker plugin rm -f "$reference" >/dev/null 2>&1 || true
  rm -rf "$stage"
}
trap cleanup EXIT

cp -al "$plugin_dir/." "$stage/" 2>/dev/null || cp -a "$plugin_dir/." "$stage/"
printf '%s\n' "$reference" >"$stage/rootfs/etc/backupvol-reference"

if docker plugin inspect "$reference" >/dev/null 2>&1; then docker plugin rm -f "$reference" >/dev/null; fi
docker plugin create "$reference" "$stage" >/dev/null
docker plugin push "$reference"
