#!/usr/bin/env bash
# Assembles the managed plugin that `docker plugin create backupvol plugin/` reads: plugin/config.json and
# plugin/rootfs, from files of this machine only (no image is pulled): the Node binary and the libraries it
# links, busybox (mount, umount, sh, ...), zstd and pigz (as unpigz: restores of gzip archives), CA
# certificates, and the app (dist/src plus its production node_modules).
#
# Usage: rootfs-build/build.sh [OUTPUT_DIR]   (default: plugin/ at the top of the repository)
# Needs `npm run build` first. Installs the Debian packages busybox-static, pigz and zstd when missing.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=${1:-$repo/plugin}
rootfs=$out/rootfs
deps_dir=$repo/.build/app-deps
node_bin=${NODE_BIN:-$(readlink -f "$(command -v node)")}

log() { echo "rootfs-build: $*" >&2; }
die() { log "error: $*"; exit 1; }

[[ -f $repo/dist/src/main.js ]] || die "dist/src/main.js is missing: run 'npm ci && npm run build' first"
[[ -x $node_bin ]] || die "no node binary at $node_bin"
"$repo/scripts/install-packages.sh" busybox pigz zstd

# Copies FILE to the same path under the rootfs, dereferencing symlinks.
copy_file() {
  local file=$1
  mkdir -p "$rootfs$(dirname "$file")"
  cp -L --preserve=mode "$file" "$rootfs$file"
}

# Copies a binary to the same path in the rootfs, with every library `ldd` lists and the dynamic loader
# at the paths the binary asks for. A static binary (ldd: "not a dynamic executable") is copied alone.
copy_with_libs() {
  local binary=$1 target=${2:-$1} lib
  mkdir -p "$rootfs$(dirname "$target")"
  cp -L --preserve=mode "$binary" "$rootfs$target"
  while read -r lib; do
    copy_file "$lib"
  done < <(ldd "$binary" 2>/dev/null | awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^\//) print $i }' | sort -u || true)
}

log "assembling $rootfs"
rm -rf "$rootfs"
mkdir -p "$rootfs"
# The merged /usr layout of current Debian: /bin, /sbin, /lib and /lib64 lead into /usr (relative links,
# so they resolve inside the rootfs from the host too, which bin/backupvol relies on).
mkdir -p "$rootfs"/usr/{bin,sbin,lib,lib64}
for dir in bin sbin lib lib64; do ln -s "usr/$dir" "$rootfs/$dir"; done
mkdir -p "$rootfs"/{etc,root,proc,sys,dev,run/docker/plugins,run/secrets,var/lib/backupvol,mnt/volumes,archive,app}
install -d -m 1777 "$rootfs/tmp"
ln -s ../run "$rootfs/var/run"
ln -s ../tmp "$rootfs/var/tmp"

# Node, installed where the entrypoint expects it.
copy_with_libs "$node_bin" /usr/bin/node

# busybox: the shell and the mount tools the app runs, plus a few applets that help when debugging.
busybox_bin=$(readlink -f "$(command -v busybox)")
copy_with_libs "$busybox_bin" /bin/busybox
applets=$("$busybox_bin" --list)
for applet in sh ash mount umount mountpoint mkfifo cat ls cp mv rm rmdir mkdir ln chmod chown touch stat df du \
  find grep sed awk head tail wc sort env id ps kill sleep date sync tar gzip gunzip zcat sha256sum \
  readlink realpath test true false echo printf nsenter; do
  if grep -qx "$applet" <<<"$applets"; then
    ln -s busybox "$rootfs/bin/$applet"
  fi
done

for tool in pigz zstd; do
  copy_with_libs "$(readlink -f "$(command -v "$tool")")" "/usr/bin/$tool"
done
ln -s pigz "$rootfs/usr/bin/unpigz"

# TLS roots for the network targets, and time zone data for TZ.
if [[ -f /etc/ssl/certs/ca-certificates.crt ]]; then
  copy_file /etc/ssl/certs/ca-certificates.crt
fi
if [[ -d /usr/share/zoneinfo ]]; then
  mkdir -p "$rootfs/usr/share"
  cp -a /usr/share/zoneinfo "$rootfs/usr/share/zoneinfo"
fi

cat >"$rootfs/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
cat >"$rootfs/etc/group" <<'EOF'
root:x:0:
nogroup:x:65534:
EOF
echo 'hosts: files dns' >"$rootfs/etc/nsswitch.conf"
# Mount targets: the engine binds the host's files over these.
: >"$rootfs/etc/hosts"
: >"$rootfs/etc/resolv.conf"

# The app: compiled sources, package.json and the production dependencies (installed once per lockfile).
lock_sum=$(cat "$repo/package.json" "$repo/package-lock.json" | sha256sum | cut -d' ' -f1)
if [[ ! -f $deps_dir/.lock-sum || $(cat "$deps_dir/.lock-sum") != "$lock_sum" ]]; then
  log "installing production dependencies in $deps_dir"
  rm -rf "$deps_dir"
  mkdir -p "$deps_dir"
  cp "$repo/package.json" "$repo/package-lock.json" "$deps_dir/"
  (cd "$deps_dir" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error >&2)
  echo "$lock_sum" >"$deps_dir/.lock-sum"
fi
mkdir -p "$rootfs/app/dist"
cp -a "$repo/dist/src" "$rootfs/app/dist/src"
cp "$repo/package.json" "$repo/package-lock.json" "$rootfs/app/"
if [[ -d $deps_dir/node_modules ]]; then
  cp -a "$deps_dir/node_modules" "$rootfs/app/node_modules"
fi

cp "$repo/config.json" "$out/config.json"

# The rootfs must be able to start its own Node: fail here rather than at `docker plugin enable`.
loader=$(ldd "$node_bin" | grep -oE '/[^[:space:]]*ld-linux[^[:space:]]*' | head -n1)
libpath=$(find "$rootfs/usr/lib" "$rootfs/usr/lib64" -name '*.so*' -printf '%h\n' | sort -u | paste -sd:)
"$rootfs$loader" --library-path "$libpath" "$rootfs/usr/bin/node" -e 'process.exit(0)' ||
  die "the node in $rootfs does not start"
log "done: $(du -sh "$rootfs" | cut -f1) in $rootfs"
