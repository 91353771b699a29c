#!/usr/bin/env bash
# Builds the Kubernetes control-plane binaries, kubectl, kube-proxy and etcd pinned in go.mod into
# ${TRELLIS_KUBE_CACHE:-$HOME/.cache/trellis/kube}/<k8s-version>/bin/, skipping any that exist;
# with --node also kubelet and kubeadm (the kind node image needs them; the local cluster and CI
# do not, and they add minutes to a cold build).
#   build.sh [--node]          build what is missing
#   build.sh --print-bin-dir   print the bin dir and exit
#   build.sh --force [--node]  rebuild everything
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
k8s_version="$(awk '$1 == "k8s.io/kubernetes" && $2 ~ /^v/ { print $2; exit }' "$here/go.mod")"
etcd_version="$(awk '$1 == "go.etcd.io/etcd/server/v3" && $2 ~ /^v/ { print $2; exit }' "$here/go.mod")"
if [[ -z "$k8s_version" || -z "$etcd_version" ]]; then
  echo "build.sh: cannot read the k8s.io/kubernetes or etcd version from $here/go.mod" >&2
  exit 1
fi
bin_dir="${TRELLIS_KUBE_CACHE:-$HOME/.cache/trellis/kube}/$k8s_version/bin"

force=0
names=(etcd kube-apiserver kube-controller-manager kube-scheduler kube-proxy kubectl)
for arg in "$@"; do
  case "$arg" in
    --print-bin-dir) echo "$bin_dir"; exit 0 ;;
    --force) force=1 ;;
    --node) names+=(kubelet kubeadm) ;;
    *) echo "build.sh: unknown argument $arg; usage: build.sh [--print-bin-dir|--force] [--node]" >&2; exit 2 ;;
  esac
done

# name -> Go main package
declare -A pkgs=(
  [etcd]=go.etcd.io/etcd/server/v3
  [kube-apiserver]=k8s.io/kubernetes/cmd/kube-apiserver
  [kube-controller-manager]=k8s.io/kubernetes/cmd/kube-controller-manager
  [kube-scheduler]=k8s.io/kubernetes/cmd/kube-scheduler
  [kube-proxy]=k8s.io/kubernetes/cmd/kube-proxy
  [kubectl]=k8s.io/kubernetes/cmd/kubectl
  [kubelet]=k8s.io/kubernetes/cmd/kubelet
  [kubeadm]=k8s.io/kubernetes/cmd/kubeadm
)

missing=()
for name in "${names[@]}"; do
  if [[ $force == 1 || ! -x "$bin_dir/$name" ]]; then missing+=("$name"); fi
done
if [[ ${#missing[@]} == 0 ]]; then
  echo "build.sh: all binaries present in $bin_dir"
  exit 0
fi

minor="${k8s_version#v1.}"; minor="${minor%%.*}"
build_date="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
kv() {
  local p="$1"
  echo "-X $p.gitVersion=$k8s_version -X $p.gitMajor=1 -X $p.gitMinor=$minor" \
    "-X $p.gitTreeState=clean -X $p.buildDate=$build_date"
}
k8s_ldflags="-s -w $(kv k8s.io/component-base/version) $(kv k8s.io/client-go/pkg/version)"
etcd_ldflags="-s -w -X go.etcd.io/etcd/api/v3/version.GitSHA=$etcd_version"

mkdir -p "$bin_dir"
cd "$here"
export GOFLAGS=-mod=mod CGO_ENABLED=0
start=$(date +%s)
for name in "${missing[@]}"; do
  echo "build.sh: building $name (${pkgs[$name]})"
  flags="$k8s_ldflags"
  [[ $name == etcd ]] && flags="$etcd_ldflags"
  go build -trimpath -ldflags "$flags" -o "$bin_dir/$name.tmp" "${pkgs[$name]}"
  mv "$bin_dir/$name.tmp" "$bin_dir/$name"
done
echo "build.sh: built ${missing[*]} into $bin_dir in $(( $(date +%s) - start ))s"
