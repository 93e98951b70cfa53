# shellcheck shell=bash
# tests/lib/tap.sh: TAP helpers for the shell tests (sourced, not run).
#
# A test script prints one "ok N - name" / "not ok N - name" line per check
# and the plan "1..N" at the end (tests/run-tests.sh reads it); log lines
# start with "# ". After sourcing:
#   n                     checks so far (the script prints "1..$n" itself,
#                         usually from its EXIT trap)
#   ok NAME / not_ok NAME one TAP line
#   check NAME CMD...     ok if CMD succeeds, not ok otherwise
#   show [FILE...]        FILE (or stdin) as TAP comment lines
#   stable_copy SRC DST TESTCMD...
#                         a private, working copy of a program that other
#                         people's `make` may be relinking right now: copy,
#                         check that `DST TESTCMD...` runs, retry for up to a
#                         minute; fails if it never does
n=0
ok()     { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); echo "not ok $n - $*"; }
check()  { local d=$1; shift; if "$@"; then ok "$d"; else not_ok "$d"; fi; }
show()   { sed 's/^/# /' "$@"; }

stable_copy() {
	local src=$1 dst=$2 _
	shift 2
	for _ in $(seq 1 30); do
		if cp "$src" "$dst" 2>/dev/null && chmod +x "$dst" && "$dst" "$@" >/dev/null 2>&1; then
			return 0
		fi
		sleep 2
	done
	return 1
}
