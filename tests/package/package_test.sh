#!/usr/bin/env bash
# package_test.sh BUILD_DIR: builds the .deb from BUILD_DIR with CPack,
# unpacks it into a scratch root (dpkg -x: no root needed), and checks what
# an operator gets: the files and their modes, the declared dependencies,
# the installed `crmhub version`, and `systemd-analyze verify` on the
# installed unit. What it cannot do here (dpkg -i, systemctl start under a
# DynamicUser= account) needs a machine with systemd as PID 1 and root: see
# docs/operations.md, "Install the package".
set -euo pipefail
build=$(cd "$1" && pwd)
fail() { echo "package_test: FAIL: $*" >&2; exit 1; }
for tool in cpack dpkg-deb dpkg-shlibdeps systemd-analyze; do
  command -v "$tool" >/dev/null || fail "$tool is missing (scripts/bootstrap.sh installs it)"
done
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cmake --build "$build" --target crmhub crmhub_man >/dev/null
(cd "$build" && cpack -G DEB -B "$scratch/out" >"$scratch/cpack.log" 2>&1) ||
  { cat "$scratch/cpack.log" >&2; fail "cpack"; }
deb=$(ls "$scratch"/out/crmhub_*.deb)
echo "package_test: built $(basename "$deb") ($(du -h "$deb" | cut -f1))"

# Dependencies from dpkg-shlibdeps: the libraries the binary links.
depends=$(dpkg-deb -f "$deb" Depends)
echo "package_test: Depends: $depends"
for lib in libc6 libcurl libsqlite3 libssl systemd; do
  [[ $depends == *"$lib"* ]] || fail "Depends lacks $lib: $depends"
done

root="$scratch/root"
dpkg -x "$deb" "$root"
for f in usr/bin/crmhub usr/lib/systemd/system/crmhub.service etc/crmhub/crmhub.toml.example \
         etc/crmhub/mappings/site-lead.toml usr/share/doc/crmhub/operations.md \
         usr/share/man/man1/crmhub.1.gz; do
  [[ -e $root/$f ]] || fail "missing /$f"
done
[[ -d $root/etc/crmhub/credentials ]] || fail "missing /etc/crmhub/credentials"
[[ -z $(ls -A "$root/etc/crmhub/credentials") ]] || fail "/etc/crmhub/credentials is not empty"
mode=$(dpkg-deb -c "$deb" | awk '$6 == "./etc/crmhub/credentials/" {print $1}')
[[ $mode == drwx------ ]] || fail "/etc/crmhub/credentials has mode $mode, want drwx------"
# Not enabled: no symlink into a .wants folder, no maintainer script enabling it.
dpkg-deb -c "$deb" | grep -q "wants/" && fail "the package enables the unit"
dpkg-deb -e "$deb" "$scratch/control"
if [[ -e $scratch/control/postinst ]] && grep -q "enable" "$scratch/control/postinst"; then
  fail "postinst enables the unit"
fi
gzip -dc "$root/usr/share/man/man1/crmhub.1.gz" | grep -q "^.SS reconcile" ||
  fail "the man page lacks the commands"

version=$("$root/usr/bin/crmhub" version)
echo "package_test: installed crmhub version: $version"
[[ $version == *"$(dpkg-deb -f "$deb" Version)"* ]] || fail "version $version"

# The installed unit, its ExecStart= pointing into the scratch root
# (systemd-analyze refuses commands that do not exist on this machine).
sed "s|/usr/bin/crmhub|$root/usr/bin/crmhub|g" "$root/usr/lib/systemd/system/crmhub.service" \
  >"$scratch/crmhub.service"
out=$(systemd-analyze verify "$scratch/crmhub.service" 2>&1) || fail "systemd-analyze: $out"
[[ $out != *"crmhub.service:"* ]] || fail "systemd-analyze: $out"
# The postinst, against the scratch root: credentials and a config, created
# when missing, never overwritten.
[[ -x $scratch/control/postinst ]] || fail "no postinst"
DPKG_ROOT="$root" sh "$scratch/control/postinst" configure || fail "postinst"
for name in admin-token webhook-site-secret crm-api-token; do
  f="$root/etc/crmhub/credentials/$name"
  [[ -s $f ]] || fail "postinst did not create credentials/$name"
  [[ $(stat -c %a "$f") == 600 ]] || fail "credentials/$name has mode $(stat -c %a "$f")"
done
[[ -e $root/etc/crmhub/crmhub.toml ]] || fail "postinst did not put crmhub.toml in place"
token=$(cat "$root/etc/crmhub/credentials/admin-token")
DPKG_ROOT="$root" sh "$scratch/control/postinst" configure || fail "postinst, second run"
[[ $(cat "$root/etc/crmhub/credentials/admin-token") == "$token" ]] || fail "postinst overwrote a credential"

# The installed daemon with the installed config, as the unit runs it: each
# LoadCredential= source copied into CREDENTIALS_DIRECTORY, data in
# STATE_DIRECTORY. The listen port is moved to a free one for the test.
creds="$scratch/run-credentials"; state="$scratch/state"
mkdir -p "$creds" "$state"
grep '^LoadCredential=' "$root/usr/lib/systemd/system/crmhub.service" | while IFS=: read -r spec src; do
  cp "$root$src" "$creds/${spec#LoadCredential=}"
done
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
sed -i "s|127.0.0.1:8080|127.0.0.1:$port|" "$root/etc/crmhub/crmhub.toml"
CREDENTIALS_DIRECTORY="$creds" STATE_DIRECTORY="$state" \
  "$root/usr/bin/crmhub" check-config --config "$root/etc/crmhub/crmhub.toml" >"$scratch/check.log" 2>&1 ||
  { cat "$scratch/check.log" >&2; fail "check-config of the installed config"; }
CREDENTIALS_DIRECTORY="$creds" STATE_DIRECTORY="$state" \
  "$root/usr/bin/crmhub" run --config "$root/etc/crmhub/crmhub.toml" >"$scratch/run.log" 2>&1 &
daemon=$!
ready=0
for _ in $(seq 1 100); do
  if curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; then ready=1; break; fi
  sleep 0.1
done
kill -TERM "$daemon" 2>/dev/null || true
wait "$daemon" || true
[[ $ready == 1 ]] || { cat "$scratch/run.log" >&2; fail "the installed daemon did not answer /readyz"; }
[[ -e $state/queue.db ]] || fail "no queue.db in STATE_DIRECTORY"
echo "package_test: the installed daemon came up with the installed config on port $port"
echo "package_test: ok"
