#!/usr/bin/env bash
# One command: install what is missing, build, and start ledgerd on its
# embedded default (gRPC on 127.0.0.1:50051, data under ./var/data) with the
# HTTP/JSON API and web console on 127.0.0.1:8080. Arguments are passed to
# ledgerd, e.g. tools/run.sh --listen=127.0.0.1:0 --http_listen=127.0.0.1:0
source "$(dirname "$0")/lib/common.sh"
pl_ensure_packages "${PL_PACKAGES[@]}"
pl_build -DPL_BUILD_TESTS=OFF
cd "$PL_ROOT"
mkdir -p var
http=127.0.0.1:8080
args=()
for a in "$@"; do
  case "$a" in
    --http_listen=*) http=${a#--http_listen=} ;;
    *) args+=("$a") ;;
  esac
done
if [ -n "$http" ]; then
  pl_log "console and HTTP/JSON API: http://$http/  (load the worked example: tools/demo.sh)"
  args+=("--http_listen=$http")
fi
pl_log "starting ledgerd (Ctrl-C stops it)"
exec "$PL_BUILD/ledgerd" --data_dir="$PL_ROOT/var/data" "${args[@]}"
