#!/bin/bash
# Add the persistent data partition (ext4, LABEL=PRESENSI-DATA) that an image built with
# PRESENSI_READONLY_ROOT=1 mounts at /var/lib/presensi. Run on the workstation right after
# writing the image to a card, before the card's first boot:
#   sudo image_build/add-data-partition.sh /dev/sdX [SIZE, e.g. 4G; default: the rest of the card]
set -euo pipefail

dev=${1:?usage: $0 /dev/sdX [SIZE]}
size=${2:-}
[[ -b "$dev" ]] || { echo "$dev is not a block device" >&2; exit 1; }
if lsblk -lnpo MOUNTPOINT "$dev" | grep -q .; then
    echo "$dev has mounted partitions; unmount them first" >&2
    exit 1
fi
if lsblk -lnpo LABEL "$dev" | grep -qx PRESENSI-DATA; then
    echo "$dev already has a PRESENSI-DATA partition"
    exit 0
fi
printf ',%s,L\n' "$size" | sfdisk --append --quiet "$dev"
blockdev --rereadpt "$dev" || partprobe "$dev"
udevadm settle
part=$(lsblk -lnpo NAME,TYPE "$dev" | awk '$2 == "part" { name = $1 } END { print name }')
mkfs.ext4 -q -L PRESENSI-DATA "$part"
echo "made $part (PRESENSI-DATA)"
