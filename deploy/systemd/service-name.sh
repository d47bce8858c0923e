# Sourced by install.sh and uninstall.sh: a first argument that is not an option names the service (exporter, the
# default, or config-server). Sets `unit`, leaves the options in "$@", and calls the caller's `usage_error` for
# any other name.
unit=exporter
if [[ $# -gt 0 && $1 != -* ]]; then
  unit=$1
  shift
fi
case $unit in
  exporter | config-server) ;;
  *) usage_error "unknown service '$unit': exporter or config-server" ;;
esac
