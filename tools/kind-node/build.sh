#!/usr/bin/env bash
# Builds the kind node image trellis/kind-node:<k8s version> on a host without an image registry,
# from Debian packages and Go modules only; skipped when the image exists (--force rebuilds).
#
#   tools/kind-node/build.sh [--force]     # prints the image reference on stdout
#
# What goes in (see README.md):
# - trellis/kind-base:<key>: a Debian rootfs (mmdebstrap, this machine's apt sources) with systemd,
#   containerd, runc, the CNI plugins, iptables/nftables, plus crictl (tools/kind, Go module) and
#   this directory's rootfs/ (entrypoint, containerd config, CNI template, kubelet unit);
# - kubelet, kubeadm, kubectl in /usr/bin (tools/kube/build.sh, the pinned Kubernetes module);
# - preloaded into the node's containerd, under the names kubeadm v<k8s> asks for: kube-apiserver,
#   kube-controller-manager, kube-scheduler (static binaries on an empty image), kube-proxy (on a
#   Debian minbase with iptables, nftables, conntrack), etcd (the Kubernetes module's pinned
#   etcd), CoreDNS (tools/coredns), pause (pause.c, static), and the pod-routes image of the default
#   CNI manifest (pod-routes.yaml);
# - the kind binary itself is built too (tools/kind), for `kind create cluster --image ...`.
#
# Root (mmdebstrap --mode=root, docker). DOCKER_HOST from tools/docker-here.sh env.
# TRELLIS_APT_SOURCES and TRELLIS_BASE_SUITE as for deploy/images/base/build-base.sh.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)

say() { echo "kind-node: $*" >&2; }
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
docker version >/dev/null 2>&1 ||
  die "no Docker engine at ${DOCKER_HOST:-the default socket} (tools/docker-here.sh start, then eval \"\$(tools/docker-here.sh env)\")"

# The programs, each built only when missing from its cache.
"$repo/tools/kube/build.sh" --node >&2
"$repo/tools/go-tool.sh" "$repo/tools/kind" >&2
"$repo/tools/go-tool.sh" "$repo/tools/coredns" >&2
kube_bin=$("$repo/tools/kube/build.sh" --print-bin-dir)
kind_bin=$("$repo/tools/go-tool.sh" "$repo/tools/kind" --print-bin-dir)
coredns_bin=$("$repo/tools/go-tool.sh" "$repo/tools/coredns" --print-bin-dir)
k8s_version=$("$kube_bin/kubelet" --version | awk '{print $2}')
[[ "$k8s_version" =~ ^v1\.[0-9]+\.[0-9]+$ ]] || die "cannot read the Kubernetes version from kubelet --version"
TAG=trellis/kind-node:$k8s_version

if [ -z "$force" ] && docker image inspect "$TAG" >/dev/null 2>&1; then
  say "$TAG exists (cached; --force rebuilds)"
  echo "$TAG"
  exit 0
fi
started=$(date +%s)

