#!/usr/bin/env bash
# Installs Edge Metrics Exporter, or its config server, as a systemd service: fills in the unit template, copies
# it to /etc/systemd/system, reloads systemd, enables the service and (re)starts it.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: install.sh [exporter|config-server] [OPTIONS]

Each value comes from its option, else from the environment variable named after it, else from its default.

exporter (the default):
  --user USER               {{USER}}: the account the exporter runs as          EDGE_METRICS_USER
  --working-directory DIR   {{WORKING_DIRECTORY}}: the folder whose node_modules holds @edge-metrics/core and the
                            plugins                                             EDGE_METRICS_WORKING_DIRECTORY
  --local-config-path FILE  {{LOCAL_CONFIG_PATH}}: the config.yaml (relative: to the working directory)
                                                                                EDGE_METRICS_LOCAL_CONFIG_PATH
  --config-server-url URL   {{CONFIG_SERVER_URL}}: the config server, or '' for none (standalone)
                                                                                EDGE_METRICS_CONFIG_SERVER_URL
  --config-timeout SECONDS  {{CONFIG_TIMEOUT}}: how long to wait for the config server (default 5)
                                                                                EDGE_METRICS_CONFIG_TIMEOUT
  --groups "GROUP ..."      {{SUPPLEMENTARY_GROUPS}}: extra groups (default: those of 'i2c video' that exist)
                                                                                EDGE_METRICS_SUPPLEMENTARY_GROUPS
config-server:
  --working-directory DIR   the folder whose node_modules holds @edge-metrics/config-server
  --port PORT               {{PORT}} (default 8080)                             EDGE_METRICS_PORT
  --db FILE|URL             {{DB}}: the SQLite file (default in the state directory), or a postgres:// URL
                            without a password (PGPASSWORD goes in the environment file) EDGE_METRICS_DB
both:
  --node PATH               {{NODE}}: the node executable (default: node on PATH)   EDGE_METRICS_NODE
  --root DIR                install into DIR as the root of the file system (an image being built): no
                            daemon-reload and no start, as no running systemd manages DIR
  --dry-run                 print the unit and the steps, change nothing
  -h, --help                show this help

Exit status: 0 done, 1 a step failed, 2 a value is missing or malformed.
EOF
}

fail() { printf 'install.sh: %s\n' "$1" >&2; exit "${2:-1}"; }
usage_error() { fail "$1 (see --help)" 2; }

source "$(dirname -- "${BASH_SOURCE[0]}")/service-name.sh"

# The placeholders' values: the environment first, options override.
declare -A value=()
declare -A option_of=(
  [USER]=--user [WORKING_DIRECTORY]=--working-directory [LOCAL_CONFIG_PATH]=--local-config-path
  [CONFIG_SERVER_URL]=--config-server-url [CONFIG_TIMEOUT]=--config-timeout [SUPPLEMENTARY_GROUPS]=--groups
  [PORT]=--port [NODE]=--node [DB]=--db
)
for placeholder in "${!option_of[@]}"; do
  variable=EDGE_METRICS_$placeholder
  if [[ -v $variable ]]; then value[$placeholder]=${!variable}; fi
done

