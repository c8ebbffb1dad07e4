# Shared by scripts/test and scripts/quickstart: installing what is missing and running a
# private PostgreSQL cluster. Source it; do not execute it.

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"
    elif command -v sudo >/dev/null 2>&1; then sudo "$@"
    else die "need root to run: $* (install sudo or run as root)"
    fi
}

# Installs the Debian packages the build, the tests and the worker need, only when missing.
# With arguments, installs those packages instead of the build's own.
install_system_packages() {
    local wanted=(postgresql postgresql-client libpq-dev libarchive-dev libcurl4-openssl-dev openssh-client pkg-config ca-certificates git)
    if [ "$#" -gt 0 ]; then wanted=("$@"); fi
    local missing=()
    for package in "${wanted[@]}"; do
        if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed'; then
            missing+=("$package")
        fi
    done
    if [ "${#missing[@]}" -gt 0 ]; then
        command -v apt-get >/dev/null 2>&1 || die "missing packages (${missing[*]}) and no apt-get; install them with your package manager"
        log "installing ${missing[*]}"
        as_root apt-get update -qq
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    fi
}

# Makes `swift` available or explains how to get it.
ensure_swift() {
    if ! command -v swift >/dev/null 2>&1 && [ -x /opt/swift/usr/bin/swift ]; then
        export PATH="/opt/swift/usr/bin:$PATH"
    fi
    command -v swift >/dev/null 2>&1 || die "Swift 6 toolchain not found. Install it (https://www.swift.org/install/linux/ — e.g. with swiftly) and re-run."
}

# The newest installed PostgreSQL server binaries (initdb, pg_ctl, postgres).
postgres_bin_dir() {
    local dir
    dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
    [ -n "$dir" ] && [ -x "$dir/initdb" ] || die "PostgreSQL server binaries not found under /usr/lib/postgresql (is the 'postgresql' package installed?)"
    printf '%s\n' "$dir"
}

# PostgreSQL refuses to run as root: as root, run the server tools as the 'postgres' user.
as_cluster_owner() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# A free TCP port on loopback, starting from $1.
free_port() {
    local port=$1
    while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
    printf '%s\n' "$port"
}

# start_cluster DATA_DIR SOCKET_DIR PORT: initialises (once) and starts a private cluster that
# listens on a private socket directory and loopback only, with fsync off unless CLUSTER_FSYNC=on
# (throwaway data). Prints nothing; sets CLUSTER_URL.
start_cluster() {
    local data=$1 sockets=$2 port=$3 bin
    bin=$(postgres_bin_dir)
    mkdir -p "$data" "$sockets"
    if [ "$(id -u)" -eq 0 ]; then chown postgres: "$data" "$sockets"; fi
    chmod 700 "$data"
    if [ ! -f "$data/PG_VERSION" ]; then
        as_cluster_owner "$bin/initdb" -D "$data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
    fi
    if ! as_cluster_owner "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
        as_cluster_owner "$bin/pg_ctl" -D "$data" -l "$data/server.log" -w -t 60 start \
            -o "-p $port -k $sockets -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=${CLUSTER_FSYNC:-off}" >/dev/null \
            || { tail -n 20 "$data/server.log" >&2; die "PostgreSQL did not start (log above: $data/server.log)"; }
    fi
    CLUSTER_URL="postgresql:///postgres?host=$sockets&port=$port&user=postgres"
    CLUSTER_PG_CTL="$bin/pg_ctl"
}

stop_cluster() {
    local data=$1 bin
    bin=$(postgres_bin_dir)
    as_cluster_owner "$bin/pg_ctl" -D "$data" -m fast -w stop >/dev/null 2>&1 || true
}
