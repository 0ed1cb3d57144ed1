#!/usr/bin/env bash
# Installs the OS packages LendCore needs, when they are missing.
#   runtime: WeasyPrint's libraries (pango, harfbuzz, fontconfig) and a font
#   test:    runtime + Chromium (browser tests drive /usr/bin/chromium through Playwright)
#   ci:      test + PostgreSQL and Redis servers (the server package brings its client tools,
#            postgresql-client-<version>: pg_dump and pg_restore for the backup-and-restore test)
# As root it installs with apt-get; otherwise it says exactly what to install.
set -euo pipefail

what=${1:-runtime}
packages=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libharfbuzz-subset0 libfontconfig1 fonts-dejavu-core)
case "$what" in
  runtime) ;;
  test) packages+=(chromium chromium-driver) ;;
  ci) packages+=(chromium chromium-driver postgresql redis-server) ;;
  *) echo "usage: $0 runtime|test|ci" >&2; exit 2 ;;
esac

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null; then
  echo "Missing OS packages (install them with your package manager): ${missing[*]}" >&2
  [ "$what" = runtime ] && exit 0  # the app runs; only PDF rendering needs them
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "Missing OS packages. Install them with:" >&2
  echo "  sudo apt-get install -y ${missing[*]}" >&2
  exit 0  # tests that need them say so when they run
fi
echo "Installing OS packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