root=''
dry_run=false
while [[ $# -gt 0 ]]; do
  case $1 in
    -h | --help) usage; exit 0 ;;
    --dry-run) dry_run=true; shift; continue ;;
    --root)
      [[ $# -ge 2 ]] || usage_error '--root needs a folder'
      root=${2%/}
      [[ -d $root ]] || fail "--root $2 is not a folder" 2
      shift 2
      continue
      ;;
  esac
  placeholder=''
  for candidate in "${!option_of[@]}"; do
    if [[ ${option_of[$candidate]} == "$1" ]]; then placeholder=$candidate; fi
  done
  [[ -n $placeholder ]] || usage_error "unknown option '$1'"
  [[ $# -ge 2 ]] || usage_error "$1 needs a value"
  value[$placeholder]=$2
  shift 2
done

# Defaults.
value[CONFIG_TIMEOUT]=${value[CONFIG_TIMEOUT]-5}
value[PORT]=${value[PORT]-8080}
value[DB]=${value[DB]-/var/lib/edge-metrics-config-server/config-server.db}
if [[ ! -v value[NODE] ]] && command -v node >/dev/null; then value[NODE]=$(command -v node); fi
if [[ ! -v value[SUPPLEMENTARY_GROUPS] ]]; then
  groups=()
  for group in i2c video; do
    if [[ -n $root ]]; then
      if grep -q "^$group:" "$root/etc/group" 2>/dev/null; then groups+=("$group"); fi
    elif getent group "$group" >/dev/null; then
      groups+=("$group")
    fi
  done
  value[SUPPLEMENTARY_GROUPS]=${groups[*]-}
fi
if [[ -v value[LOCAL_CONFIG_PATH] && -v value[WORKING_DIRECTORY] && ${value[LOCAL_CONFIG_PATH]} != /* ]]; then
  value[LOCAL_CONFIG_PATH]=${value[WORKING_DIRECTORY]%/}/${value[LOCAL_CONFIG_PATH]#./}
fi
if [[ -v value[LOCAL_CONFIG_PATH] ]]; then value[CONFIG_DIRECTORY]=$(dirname -- "${value[LOCAL_CONFIG_PATH]}"); fi

# Every value goes into a unit file: it must not add a line, a quote, an escape or a variable to it.
forbidden='["'\''\\$]'
check() {
  local placeholder=$1 pattern=$2 what=$3
  [[ -v value[$placeholder] ]] || return 0
  local given=${value[$placeholder]}
  if [[ $given == *$'\n'* || $given =~ $forbidden || ! $given =~ $pattern ]]; then
    fail "{{$placeholder}} must be $what, not '$given'" 2
  fi
}
check USER '^[A-Za-z_][A-Za-z0-9_.-]*$' 'a user name'
check SUPPLEMENTARY_GROUPS '^([A-Za-z_][A-Za-z0-9_.-]*( [A-Za-z_][A-Za-z0-9_.-]*)*)?$' 'group names separated by spaces'
check WORKING_DIRECTORY '^/[^[:space:]]*$' 'an absolute path without spaces'
check LOCAL_CONFIG_PATH '^/[^[:space:]]*$' 'a path without spaces'
check CONFIG_SERVER_URL '^(https?://[^[:space:]]+)?$' "an http:// or https:// URL, or '' for none"
check CONFIG_TIMEOUT '^[0-9]+(\.[0-9]+)?$' 'a number of seconds'
check NODE '^/[^[:space:]]*$' 'an absolute path without spaces'
check PORT '^[0-9]+$' 'a port number'
check DB '^(/[^[:space:]]+|postgres(ql)?://([^:@/[:space:]]+@)?[^:@/[:space:]]+(:[0-9]+)?/[^@[:space:]]+)$' \
  'an absolute path, or a postgres:// URL without a password (put PGPASSWORD in the environment file)'
if [[ -v value[PORT] ]] && ((10#${value[PORT]} < 1 || 10#${value[PORT]} > 65535)); then fail "{{PORT}} must be 1 to 65535, not '${value[PORT]}'" 2; fi
if [[ ${value[CONFIG_TIMEOUT]} =~ ^0*(\.0*)?$ ]]; then fail "{{CONFIG_TIMEOUT}} must be above 0" 2; fi

# Render: every placeholder of the template must have a value. `%` is escaped: systemd reads %x as a specifier.
service=edge-metrics-$unit.service
template=$(dirname -- "${BASH_SOURCE[0]}")/$service.template
unit_text=$(<"$template")
missing=()
for placeholder in $(grep -o '{{[A-Z_]*}}' "$template" | sort -u | tr -d '{}'); do
  if [[ ! -v value[$placeholder] ]]; then
    case $placeholder in
      CONFIG_DIRECTORY) ;; # follows from {{LOCAL_CONFIG_PATH}}
      NODE) missing+=("{{NODE}}: node is not on PATH; give ${option_of[NODE]} or EDGE_METRICS_NODE") ;;
      *) missing+=("{{$placeholder}}: give ${option_of[$placeholder]:-a value} or EDGE_METRICS_$placeholder") ;;
    esac
    continue
  fi
  unit_text=${unit_text//"{{$placeholder}}"/"${value[$placeholder]//"%"/%%}"}
done
if [[ ${#missing[@]} -gt 0 ]]; then
  printf '%s: %s has placeholders left unfilled:\n' install.sh "$service" >&2
  printf '  %s\n' "${missing[@]}" >&2
  exit 2
fi

# What the unit starts must be there (on this machine; under --root the files may not be in place yet).
entry=${value[WORKING_DIRECTORY]%/}/node_modules/@edge-metrics/$([[ $unit == exporter ]] && echo core || echo config-server)/dist/cli.js
if [[ -z $root ]]; then
  [[ -x ${value[NODE]} ]] || fail "${value[NODE]} is not an executable: give --node the path of node (command -v node)"
  if [[ -v value[USER] ]] && ! getent passwd "${value[USER]}" >/dev/null; then
    fail "the user '${value[USER]}' does not exist: create it (useradd --system --no-create-home --shell /usr/sbin/nologin ${value[USER]}) or give --user root"
  fi
  [[ -f $entry ]] || fail "$entry does not exist: install the packages in ${value[WORKING_DIRECTORY]} first (see deploy/README.md), or give --working-directory the folder that holds them"
  if ! $dry_run && [[ $EUID -ne 0 ]]; then fail 'installing a service needs root: run it with sudo (or try --dry-run)'; fi
fi

# The steps: printed, and carried out unless this is a dry run.
step() {
  printf '+ %s\n' "$*"
  if ! $dry_run; then "$@"; fi
}
write_unit() {
  printf '+ write %s (mode 0644)\n' "$1"
  if ! $dry_run; then
    printf '%s\n' "$unit_text" >"$1.tmp"
    chmod 0644 "$1.tmp"
    mv -f "$1.tmp" "$1"
  fi
}

destination=$root/etc/systemd/system/$service
if $dry_run; then
  printf '%s: dry run, nothing is changed\n--- %s\n%s\n---\n' install.sh "$destination" "$unit_text"
fi
if [[ $unit == exporter ]]; then
  # The exporter writes its config file (discovered metrics, API changes) in this folder.
  config_directory=$root${value[CONFIG_DIRECTORY]}
  if [[ ! -d $config_directory ]]; then
    if [[ -z $root ]]; then step install -d -m 0755 -o "${value[USER]}" "$config_directory"; else step install -d -m 0755 "$config_directory"; fi
  elif [[ -z $root && ${value[USER]} != root && $(stat -c %U "$config_directory") != "${value[USER]}" ]]; then
    printf 'install.sh: warning: %s belongs to %s, so the exporter (user %s) cannot save its config there: sudo chown -R %s %s\n' \
      "$config_directory" "$(stat -c %U "$config_directory")" "${value[USER]}" "${value[USER]}" "$config_directory" >&2
  fi
fi
[[ -d $root/etc/systemd/system ]] || step install -d -m 0755 "$root/etc/systemd/system"
write_unit "$destination"
if [[ -z $root ]]; then
  step systemctl daemon-reload
  step systemctl enable "$service"
  step systemctl restart "$service"
  if ! $dry_run; then printf '%s started; follow it with: systemctl status %s; journalctl -u %s -f\n' "$service" "$service" "$service"; fi
else
  step systemctl --root="$root" enable "$service"
  printf '%s: installed under %s; it starts when a system booted from it starts\n' "$service" "$root"
fi
