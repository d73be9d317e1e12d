#!/usr/bin/env bash
# Installs the Debian packages the tests use when they are missing (tests run real
# programs: psql as a client, Blender for the blender command, ip and smcroute for the
# discovery tests' namespaced networks, python3-zeroconf as an outside DNS-SD browser, avahi-daemon to
# run inside a namespace beside Kiln's DNS-SD, never started on the host, Chromium for the dashboard's
# browser tests). Needs root and apt;
# elsewhere it says what is missing and the tests that need it skip with a reason.
set -u
need=()
uses=()
command -v psql >/dev/null 2>&1 || { need+=(postgresql-client); uses+=("psql for the database client tests"); }
command -v blender >/dev/null 2>&1 || { need+=(blender); uses+=("blender for the real render tests"); }
command -v ip >/dev/null 2>&1 || { need+=(iproute2); uses+=("ip for the network-namespace discovery tests"); }
command -v smcrouted >/dev/null 2>&1 || { need+=(smcroute); uses+=("smcrouted for the routed multicast (TTL) test"); }
/usr/bin/python3 -c 'import zeroconf' >/dev/null 2>&1 || { need+=(python3-zeroconf); uses+=("python3-zeroconf, a DNS-SD browser that is not Kiln's"); }
[ -x /usr/sbin/avahi-daemon ] || { need+=(avahi-daemon); uses+=("avahi-daemon, run inside a namespace beside Kiln's DNS-SD"); }
[ -x /usr/bin/chromium ] || { need+=(chromium); uses+=("chromium for the web dashboard's browser tests"); }
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing test prerequisites: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # Packages with daemons (avahi-daemon) must not start them on this host: policy-rc.d exiting
  # 101 forbids it for the install; one we put there is removed afterwards.
  own_policy=
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d && own_policy=1
    trap '[ -n "$own_policy" ] && rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  (apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null 2>&1 ||
    { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null; }) ||
    echo "could not install ${need[*]}; tests that need them will skip"
else
  why=$([ "$(id -u)" = 0 ] && echo "no apt-get here" || echo "not root, so not installing them")
  joined=$(printf '%s; ' "${uses[@]}")
  echo "missing test prerequisites: ${joined%; } (${why}: apt-get install -y ${need[*]} as root); the tests that need them skip, each saying why"
fi
exit 0
