# Sourced by deploy/images/base/build-base.sh and tools/kind-node/build.sh (both define `say` and
# `die`): minimal Debian root filesystems made by mmdebstrap from this machine's apt sources.
#
#   debian_rootfs_setup            installs mmdebstrap when absent; sets $sources and $suite from
#                                  TRELLIS_APT_SOURCES / TRELLIS_BASE_SUITE or this machine's
#   debian_rootfs DIR PACKAGES LOG a minbase rootfs in DIR with PACKAGES (comma-separated), its
#                                  output in LOG

debian_rootfs_setup() {
  if ! command -v mmdebstrap >/dev/null; then
    say "installing Debian's mmdebstrap"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends mmdebstrap >/dev/null ||
      die "apt-get install mmdebstrap failed"
  fi
  sources=${TRELLIS_APT_SOURCES:-}
  if [ -z "$sources" ]; then
    local f
    for f in /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list; do
      [ -s "$f" ] && sources=$f && break
    done
  fi
  [ -n "$sources" ] && [ -s "$sources" ] || die "no apt sources found (set TRELLIS_APT_SOURCES)"
  suite=${TRELLIS_BASE_SUITE:-$(. /etc/os-release && echo "${VERSION_CODENAME:-}")}
  [ -n "$suite" ] || die "cannot tell this machine's Debian release (set TRELLIS_BASE_SUITE)"
}

debian_rootfs() {
  # Reproducible file times; merged /usr made by mmdebstrap's hook rather than the usrmerge package
  # (which would bring perl along); no docs, man pages or locales (as Debian's slim images).
  SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(date -d "$(date +%Y-%m-01)" +%s)} \
    mmdebstrap --quiet --mode=root --variant=minbase --include="$2" \
    --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
    --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --dpkgopt='path-exclude=/usr/share/info/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' \
    --dpkgopt='path-include=/usr/share/locale/locale.alias' \
    "$suite" "$1" "$sources" >"$3" 2>&1 ||
    die "mmdebstrap failed: $(tail -n 20 "$3")"
}
