#!/bin/sh
# Installs the system packages the tests talk to: the real sec (correlation oracle), rsyslog with
# gnutls and logger (syslog clients), logrotate, redis-server, openssl and gnutls tools, strace,
# promtool, dnsmasq (a real resolver on loopback for the dns filter), systemd-analyze (unit check).
# Debian, as root. Skips apt when everything is already there.
set -eu
need=""
command -v sec >/dev/null 2>&1 || need="$need sec"
command -v rsyslogd >/dev/null 2>&1 || need="$need rsyslog"
[ -e /usr/lib/x86_64-linux-gnu/rsyslog/lmnsd_gtls.so ] || ls /usr/lib/*/rsyslog/lmnsd_gtls.so >/dev/null 2>&1 || need="$need rsyslog-gnutls"
[ -e /usr/lib/x86_64-linux-gnu/rsyslog/omrelp.so ] || ls /usr/lib/*/rsyslog/omrelp.so >/dev/null 2>&1 || need="$need rsyslog-relp"
command -v logger >/dev/null 2>&1 || need="$need bsdutils"
command -v logrotate >/dev/null 2>&1 || need="$need logrotate"
command -v redis-server >/dev/null 2>&1 || need="$need redis-server"
command -v openssl >/dev/null 2>&1 || need="$need openssl"
command -v certtool >/dev/null 2>&1 || need="$need gnutls-bin"
command -v strace >/dev/null 2>&1 || need="$need strace"
command -v promtool >/dev/null 2>&1 || need="$need prometheus"
command -v dnsmasq >/dev/null 2>&1 || [ -x /usr/sbin/dnsmasq ] || need="$need dnsmasq"
command -v systemd-analyze >/dev/null 2>&1 || need="$need systemd"
command -v man >/dev/null 2>&1 || true
if [ -n "$need" ]; then
  echo "installing:$need"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $need >/dev/null
fi
echo "system packages ready"
