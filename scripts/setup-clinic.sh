#!/bin/sh
# setup-clinic.sh: create the users, groups and folders of a veil clinic host,
# as docs/permissions.md explains them. Run as root; running it again changes
# nothing that is already right (and puts back what is not).
#
#   scripts/setup-clinic.sh [--prefix DIR]
#
# --prefix puts the folders under DIR (DIR/srv/veil/..., DIR/run/veil-init)
# instead of / so that a test can build the whole layout in a temporary
# directory; users and groups are always the system's.
set -eu
# Folders made on the way (a --prefix's srv/, run/) are passed through by
# everyone; what is private is made so explicitly below.
umask 022

prefix=
while [ $# -gt 0 ]; do
	case $1 in
	--prefix) [ $# -ge 2 ] || { echo "setup-clinic: --prefix needs a directory" >&2; exit 2; }
		prefix=${2%/}; shift 2 ;;
	--prefix=*) prefix=${1#--prefix=}; prefix=${prefix%/}; shift ;;
	*) echo "usage: setup-clinic.sh [--prefix DIR]" >&2; exit 2 ;;
	esac
done
if [ "$(id -u)" != 0 ]; then
	echo "setup-clinic: run as root (it creates users, groups and folders)" >&2
	exit 1
fi
if ! command -v setfacl >/dev/null; then
	echo "setup-clinic: setfacl is missing: install the acl package (apt-get install acl)" >&2
	exit 1
fi

# The groups: staff drop photos, auditors read the vault, readers (researchers,
# the gallery, auditors) read the release folder. veil is the service user's
# own group, which nobody else is in.
for g in veil veil-staff veil-audit veil-release; do
	getent group "$g" >/dev/null || groupadd --system "$g"
done
# The service user runs 'veil ingest' and 'veil watch'. It is in no other
# group: what it may do in each folder is said by that folder's owner and ACL.
if ! id veil >/dev/null 2>&1; then
	useradd --system --gid veil --home-dir /nonexistent --no-create-home \
		--shell /usr/sbin/nologin veil
fi

root=$prefix/srv/veil
state=$prefix/var/lib/veil
inbox=$root/inbox
vault=$root/vault
release=$root/release
init=$prefix/run/veil-init

# folder OWNER:GROUP MODE PATH: create PATH (and its parents) and set exactly
# this owner and mode, with no ACL left over from an earlier setup.
folder() {
	mkdir -p "$3"
	chown "$1" "$3"
	setfacl -b "$3"
	chmod "$2" "$3"
}

# /srv/veil: everyone may pass through to the folder their group opens.
folder root:root 0755 "$root"

# The inbox: staff (group, via setgid on every folder) and veil (a named ACL
# entry) may do everything in every folder. A default ACL replaces the umask
# inside the inbox, so a staff member with umask 077 still makes files and
# folders that veil can read and remove, and veil makes quarantine folders
# that staff can move files back out of. Nobody else gets in.
folder veil:veil-staff 2770 "$inbox"
setfacl -d -m u::rwx,u:veil:rwx,g::rwx,o::--- "$inbox"

# The vault: veil writes, auditors (group veil-audit, inherited through
# setgid by every folder and file veil creates) read what veil makes
# group-readable: vault.json, auditor.pub, log/, blobs/. keys/ and index/ are
# made for veil alone (0700/0600) and stay so. The default ACL caps what veil
# creates at rwxr-x--- whatever veil's umask: never other, never group write.
folder veil:veil-audit 2750 "$vault"
setfacl -d -m u::rwx,g::r-x,o::--- "$vault"

# The release folder: veil writes, readers (group veil-release) read; the same
# cap as the vault.
folder veil:veil-release 2750 "$release"
setfacl -d -m u::rwx,g::r-x,o::--- "$release"

# Where 'veil init' writes the custodian file: /run is in memory (tmpfs), so
# the one key that decrypts originals never reaches this host's disks. It is
# moved to the custodian's own drive at once, and this folder removed.
folder veil:veil 0700 "$init"

# veil's own state, outside the vault (--state): the host pin of the vault,
# its ID, log key and last committed checkpoint, which whoever can write
# the vault folder cannot reach, so that a vault replaced or rolled back
# there is refused.
folder veil:veil 0700 "$state"