work=$(mktemp -d /var/tmp/trellis-kind-node.XXXXXX)
build_ctr=
cleanup() {
  [ -z "$build_ctr" ] || docker rm -f -v "$build_ctr" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

. "$repo/deploy/images/base/debian-rootfs.sh"
debian_rootfs_setup
debootstrap() { # DIR PACKAGES: a Debian minbase rootfs, without apt's caches
  debian_rootfs "$1" "$2" "$work/mmdebstrap.log"
  rm -rf "$1/var/cache/apt/archives/"*.deb "$1/var/lib/apt/lists/"*
}

# --- the base image: what kind's kindest/base holds, from Debian packages -------------------------
BASE_PACKAGES=systemd,systemd-sysv,containerd,runc,containernetworking-plugins,conntrack,iptables,nftables,iproute2,ethtool,util-linux,mount,kmod,libseccomp2,pigz,ca-certificates,procps,bash
base_key=$( (
  echo "$suite $BASE_PACKAGES"
  sha256sum "$kind_bin/crictl"
  cd "$here/rootfs" && find . -type f | sort | xargs sha256sum
) | sha256sum | cut -c1-12)
BASE=trellis/kind-base:$base_key
if [ -n "$force" ] || ! docker image inspect "$BASE" >/dev/null 2>&1; then
  say "building $BASE: debian $suite minbase + $BASE_PACKAGES"
  rootfs=$work/base
  debootstrap "$rootfs" "$BASE_PACKAGES"
  cp -a "$here/rootfs/." "$rootfs/"
  # containerd's bin_dir is kind's /opt/cni/bin, where CNI agents install their plugins.
  mkdir -p "$rootfs/opt/cni/bin"
  for p in "$rootfs"/usr/lib/cni/*; do ln -s "/usr/lib/cni/${p##*/}" "$rootfs/opt/cni/bin/"; done
  install -m 0755 "$kind_bin/crictl" "$rootfs/usr/local/bin/crictl"
  mkdir -p "$rootfs/etc/kubernetes/manifests" "$rootfs/etc/cni/net.d" "$rootfs/kind/manifests"
  # systemd as the container's init: only the units a node needs start (containerd, kubelet);
  # no getty, udev or kernel-log readers, which have nothing to do in a container.
  rm -f "$rootfs"/etc/systemd/system/*.wants/* \
    "$rootfs"/usr/lib/systemd/system/multi-user.target.wants/* \
    "$rootfs"/usr/lib/systemd/system/local-fs.target.wants/* \
    "$rootfs"/usr/lib/systemd/system/basic.target.wants/* \
    "$rootfs"/usr/lib/systemd/system/sockets.target.wants/*udev* \
    "$rootfs"/usr/lib/systemd/system/sockets.target.wants/*initctl* \
    "$rootfs"/usr/lib/systemd/system/sysinit.target.wants/systemd-tmpfiles-setup.service
  echo ReadKMsg=no >>"$rootfs/etc/systemd/journald.conf"
  systemctl --root="$rootfs" --quiet enable containerd.service kubelet.service
  systemctl --root="$rootfs" --quiet mask systemd-binfmt.service
  : >"$rootfs/etc/machine-id"
  tar -C "$rootfs" --numeric-owner -c . | docker import \
    --change 'ENV container=docker' \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENTRYPOINT ["/usr/local/bin/entrypoint", "/sbin/init"]' \
    --message "kind node base: Debian $suite + $BASE_PACKAGES (tools/kind-node/build.sh)" \
    - "$BASE" >/dev/null
  # systemd stops on SIGRTMIN+3 (docker import cannot set a stop signal; a build step can).
  printf 'FROM %s\nSTOPSIGNAL SIGRTMIN+3\n' "$BASE" | DOCKER_BUILDKIT=0 docker build -q -t "$BASE" - >/dev/null 2>&1
  rm -rf "$rootfs"
fi
say "base $BASE ($(docker image inspect -f '{{.Size}}' "$BASE" | awk '{printf "%.0f MB", $1 / 1e6}'))"

# --- the images the node runs, saved as archives for its containerd -------------------------------
images=$work/images
mkdir -p "$images"
image_from_dir() { # DIR REF [--change ...]: imports DIR as REF and saves it into $images
  local dir=$1 ref=$2
  shift 2
  tar -C "$dir" --numeric-owner -c . | docker import "$@" - "$ref" >/dev/null
  docker save "$ref" -o "$images/$(echo "$ref" | tr '/:' '__').tar"
  docker rmi "$ref" >/dev/null
}
static_image() { # REF BINARY NAME [ENTRYPOINT]: one static binary in /usr/local/bin of an empty image
  local ref=$1 bin=$2 name=$3 dir=$work/img
  rm -rf "$dir" && mkdir -p "$dir/usr/local/bin" "$dir/etc" "$dir/tmp" "$dir/var/run"
  chmod 1777 "$dir/tmp"
  install -m 0755 "$bin" "$dir/usr/local/bin/$name"
  printf 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/:/sbin/nologin\n' >"$dir/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$dir/etc/group"
  image_from_dir "$dir" "$ref" --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin' \
    --change "ENTRYPOINT [\"/usr/local/bin/${4:-$name}\"]"
}
# The names and tags kubeadm pulls for this Kubernetes version: every image is built under its name
# (the etcd and CoreDNS tags are kubeadm's, the binaries those pinned in tools/kube and
# tools/coredns; `docker run IMAGE --version` in each tells).
declare -A want
while read -r ref; do
  name=${ref##*/}
  want[${name%%:*}]=$ref
