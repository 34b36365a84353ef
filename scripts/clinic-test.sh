#!/usr/bin/env bash
# clinic-test.sh: run the clinic setup of docs/permissions.md with real Unix
# users, and check what each role can and cannot do.
#
# Every ```sh block of docs/permissions.md is run, as the user its tag names
# (root, veil, staff = alice, auditor = audrey) and with umask 077. The only
# changes made to the documented lines: /srv/veil, /run/veil-init, /var/lib/veil and
# /media/custodian are moved under a temporary directory, setup-clinic.sh gets
# --prefix for it, and root:init gets the custodian passphrase typed on a
# pseudo-terminal. Users and groups are the system's: run as root, on a
# machine where veil's groups may be created (CI: a fresh Debian). The users
# alice and audrey are created by the docs' commands and removed at the end.
#
# Each failing check prints FAIL and what failed; the script exits 1 if any did.
set -uo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
doc=$repo/docs/permissions.md

if [ "$(id -u)" != 0 ]; then
	echo "clinic-test: run as root (it creates users and runs commands as them)" >&2
	exit 1
fi
for cmd in setfacl setpriv script go; do
	if ! command -v "$cmd" >/dev/null; then
		echo "clinic-test: $cmd is missing (Debian: acl, util-linux, bsdutils, golang)" >&2
		exit 1
	fi
done
for u in alice audrey; do
	if id "$u" >/dev/null 2>&1; then
		echo "clinic-test: user $u exists; the test creates it as the docs do (remove it: userdel -r $u)" >&2
		exit 1
	fi
done

T=$(mktemp -d /tmp/veil-clinic.XXXXXX)
chmod 0755 "$T"
cleanup() {
	for u in alice audrey; do
		id "$u" >/dev/null 2>&1 && userdel -r "$u" 2>/dev/null
	done
	rm -rf "$T"
}
trap cleanup EXIT

failures=0
fail() {
	echo "FAIL $*"
	failures=$((failures + 1))
}
pass() { echo "ok   $*"; }
# check WHAT COMMAND...: WHAT holds if COMMAND succeeds.
check() {
	local what=$1
	shift
	if "$@"; then pass "$what"; else fail "$what"; fi
}

mkdir -p "$T/bin" "$T/photos" "$T/media/custodian"
if ! (cd "$repo" && go build -o "$T/bin/veil" ./cmd/veil); then
	echo "clinic-test: cannot build veil" >&2
	exit 1
fi
cp "$repo"/testdata/inbox/*/*/* "$T/photos/"
chmod -R a+rX "$T/bin" "$T/photos"

inbox=$T/srv/veil/inbox
vault=$T/srv/veil/vault
release=$T/srv/veil/release
pass=$T/passphrase
printf 'correct horse battery staple\n' >"$pass"

# block TAG prints the lines of the docs' ```sh TAG block.
block() {
	awk -v tag="$1" '$0 == "```sh " tag { on = 1; next } on && /^```/ { exit } on { print }' "$doc"
}

# localize turns documented lines into the ones run here (see the top).
localize() {
	sed -e "s#/srv/veil#$T/srv/veil#g" \
		-e "s#/run/veil-init#$T/run/veil-init#g" \
		-e "s#/var/lib/veil#$T/var/lib/veil#g" \
		-e "s#/media/custodian#$T/media/custodian#g" \
		-e "s#^scripts/setup-clinic.sh\$#$repo/scripts/setup-clinic.sh --prefix $T#"
}

# as USER CMD...: run CMD as USER with that user's groups, home and umask 077,
# in the photos folder for staff and in the home folder otherwise.
as() {
	local user=$1 home dir
	shift
	home=$(getent passwd "$user" | cut -d: -f6)
	dir=$home
	[ "$user" = alice ] && dir=$T/photos
	[ -d "$dir" ] || dir=/
	setpriv --reuid="$user" --regid="$(id -g "$user")" --init-groups -- \
		env -i PATH="$T/bin:/usr/sbin:/usr/bin:/sbin:/bin" HOME="$home" LANG=C.UTF-8 \
		sh -c 'umask 077 && cd "$1" && shift && exec "$@"' - "$dir" "$@"
}

