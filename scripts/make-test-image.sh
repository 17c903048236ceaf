#!/usr/bin/env bash
# Builds the image the end-to-end tests run, backupvol-test/busybox:latest, with `docker import` from the
# host's busybox (no registry needed): /bin/busybox with its applets linked, /tmp, /etc/passwd and /etc/group.
# Does nothing when the image exists; FORCE=1 rebuilds it.
#
# Usage: scripts/make-test-image.sh [IMAGE]
set -euo pipefail

image=${1:-backupvol-test/busybox:latest}
if [[ ${FORCE:-0} != 1 ]] && docker image inspect "$image" >/dev/null 2>&1; then
  exit 0
fi
"$(dirname "${BASH_SOURCE[0]}")/install-packages.sh" busybox

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
busybox_bin=$(readlink -f "$(command -v busybox)")
mkdir -p "$root"/{bin,etc,root,proc,sys,dev}
install -d -m 1777 "$root/tmp"
cp "$busybox_bin" "$root/bin/busybox"
# A dynamically linked busybox (Debian's `busybox` package) brings its libraries along.
while read -r lib; do
  mkdir -p "$root$(dirname "$lib")"
  cp -L "$lib" "$root$lib"
done < <(ldd "$busybox_bin" 2>/dev/null | awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^\//) print $i }' || true)
for applet in $("$busybox_bin" --list); do
  [[ $applet == busybox || -e $root/bin/$applet ]] || ln -s busybox "$root/bin/$applet"
done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$root/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"

tar -C "$root" --numeric-owner -c . |
  docker import --change 'CMD ["/bin/sh"]' --change 'ENV PATH=/bin' --message 'backupvol test image' - "$image" >/dev/null
echo "make-test-image: built $image" >&2
