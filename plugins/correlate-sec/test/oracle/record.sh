#!/bin/sh
# Re-records (or checks) the expected output of every differential case from the
# installed, real SEC (Debian package `sec`, 2.9.1), through ../shared/sec-oracle.
#
#   sh record.sh                 # re-record every case (each run twice: must agree)
#   sh record.sh --check         # run every case, compare with the recorded files
#   sh record.sh [--check] NN-name ...   # only the named cases
#
# Case format and how each mode is fed: see README.md next to this script.
# Environment: SEC_ORACLE (default: the sec-oracle folder of the shared tree).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
oracle=${SEC_ORACLE:-$(cd "$here/../../../../../shared/sec-oracle" 2>/dev/null && pwd || echo /work/shared/sec-oracle)}
base=1700000000
check=0
if [ "${1:-}" = "--check" ]; then check=1; shift; fi

# json_get FILE KEY: prints a string value, or array items one per line
json_get() {
  node -e '
    const c = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const v = c[process.argv[2]];
    if (Array.isArray(v)) v.forEach((x) => console.log(x));
    else if (v !== undefined) console.log(String(v));
  ' "$1" "$2"
}

# run_case DIR WORK: runs the real sec for the case in DIR, leaves out.txt/stdout.txt in WORK
run_case() {
  dir=$1; work=$2
  mode=$(json_get "$dir/case.json" mode)
  rules=$(cd "$dir" && LC_ALL=C ls *.sec | sed "s|^|$dir/|" | paste -sd, -)
  secargs=$(json_get "$dir/case.json" sec_args)
  case "$mode" in
    vclock)
      set --
      for a in $secargs; do set -- "$@" "--sec-arg=$a"; done
      node "$oracle/vclock-run.mjs" --rules "$rules" --scenario "$dir/scenario.txt" \
        --workdir "$work" --base "$base" "$@" || true
      ;;
    notail)
      # The whole file at one frozen instant (time() = base) through sec-vclock.pl,
      # so %u / %t / window arithmetic do not depend on when the test runs.
      mkdir -p "$work"
      cp "$dir/in.txt" "$work/in.txt"
      echo "$base" > "$work/.vclock"
      set --
      for f in $(echo "$rules" | tr , ' '); do set -- "$@" "--conf=$f"; done
      for a in $secargs; do set -- "$@" "$a"; done
      (cd "$work" && SEC_VCLOCK="$work/.vclock" TZ=UTC PERL_HASH_SEED=0 PERL_PERTURB_KEYS=0 \
        perl "$oracle/sec-vclock.pl" "$@" --input=in.txt --notail --debug=3 \
        > stdout.txt 2> stderr.txt) || true
      ;;
    *) echo "$dir: unknown mode '$mode'" >&2; return 2 ;;
  esac
  [ -f "$work/out.txt" ] || : > "$work/out.txt"
}

status=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# vclock-run.mjs rewrites the clock file in place (truncate, then write), and
# sec-vclock.pl falls back to the REAL clock when it reads the file empty, so
# about one run in a few hundred fires a timer at today's date. We run a copy
# whose clock update is atomic (write a temp file, rename it over the clock).
mkdir -p "$tmp/oracle"
cp "$oracle/sec-vclock.pl" "$tmp/oracle/"
sed -e 's/import { readFileSync, writeFileSync,/import { renameSync, readFileSync, writeFileSync,/' \
    -e 's/^\( *\)writeFileSync(clockFile, `${now}\\n`);/\1writeFileSync(clockFile + ".tmp", `${now}\\n`); renameSync(clockFile + ".tmp", clockFile);/' \
    "$oracle/vclock-run.mjs" > "$tmp/oracle/vclock-run.mjs"
[ "$(grep -c 'renameSync(clockFile' "$tmp/oracle/vclock-run.mjs")" = 2 ] ||
  { echo "record.sh: could not make the vclock update atomic" >&2; exit 2; }
oracle="$tmp/oracle"
if [ $# -gt 0 ]; then cases="$*"; else cases=$(cd "$here/cases" && LC_ALL=C ls -d */ | tr -d /); fi
for name in $cases; do
  dir="$here/cases/$name"
  rm -rf "$tmp/a" "$tmp/b"
  run_case "$dir" "$tmp/a"
  if [ $check = 1 ]; then
    if cmp -s "$tmp/a/out.txt" "$dir/expected-out.txt" &&
       { [ ! -f "$dir/expected-stdout.txt" ] && [ ! -s "$tmp/a/stdout.txt" ] ||
         cmp -s "$tmp/a/stdout.txt" "$dir/expected-stdout.txt"; }; then
      echo "ok    $name"
    else
      echo "DIFF  $name"; diff -u "$dir/expected-out.txt" "$tmp/a/out.txt" || true; status=1
    fi
    continue
  fi
  run_case "$dir" "$tmp/b"
  if ! cmp -s "$tmp/a/out.txt" "$tmp/b/out.txt" || ! cmp -s "$tmp/a/stdout.txt" "$tmp/b/stdout.txt"; then
    echo "NONDETERMINISTIC $name"; diff -u "$tmp/a/out.txt" "$tmp/b/out.txt" || true; status=1
    continue
  fi
  cp "$tmp/a/out.txt" "$dir/expected-out.txt"
  if [ -s "$tmp/a/stdout.txt" ]; then cp "$tmp/a/stdout.txt" "$dir/expected-stdout.txt"
  else rm -f "$dir/expected-stdout.txt"; fi
  if [ -s "$tmp/a/stderr.txt" ]; then echo "note  $name: sec stderr:"; sed 's/^/      /' "$tmp/a/stderr.txt"; fi
  echo "rec   $name ($(wc -l < "$dir/expected-out.txt") lines)"
done
exit $status