declare -A ran
user_of() {
	case ${1%%:*} in
	staff) echo alice ;;
	auditor) echo audrey ;;
	*) echo "${1%%:*}" ;;
	esac
}

# run_doc TAG [STATUS]: run the docs' block TAG as its user; it must exit
# with STATUS (default 0).
run_doc() {
	local tag=$1 want=${2:-0} script got
	script=$(block "$tag" | localize)
	if [ -z "$script" ]; then
		fail "docs/permissions.md has no \`\`\`sh $tag block"
		return
	fi
	ran[$tag]=1
	echo "== $tag"
	printf '%s\n' "$script" >"$T/$tag.sh"
	chmod 0644 "$T/$tag.sh"
	case $tag in
	root:init)
		# veil init reads the passphrase twice from its terminal.
		printf '%s\n%s\n' "$(cat "$pass")" "$(cat "$pass")" |
			script -qec "PATH=$T/bin:\$PATH; umask 077; sh -e $T/$tag.sh" /dev/null
		;;
	root:*) (PATH=$T/bin:$PATH && umask 077 && cd "$T" && sh -e "$T/$tag.sh") ;;
	*) as "$(user_of "$tag")" sh -e "$T/$tag.sh" ;;
	esac
	got=$?
	if [ "$got" = "$want" ]; then
		pass "$tag exits $want"
	else
		fail "$tag exits $got, want $want"
	fi
}

# run_denied TAG: every line of the docs' block TAG, run alone as its user,
# fails with "Permission denied".
run_denied() {
	local tag=$1 user line out
	user=$(user_of "$tag")
	ran[$tag]=1
	echo "== $tag"
	while IFS= read -r line; do
		if out=$(as "$user" sh -c "$line" 2>&1); then
			fail "$tag: $user could: $line"
		elif [[ $out != *"Permission denied"* ]]; then
			fail "$tag: $line failed, but not for permission: $out"
		else
			pass "$tag: $user cannot: $line"
		fi
	done < <(block "$tag" | localize)
}

group() { stat -c %G "$1"; }
absent() { [ ! -e "$1" ]; }
rows() { echo $(($(wc -l <"$release/index.csv") - 1)); }

# Every file under DIR is mode 0640 and every folder 0750 (setgid or not),
# all group GROUP; prints the first that is not.
released() {
	local bad
	bad=$(find "$1" -mindepth 1 \( -type f \( ! -perm -0640 -o -perm /0137 \) -o \
		-type d \( ! -perm -0750 -o -perm /0027 \) -o ! -group "$2" \) -printf '%p %m %g\n' | head -1)
	[ -z "$bad" ] || { echo "     not 0640/0750 $2: ${bad#"$T"/}"; return 1; }
}

# Everything in the vault but keys/ and index/ is group veil-audit, readable
# (folders: enterable) by the group and not writable by it; prints the first
# that is not.
auditable() {
	local bad
	bad=$(find "$1" -mindepth 1 \( -path "$1/keys" -o -path "$1/index" \) -prune -o \
		\( ! -group veil-audit -o -perm /g+w -o -type f ! -perm -g+r -o -type d ! -perm -g+rx \) -printf '%p %m %g\n' | head -1)
	[ -z "$bad" ] || { echo "     not for auditors: ${bad#"$T"/}"; return 1; }
}

# The folders are mode 0700 and everything in them 0600; prints the first
# that is not.
closed() {
	local bad
	bad=$(find "$@" \( -type f ! -perm 0600 -o -type d ! -perm 0700 -a ! -perm 2700 \) -printf '%p %m\n' | head -1)
	[ -z "$bad" ] || { echo "     not 0700/0600: ${bad#"$T"/}"; return 1; }
}

