#!/bin/bash -e
# pi-gen host step: put the installer, the units and the wheel inside the image's root file
# system, and set the boot options; 01-run-chroot.sh then installs from there.
# Needs (from image_build/config): ROOTFS_DIR (pi-gen), PRESENSI_SRC, and the PRESENSI_* options.

src="${PRESENSI_SRC:?PRESENSI_SRC is set by image_build/config}"
rootfs="${ROOTFS_DIR:?ROOTFS_DIR is set by pi-gen}"
payload="${rootfs}/var/tmp/presensi-install"

rm -rf "${payload}"
install -d "${payload}/image_build" "${payload}/docs" "${payload}/wheels"
cp -a "${src}/scripts" "${src}/systemd" "${payload}/"
cp -a "${src}/docs/install.md" "${payload}/docs/"
cp -a "${src}/image_build/pi-constraints.txt" "${src}/image_build/stage-presensi" "${payload}/image_build/"

if [ -n "${PRESENSI_WHEEL}" ]; then
    cp "${PRESENSI_WHEEL}" "${payload}/wheels/"
else
    python3 -m pip wheel --quiet --no-deps --wheel-dir "${payload}/wheels" "${src}"
fi
install -d "${payload}/models"
cp "${PRESENSI_MODELS:?PRESENSI_MODELS names the folder of the liveness models}"/*.onnx "${payload}/models/"
if [ -f "${PRESENSI_MODELS}/LICENSE" ]; then
    cp "${PRESENSI_MODELS}/LICENSE" "${payload}/models/"
fi
if [ -n "${PRESENSI_WHEELHOUSE}" ]; then
    cp -a "${PRESENSI_WHEELHOUSE}" "${payload}/wheelhouse"
fi

{
    printf 'PRESENSI_READONLY_ROOT=%q\n' "${PRESENSI_READONLY_ROOT:-0}"
    printf 'PRESENSI_RTC=%q\n' "${PRESENSI_RTC:-}"
    printf 'PRESENSI_WITH_SERVER=%q\n' "${PRESENSI_WITH_SERVER:-0}"
} > "${payload}/build.env"

# Boot options (/boot/firmware in bookworm).
boot="${rootfs}/boot/firmware"
add_line() {
    grep -qxF "$1" "${boot}/config.txt" || printf '%s\n' "$1" >> "${boot}/config.txt"
}
if [ "${PRESENSI_RTC}" = "ds3231" ]; then
    add_line "dtparam=i2c_arm=on"
    add_line "dtoverlay=i2c-rtc,ds3231"
elif [ -n "${PRESENSI_RTC}" ]; then
    echo "PRESENSI_RTC=${PRESENSI_RTC} is not supported (ds3231 or empty)" >&2
    exit 1
fi
if [ "${PRESENSI_UART}" = "1" ]; then
    add_line "enable_uart=1"
    sed -i -e 's/console=serial0,[0-9]* *//' "${boot}/cmdline.txt"
fi
