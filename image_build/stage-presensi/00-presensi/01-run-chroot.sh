#!/bin/bash -e
# pi-gen chroot step (run inside the image's root, fed on stdin by pi-gen's on_chroot):
# installs Presensi Kiosk with the same script as an existing Raspberry Pi OS, then locks the
# image down. Reads /var/tmp/presensi-install, which 00-run.sh filled.

payload=/var/tmp/presensi-install
# shellcheck source=/dev/null
. "${payload}/build.env"

wheel=$(find "${payload}/wheels" -name 'presensi_kiosk-*.whl' | sort | tail -n 1)
args=(--no-apt --no-start --wheel "${wheel}" --models "${payload}/models")
if [ -d "${payload}/wheelhouse" ]; then
    args+=(--wheelhouse "${payload}/wheelhouse")
fi
# Read-only root: the overlay is switched on at the first boot (raspi-config needs the running
# kernel); the data directory lives on the PRESENSI-DATA partition (install-pi.sh sets both up).
if [ "${PRESENSI_READONLY_ROOT}" = "1" ]; then
    args+=(--readonly-root)
fi
if [ "${PRESENSI_WITH_SERVER}" = "1" ]; then
    args+=(--with-server)
fi
bash "${payload}/scripts/install-pi.sh" "${args[@]}"

files="${payload}/image_build/stage-presensi/00-presensi/files"

# SSH by key only; no password on any account (root and the technician are locked; the
# technician's sudo works through the SSH key).
install -D -m 0644 "${files}/sshd-presensi.conf" /etc/ssh/sshd_config.d/presensi.conf
if [ -f /lib/systemd/system/ssh.service ]; then
    systemctl enable ssh.service
fi
awk -F: '$1 == "root" || ($3 >= 1000 && $3 < 60000) { print $1 }' /etc/passwd | while read -r account; do
    passwd -l "${account}" > /dev/null
done
# Raspberry Pi OS's first-boot user wizard has no place on a kiosk.
systemctl disable userconfig.service 2> /dev/null || true

# The battery clock sets the system clock at boot; fake-hwclock would overwrite it.
if [ "${PRESENSI_RTC}" = "ds3231" ]; then
    install -D -m 0644 "${files}/85-presensi-rtc.rules" /etc/udev/rules.d/85-presensi-rtc.rules
    if dpkg-query -W -f='${Status}' fake-hwclock 2> /dev/null | grep -q "install ok installed"; then
        apt-get purge -y fake-hwclock
    fi
fi

rm -rf "${payload}"
apt-get clean
