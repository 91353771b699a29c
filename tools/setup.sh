#!/usr/bin/env bash
# Prepares a fresh Linux host (as root) for building, testing and running Trellis:
# Debian packages, npm dependencies (from the lockfile), the Kubernetes binaries built from the
# pinned Go modules (cached in ~/.cache/trellis/kube, rebuilt only when missing) and the Go tools
# of the local cluster (CoreDNS, the client-go SPDY test client, the Gateway API conformance
# suite's echo-basic image; tools/go-tool.sh, cached the same way).
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(iptables nftables ipset iproute2 containernetworking-plugins conntrack socat curl openssl
  g++ make python3 iperf3 wrk hey nghttp2-client nginx libnginx-mod-stream haproxy tshark procps psmisc zsh fish
  mmdebstrap)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # tshark asks whether non-root users may capture; the answer does not matter for root.
  echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm ci"
  npm ci --no-audit --no-fund
fi

if [ -x tools/kube/build.sh ]; then
  tools/kube/build.sh
fi
for tool in coredns spdy-client echo-basic; do
  tools/go-tool.sh "tools/$tool"
done
echo "setup: done"
