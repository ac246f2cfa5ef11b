#!/usr/bin/env bash
# Installs what the test suite needs beyond Swift: nothing is downloaded outside Debian's and
# PyPI's registries. Idempotent; quiet when everything is present.
set -euo pipefail

need_apt=()
command -v curl >/dev/null 2>&1 || need_apt+=(curl)
command -v openssl >/dev/null 2>&1 || need_apt+=(openssl)
# mosquitto: the reference broker the MQTT benchmark tests (Tests/TributaryTests/BenchMQTT*) run against.
command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || need_apt+=(mosquitto)
if [ ${#need_apt[@]} -gt 0 ]; then
    echo "installing Debian packages: ${need_apt[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
