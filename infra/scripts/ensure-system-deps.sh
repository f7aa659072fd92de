#!/usr/bin/env bash
# Installs the server binaries the embedded defaults need, unless URLs of running servers are given,
# and Chromium for the browser end-to-end tests (tests/e2e), and poppler-utils + zbar-tools (the receipt PDF
# tests rasterise pages with pdftoppm and decode the QR and barcode with zbarimg), when missing.
set -euo pipefail

need_pg=0; need_redis=0; need_chromium=0; need_print=0
if [[ -z "${DATABASE_URL:-}" ]] && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ! command -v initdb >/dev/null 2>&1; then
  need_pg=1
fi
if [[ -z "${REDIS_URL:-}" ]] && ! command -v redis-server >/dev/null 2>&1; then
  need_redis=1
fi
if [[ -z "${AQUABILL_CHROMIUM:-}" ]] && ! command -v chromium >/dev/null 2>&1; then
  need_chromium=1
fi
if ! command -v pdftoppm >/dev/null 2>&1 || ! command -v zbarimg >/dev/null 2>&1; then
  need_print=1
fi
(( need_pg + need_redis + need_chromium + need_print == 0 )) && exit 0

pkgs=()
(( need_pg )) && pkgs+=(postgresql)
(( need_redis )) && pkgs+=(redis-server)
(( need_chromium )) && pkgs+=(chromium)
(( need_print )) && pkgs+=(poppler-utils zbar-tools)
echo "Installing system packages: ${pkgs[*]}"
if [[ $(id -u) -ne 0 ]]; then SUDO=sudo; else SUDO=; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
# Debian starts the packaged services on their standard ports; Aquabill runs its own instances.
if (( need_pg + need_redis > 0 )) && command -v systemctl >/dev/null 2>&1; then
  $SUDO systemctl disable --now postgresql redis-server >/dev/null 2>&1 || true
fi
