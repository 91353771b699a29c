#!/usr/bin/env bash
# Builds every component image, trellis/<component>:<version>, from this repo's build output.
#
#   deploy/images/build.sh [--base IMAGE] [--tag TAG] [--no-build] [COMPONENT...]
#
#   --base IMAGE   the base of every image (default: each Dockerfile's, the official Node image
#                  pinned by digest; on a host without a registry, deploy/images/base/build-base.sh
#                  builds trellis/base:<node version>, and --base local uses it, building it first)
#   --tag TAG      the images' tag (default: the repo's version, package.json)
#   --no-build     skip `npm run build` (the build output is there already)
#   COMPONENT      any of the components below (default: all)
#
# The build context is a staged copy of the workspace: the lockfile and manifests, each package's
# published files (its "files": dist without tests, benches or test support; the CNI plugin
# executable; netsys.node) and the production node_modules of `npm ci --omit=dev` (from npm's
# cache when it has them). Each Dockerfile's first stage takes its component's runtime closure out
# of it (deploy/images/runtime-closure.mjs). Builds use the host's network namespace (no bridge
# needed; only the CNI image's apt-get on a base without iptables reaches out). Prints one line
# per image: reference, size in bytes. TRELLIS_IMAGES_STAGE=DIR keeps the staged tree there.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
COMPONENTS=(control-plane ztunnel waypoint cni echo echo-advanced)

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }
die() {
  echo "build.sh: $*" >&2
  exit 2
}

base= tag= build=1 selected=()
while [ $# -gt 0 ]; do
  case "$1" in
  --base) [ $# -ge 2 ] && [ -n "$2" ] || die "--base needs an image"; base=$2; shift ;;
  --tag) [ $# -ge 2 ] && [ -n "$2" ] || die "--tag needs a tag"; tag=$2; shift ;;
  --no-build) build= ;;
  -h | --help) usage; exit 0 ;;
  -*) die "unknown flag '$1' (see --help)" ;;
  *)
    [[ " ${COMPONENTS[*]} " == *" $1 "* ]] || die "unknown component '$1' (one of: ${COMPONENTS[*]})"
    selected+=("$1")
    ;;
  esac
  shift
done
[ ${#selected[@]} -gt 0 ] || selected=("${COMPONENTS[@]}")
tag=${tag:-$(node -p 'require(process.argv[1]).version' "$repo/package.json")}
[[ "$tag" =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$ ]] || die "'$tag' is not a valid image tag"

docker version >/dev/null 2>&1 || die "no Docker engine at ${DOCKER_HOST:-the default socket}"
if [ "$base" = local ]; then
  base=$("$here/base/build-base.sh")
fi

if [ -n "$build" ]; then
  (cd "$repo" && npm run build --silent >&2) || die "npm run build failed"
fi
for f in packages/cni/dist/trellis-cni packages/netsys/build/Release/netsys.node; do
  [ -f "$repo/$f" ] || die "$f is missing: run npm run build"
done

stage=${TRELLIS_IMAGES_STAGE:-}
if [ -z "$stage" ]; then
  stage=$(mktemp -d /var/tmp/trellis-images.XXXXXX)
  trap 'rm -rf "$stage"' EXIT
fi
mkdir -p "$stage"
echo "build.sh: staging the workspace in $stage" >&2
(
  cd "$repo"
  tar -c package.json package-lock.json e2e/package.json packages/*/package.json
) | tar -C "$stage" -x
(cd "$stage" && npm ci --omit=dev --ignore-scripts --prefer-offline --no-audit --no-fund --loglevel=error >&2) ||
  die "npm ci --omit=dev failed in $stage"
(
  cd "$repo"
  tar -c --exclude='*.test.*' --exclude='*.tsbuildinfo' --exclude='test-support*' --exclude=testing \
    --exclude='packages/*/dist/bench' --exclude=packages/cni/dist/sea \
    packages/*/dist packages/echo/bin packages/echo/proto packages/netsys/build/Release/netsys.node \
    packages/local-cluster/images/echo-advanced deploy/images/runtime-closure.mjs
) | tar -C "$stage" -x

export DOCKER_BUILDKIT=0 # the classic builder: no buildx needed, and it caches the shared stage
for c in "${selected[@]}"; do
  ref=trellis/$c:$tag
  args=(build --network host --file "$here/$c/Dockerfile" --tag "$ref" --quiet)
  [ -z "$base" ] || args+=(--build-arg "BASE=$base")
  echo "build.sh: building $ref${base:+ on $base}" >&2
  docker "${args[@]}" "$stage" >/dev/null
  echo "$ref $(docker image inspect -f '{{.Size}}' "$ref")"
done
# The build stages' images (labelled as such) are of no use once the images are built.
docker image prune --force --filter label=dev.trellis.build-stage=true >/dev/null
