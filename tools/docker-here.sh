#!/usr/bin/env bash
# A Docker engine of our own on this host, for kind and the image builds, that leaves the host's
# networking alone: dockerd and its containerd on their own sockets, state and data directories,
# with --iptables=false --ip6tables=false --bridge=none --ip-forward=false --ip-masq=false (no
# netfilter rules, no docker0, no sysctl writes; containers get --network none or host).
#
#   tools/docker-here.sh start    # installs Debian's docker.io when absent, starts, checks it
#   tools/docker-here.sh env      # prints the export lines a shell needs: eval "$(... env)"
#   tools/docker-here.sh status   # running or not (exit 0 / 3)
#   tools/docker-here.sh stop     # stops dockerd, then containerd (containers stop with them)
#
# Where a privileged container cannot start (this machine's capability bounding set lacks
# CAP_SYS_RESOURCE, so runc fails with "unable to apply caps: operation not permitted"), `start`
# registers a runtime wrapper that removes from the OCI spec every capability the bounding set
# lacks before calling runc, and makes it the default runtime. It finds out by running a
# privileged container of a probe image imported from host binaries (there is no registry here).
#
# Root only. Paths (override for tests or a second engine):
#   TRELLIS_DOCKER_DATA  data root, images and containers    (default /var/lib/trellis-docker)
#   TRELLIS_DOCKER_RUN   sockets, pid files, logs, wrapper   (default /run/trellis-docker)
set -euo pipefail

DATA=${TRELLIS_DOCKER_DATA:-/var/lib/trellis-docker}
RUN=${TRELLIS_DOCKER_RUN:-/run/trellis-docker}
SOCK=$RUN/docker.sock
CTRD_SOCK=$RUN/containerd/containerd.sock
PROBE_IMAGE=trellis/docker-here-probe:1
WRAPPER_NAME=trellis-runc

say() { echo "docker-here: $*" >&2; }
die() {
  say "$*"
  exit 1
}

pid_of() { # NAME: the pid in $RUN/NAME.pid when that process is alive
  local f=$RUN/$1.pid p
  [ -f "$f" ] || return 1
  p=$(cat "$f")
  [ -n "$p" ] && kill -0 "$p" 2>/dev/null && echo "$p"
}

docker_cli() { DOCKER_HOST=unix://$SOCK docker "$@"; }

install_if_missing() {
  if command -v dockerd >/dev/null && command -v containerd >/dev/null && command -v runc >/dev/null; then
    return
  fi
  say "installing Debian's docker.io (dockerd, containerd, runc)"
  # Nothing may start Docker's own services with the default settings (they would add docker0
  # and netfilter rules): a policy-rc.d that refuses every start, unless one is there already.
  local policy=/usr/sbin/policy-rc.d added=
  if [ ! -e $policy ]; then
    printf '#!/bin/sh\nexit 101\n' >$policy
    chmod +x $policy
    added=1
  fi
  export DEBIAN_FRONTEND=noninteractive
  local rc=0
  { apt-get update -qq && apt-get install -y -qq --no-install-recommends docker.io >/dev/null; } || rc=$?
  [ -z "$added" ] || rm -f $policy
  [ $rc -eq 0 ] || die "apt-get install docker.io failed (exit $rc)"
}

write_wrapper() { # the runtime wrapper: drop the capabilities the bounding set lacks, then runc
  local runc
  runc=$(command -v runc) || die "runc not found"
  cat >"$RUN/$WRAPPER_NAME" <<EOF
#!/bin/sh
# Written by tools/docker-here.sh: removes from the bundle's OCI spec the capabilities this host's
# bounding set lacks (runc cannot grant them), then runs runc with the same arguments.
# The spec is the bundle's config.json (create, run) or the --process file (exec: docker exec
# --privileged asks for every capability too).
bundle=
process=
prev=
for a in "\$@"; do
  case "\$prev" in --bundle | -b) bundle=\$a ;; --process | -p) process=\$a ;; esac
  case "\$a" in --bundle=*) bundle=\${a#--bundle=} ;; --process=*) process=\${a#--process=} ;; esac
  prev=\$a
done
spec=
if [ -n "\$process" ] && [ -f "\$process" ]; then
  spec=\$process
elif [ -n "\$bundle" ] && [ -f "\$bundle/config.json" ]; then
  spec=\$bundle/config.json
fi
if [ -n "\$spec" ]; then
  python3 - "\$spec" <<'PY' || exit 1
import json, sys
names = ["CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID",
         "SETUID", "SETPCAP", "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN",
         "NET_RAW", "IPC_LOCK", "IPC_OWNER", "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE",
         "SYS_PACCT", "SYS_ADMIN", "SYS_BOOT", "SYS_NICE", "SYS_RESOURCE", "SYS_TIME",
         "SYS_TTY_CONFIG", "MKNOD", "LEASE", "AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP",
         "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG", "WAKE_ALARM", "BLOCK_SUSPEND", "AUDIT_READ",
         "PERFMON", "BPF", "CHECKPOINT_RESTORE"]
bounding = 0
for line in open("/proc/self/status"):
    if line.startswith("CapBnd:"):
        bounding = int(line.split()[1], 16)
missing = {"CAP_" + n for i, n in enumerate(names) if not bounding >> i & 1}
path = sys.argv[1]
spec = json.load(open(path))
# config.json holds the process under "process"; an exec's process file is the process itself.
process = spec["process"] if "process" in spec else spec
caps = process.get("capabilities") or {}
changed = False
for kind, have in caps.items():
    keep = [c for c in have if c not in missing]
    if keep != have:
        caps[kind] = keep
        changed = True
if changed:
    json.dump(spec, open(path, "w"))
PY
fi
exec $runc "\$@"
EOF
  chmod 755 "$RUN/$WRAPPER_NAME"
}

