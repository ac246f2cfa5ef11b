#!/usr/bin/env bash
# Installs what the test suite needs beyond Swift: nothing is downloaded outside Debian's and
# PyPI's registries. Idempotent; quiet when everything is present.
set -euo pipefail

need_apt=()
command -v curl >/dev/null 2>&1 || need_apt+=(curl)
command -v openssl >/dev/null 2>&1 || need_apt+=(openssl)
command -v python3 >/dev/null 2>&1 || need_apt+=(python3)
# mosquitto: the reference broker the MQTT benchmark tests (Tests/TributaryTests/BenchMQTT*) and the
# paho conformance suite (Tests/TributaryTests/PahoConformanceTests.swift) run against.
command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || need_apt+=(mosquitto)
if [ ${#need_apt[@]} -gt 0 ]; then
    echo "installing Debian packages: ${need_apt[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

# paho-mqtt 2.1.0: the reference MQTT client the conformance scripts (tests/paho) use, installed
# for the python3 on PATH. pip first; Debian's python3-paho-mqtt when pip is unavailable.
if command -v python3 >/dev/null 2>&1 && ! python3 -c 'import paho.mqtt.client' >/dev/null 2>&1; then
    if python3 -m pip --version >/dev/null 2>&1; then
        PIP_ROOT_USER_ACTION=ignore python3 -m pip install --quiet --disable-pip-version-check paho-mqtt==2.1.0
    else
        echo "installing Debian package: python3-paho-mqtt (pip is unavailable)"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-paho-mqtt >/dev/null
    fi
fi

# python3-cryptography: the authentication tests (tests/paho/auth_*.py) make certificates and sign
# RS256/ES256 JWTs with it.
if command -v python3 >/dev/null 2>&1 && ! python3 -c 'import cryptography' >/dev/null 2>&1; then
    if python3 -m pip --version >/dev/null 2>&1; then
        PIP_ROOT_USER_ACTION=ignore python3 -m pip install --quiet --disable-pip-version-check cryptography
    else
        echo "installing Debian package: python3-cryptography (pip is unavailable)"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-cryptography >/dev/null
    fi
fi
