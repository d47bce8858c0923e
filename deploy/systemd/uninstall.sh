#!/usr/bin/env bash
# Stops and removes the Edge Metrics Exporter service, or the config server's, that install.sh installed. The
# config file, the state directory and the installed packages stay where they are.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: uninstall.sh [exporter|config-server] [--root DIR] [--dry-run]

  --root DIR   remove it from DIR as the root of the file system (an image): no stop, no daemon-reload
  --dry-run    print the steps, change nothing
  -h, --help   show this help
EOF
}

fail() { printf 'uninstall.sh: %s\n' "$1" >&2; exit "${2:-1}"; }
usage_error() { fail "$1 (see --help)" 2; }

source "$(dirname -- "${BASH_SOURCE[0]}")/service-name.sh"

root=''
dry_run=false
while [[ $# -gt 0 ]]; do
  case $1 in
    -h | --help) usage; exit 0 ;;
    --dry-run) dry_run=true; shift ;;
    --root)
      [[ $# -ge 2 ]] || fail '--root needs a folder (see --help)' 2
      root=${2%/}
      [[ -d $root ]] || fail "--root $2 is not a folder" 2
      shift 2
      ;;
    *) fail "unknown option '$1' (see --help)" 2 ;;
  esac
done

service=edge-metrics-$unit.service
unit_file=$root/etc/systemd/system/$service
if [[ ! -f $unit_file ]]; then
  printf '%s is not installed (no %s): nothing to do\n' "$service" "$unit_file"
  exit 0
fi
if [[ -z $root ]] && ! $dry_run && [[ $EUID -ne 0 ]]; then fail 'removing a service needs root: run it with sudo (or try --dry-run)'; fi

step() {
  printf '+ %s\n' "$*"
  if ! $dry_run; then "$@"; fi
}

$dry_run && printf 'uninstall.sh: dry run, nothing is changed\n'
# Read before the unit file goes: where the data it leaves behind is.
kept=$(sed -n 's/^Environment=LOCAL_CONFIG_PATH=/the config /p; s/^StateDirectory=/the database in \/var\/lib\//p' "$unit_file")
if [[ -z $root ]]; then
  step systemctl disable --now "$service"
  step rm -f "$unit_file"
  step systemctl daemon-reload
else
  step systemctl --root="$root" disable "$service"
  step rm -f "$unit_file"
fi
if $dry_run; then
  printf 'left in place: %s\n' "${kept:-nothing else}"
else
  printf '%s removed; left in place: %s\n' "$service" "${kept:-nothing else}"
fi