# --- once, as root
run_doc root:setup
check "inbox is veil:veil-staff 2770" [ "$(stat -c '%U:%G %a' "$inbox")" = "veil:veil-staff 2770" ]
check "vault is veil:veil-audit 2750" [ "$(stat -c '%U:%G %a' "$vault")" = "veil:veil-audit 2750" ]
check "release is veil:veil-release 2750" [ "$(stat -c '%U:%G %a' "$release")" = "veil:veil-release 2750" ]
check "setup-clinic.sh runs again" "$repo/scripts/setup-clinic.sh" --prefix "$T"

run_doc root:init
check "custodian file on the custodian's drive" [ -f "$T/media/custodian/custodian.age" ]
check "no custodian file left on the host" absent "$T/run/veil-init"
check "vault.json group veil-audit (finding 14.7: setgid vault)" [ "$(group "$vault/vault.json")" = veil-audit ]

# --- staff drop photos, veil ingests
run_doc staff:drop
check "staff's folders are group veil-staff" [ "$(group "$inbox/Jane Doe (483920)/before")" = veil-staff ]
check "veil can read a photo staff dropped with umask 077" as veil test -r "$inbox/Jane Doe (483920)/before/IMG_0001.jpg"

run_doc veil:ingest 4
for f in "Jane Doe (483920)/before/IMG_0001.jpg" "Jane Doe (483920)/after/IMG_0002.png" "John Roe (771204)/after/IMG_0003.HEIC"; do
	check "source removed: $f" absent "$inbox/$f"
done
check "emptied patient folder removed: Jane Doe (483920)" absent "$inbox/Jane Doe (483920)"
check "emptied phase folder removed: John Roe (771204)/after" absent "$inbox/John Roe (771204)/after"
if [ -d "$inbox/Jane Doe (483920)" ]; then
	# Whether or not veil removes them itself, the layout must let it.
	check "veil may remove the emptied folders staff made" \
		as veil rmdir "$inbox/Jane Doe (483920)/before" "$inbox/Jane Doe (483920)/after" "$inbox/Jane Doe (483920)"
fi
check "rose.webp quarantined" [ -f "$inbox/.quarantine/John Roe (771204)/misc/rose.webp" ]
check "quarantine reason readable by staff" as alice test -r "$inbox/.quarantine/John Roe (771204)/misc/rose.webp.reason.txt"
check "release index.csv has 3 rows" [ "$(rows)" = 3 ]
check "release files 0640, folders 0750, group veil-release" released "$release" veil-release
check "vault's public parts readable, not writable, by veil-audit" auditable "$vault"
check "vault keys/ and index/ closed: 0700, files 0600" closed "$vault/keys" "$vault/index"

# --- the auditor verifies with public keys only (finding 14.7)
run_doc auditor:pin
run_doc auditor:verify
run_denied auditor:cannot
run_denied staff:cannot

# --- staff move a fixed file back out of quarantine (finding 14.7)
run_doc staff:fix
run_doc veil:ingest
check "moved-back file ingested and removed" absent "$inbox/John Roe (771204)/before/rose.webp"
check "emptied patient folder removed: John Roe (771204)" absent "$inbox/John Roe (771204)"
check "nothing left in quarantine" [ -z "$(find "$inbox/.quarantine" -type f 2>/dev/null)" ]
check "release index.csv has 4 rows" [ "$(rows)" = 4 ]
run_doc auditor:verify

# Every documented command ran.
while IFS= read -r tag; do
	[ -n "${ran[$tag]:-}" ] || fail "docs/permissions.md block $tag is not run by this test"
done < <(sed -n 's/^```sh \([a-z]*:[a-z]*\)$/\1/p' "$doc")

if [ "$failures" -gt 0 ]; then
	echo "clinic-test: $failures check(s) failed"
	exit 1
fi
echo "clinic-test: passed"