probe_image() { # a tiny image from host binaries: sh, echo, cat and the libraries they load
  docker_cli image inspect $PROBE_IMAGE >/dev/null 2>&1 && return
  local dir
  dir=$(mktemp -d)
  local f
  for f in /bin/sh /bin/echo /bin/cat; do
    mkdir -p "$dir$(dirname "$f")"
    cp -L "$f" "$dir$f"
    ldd "$f" 2>/dev/null | grep -o '/[^ ]*' | while read -r lib; do
      mkdir -p "$dir$(dirname "$lib")"
      cp -L "$lib" "$dir$lib"
    done
  done
  tar -C "$dir" -c . | docker_cli import - $PROBE_IMAGE >/dev/null
  rm -rf "$dir"
}

privileged_works() {
  docker_cli run --rm --privileged --network none $PROBE_IMAGE /bin/echo privileged-ok 2>"$RUN/probe.err" |
    grep -q privileged-ok
}

start_daemons() { # [WRAPPER]: dockerd with the wrapper as default runtime when given
  mkdir -p "$RUN/containerd" "$DATA/containerd"
  if ! pid_of containerd >/dev/null; then
    cat >"$RUN/containerd.toml" <<EOF
version = 2
root = "$DATA/containerd"
state = "$RUN/containerd/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$CTRD_SOCK"
[ttrpc]
  address = "$CTRD_SOCK.ttrpc"
[debug]
  address = "$RUN/containerd/debug.sock"
EOF
    # Detached (own session), so neither the caller's terminal nor its process group ends it.
    setsid containerd --config "$RUN/containerd.toml" </dev/null >>"$RUN/containerd.log" 2>&1 &
    echo $! >"$RUN/containerd.pid"
    wait_for "containerd" test -S "$CTRD_SOCK"
  fi
  # Our own (empty) daemon.json: /etc/docker/daemon.json may turn netfilter handling back on.
  echo '{}' >"$RUN/daemon.json"
  local runtime=()
  if [ -n "${1:-}" ]; then
    runtime=(--add-runtime "$WRAPPER_NAME=$RUN/$WRAPPER_NAME" --default-runtime "$WRAPPER_NAME")
  fi
  setsid dockerd --host "unix://$SOCK" --containerd "$CTRD_SOCK" --data-root "$DATA/docker" \
    --exec-root "$RUN/exec" --pidfile "$RUN/dockerd.pid" --config-file "$RUN/daemon.json" \
    --iptables=false --ip6tables=false --bridge=none --ip-forward=false --ip-masq=false \
    "${runtime[@]}" </dev/null >>"$RUN/dockerd.log" 2>&1 &
  wait_for "dockerd" docker_cli version
}

wait_for() { # WHAT CMD...: up to 60 s
  local what=$1 i
  shift
  for i in $(seq 1 300); do
    "$@" >/dev/null 2>&1 && return
    sleep 0.2
  done
  die "$what did not come up; its log: $(tail -n 20 "$RUN/$what.log" 2>/dev/null)"
}

stop_pid() { # NAME: SIGTERM, up to 30 s, then SIGKILL
  local p i
  p=$(pid_of "$1") || {
    rm -f "$RUN/$1.pid"
    return 0
  }
  kill -TERM "$p"
  for i in $(seq 1 150); do
    kill -0 "$p" 2>/dev/null || break
    sleep 0.2
  done
  kill -0 "$p" 2>/dev/null && kill -KILL "$p"
  while kill -0 "$p" 2>/dev/null; do sleep 0.1; done
  rm -f "$RUN/$1.pid"
}

start() {
  [ "$(id -u)" = 0 ] || die "needs root (dockerd)"
  if pid_of dockerd >/dev/null; then
    say "already running on $SOCK"
    return
  fi
  install_if_missing
  mkdir -p "$RUN" "$DATA"
  local wrapper=
  if [ -f "$RUN/use-wrapper" ]; then # (rewritten: this script's wrapper may be newer)
    wrapper=1
    write_wrapper
  fi
  start_daemons $wrapper
  probe_image
  if ! privileged_works; then
    [ -z "$wrapper" ] || die "privileged containers fail even with the runtime wrapper: $(cat "$RUN/probe.err")"
    grep -q 'apply caps' "$RUN/probe.err" ||
      die "privileged containers fail, not for lack of capabilities: $(cat "$RUN/probe.err")"
    say "privileged containers fail here ($(grep -o 'unable to apply caps[^"]*' "$RUN/probe.err" | head -n 1)); using the runtime wrapper $RUN/$WRAPPER_NAME"
    write_wrapper
    touch "$RUN/use-wrapper"
    stop_pid dockerd
    start_daemons 1
    privileged_works || die "privileged containers fail even with the runtime wrapper: $(cat "$RUN/probe.err")"
  fi
  say "running on $SOCK (data in $DATA); eval \"\$($0 env)\" to use it"
}

stop() {
  stop_pid dockerd
  stop_pid containerd
  rm -f "$SOCK" "$CTRD_SOCK" "$CTRD_SOCK.ttrpc"
  say "stopped"
}

case "${1:-}" in
start) start ;;
stop) stop ;;
env) echo "export DOCKER_HOST=unix://$SOCK" ;;
status)
  if pid_of dockerd >/dev/null; then
    echo "running on $SOCK"
  else
    echo "not running"
    exit 3
  fi
  ;;
*)
  echo "usage: $0 start|stop|env|status" >&2
  exit 2
  ;;
esac