done < <("$kube_bin/kubeadm" config images list --kubernetes-version "$k8s_version")
for c in kube-apiserver kube-controller-manager kube-scheduler kube-proxy coredns pause etcd; do
  [ -n "${want[$c]:-}" ] || die "kubeadm config images list names no $c image"
done
for c in kube-apiserver kube-controller-manager kube-scheduler; do
  static_image "${want[$c]}" "$kube_bin/$c" "$c"
done
static_image "${want[etcd]}" "$kube_bin/etcd" etcd
static_image "${want[coredns]}" "$coredns_bin/coredns" coredns
gcc -static -Os -Wall -Wextra -o "$work/pause" "$here/pause.c"
strip "$work/pause"
static_image "${want[pause]}" "$work/pause" pause
grep -q "sandbox_image = \"${want[pause]}\"" "$here/rootfs/etc/containerd/config.toml" ||
  die "rootfs/etc/containerd/config.toml: sandbox_image is not ${want[pause]} (kubeadm's pause image)"

# kube-proxy and pod-routes run iptables/nftables and ip: a Debian minbase with those.
say "building the network tools rootfs (kube-proxy, pod-routes)"
net=$work/net
debootstrap "$net" iptables,nftables,conntrack,iproute2,ipset
install -m 0755 "$kube_bin/kube-proxy" "$net/usr/local/bin/kube-proxy"
image_from_dir "$net" "${want[kube-proxy]}" --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENTRYPOINT ["/usr/local/bin/kube-proxy"]'
rm "$net/usr/local/bin/kube-proxy"
install -m 0755 "$kube_bin/kubectl" "$net/usr/local/bin/kubectl"
image_from_dir "$net" "docker.io/trellis/kind-pod-routes:$k8s_version" \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
rm -rf "$net"

# --- the node image: the base, the Kubernetes binaries and the images in containerd's store -------
# As `kind build node-image` does (a container of the base, then docker commit), without its pulls
# from registries.
build_ctr=trellis-kind-node-build-$$
docker run -d --name "$build_ctr" --entrypoint sleep --security-opt seccomp=unconfined --network none \
  "$BASE" infinity >/dev/null
for b in kubelet kubeadm kubectl; do
  docker cp "$kube_bin/$b" "$build_ctr:/usr/bin/$b"
done
docker exec "$build_ctr" sh -c "chown root:root /usr/bin/kubelet /usr/bin/kubeadm /usr/bin/kubectl && echo $k8s_version >/kind/version"
sed "s/@K8S_VERSION@/$k8s_version/" "$here/pod-routes.yaml" >"$work/default-cni.yaml"
docker cp "$work/default-cni.yaml" "$build_ctr:/kind/manifests/default-cni.yaml"
docker exec "$build_ctr" sh -c 'containerd >/var/log/containerd-build.log 2>&1 &
  for i in $(seq 1 50); do ctr version >/dev/null 2>&1 && exit 0; sleep 0.2; done
  cat /var/log/containerd-build.log; exit 1' >&2 || die "containerd did not start in the build container"
for f in "$images"/*.tar; do
  docker exec -i "$build_ctr" ctr --namespace=k8s.io images import --all-platforms --no-unpack - <"$f" >/dev/null || die "ctr import $(basename "$f") failed"
done
say "preloaded: $(docker exec "$build_ctr" ctr --namespace=k8s.io images list -q | grep -v '^sha256:' | tr '\n' ' ')"
# (containerd's parent here, sleep, reaps nobody: a stopped containerd stays as a zombie)
docker exec "$build_ctr" sh -c 'pkill -x containerd
  while ps -o stat= -C containerd | grep -qv Z; do sleep 0.2; done; rm -f /var/log/containerd-build.log'
docker commit --change 'ENTRYPOINT ["/usr/local/bin/entrypoint", "/sbin/init"]' \
  --change 'CMD []' "$build_ctr" "$TAG" >/dev/null
say "built $TAG in $(($(date +%s) - started)) s ($(docker image inspect -f '{{.Size}}' "$TAG" | awk '{printf "%.0f MB", $1 / 1e6}'))"
echo "$TAG"
