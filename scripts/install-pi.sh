#!/bin/bash
# Install (or upgrade, or remove) Presensi Kiosk on Raspberry Pi OS bookworm, 64-bit.
#
#   sudo scripts/install-pi.sh                     install or upgrade from this checkout
#   sudo scripts/install-pi.sh --wheel FILE.whl    install that wheel instead of building one
#   sudo scripts/install-pi.sh --uninstall         remove the software, keep data and config
#   sudo scripts/install-pi.sh --uninstall --purge remove data (punches!), config and users too
#
# Options:
#   --wheel FILE       the presensi-kiosk wheel to install (default: build one from this tree)
#   --wheelhouse DIR   install dependencies only from DIR (no index; the image build uses it)
#   --models DIR       copy the liveness models (MiniFASNetV2.onnx, MiniFASNetV1SE.onnx) from DIR
#                      to /opt/presensi/share/models, where the default configuration looks
#   --face-model FILE  copy a face model the operator has the rights to (ONNX, ArcFace-style; and
#                      FILE.json, its input contract, when present) to /opt/presensi/share/models/face;
#                      then set face.embedder = "onnx" and face.onnx_model (docs/face.md)
#   --yunet FILE       copy the YuNet face detector there too; then set face.detector = "yunet"
#   --no-apt           do not install Debian packages (pi-gen has installed them already)
#   --no-enable        install the units but do not enable them
#   --with-server      also enable the reference central server (small deployments)
#   --no-start         do not (re)start the services after installing
#   --readonly-root    read-only root (Raspberry Pi OS overlay, switched on at the next boot) with
#                      /var/lib/presensi on the PRESENSI-DATA partition, and the guard that keeps
#                      the services off a volatile data directory
#   --otp-key          keep the template key in the Raspberry Pi 4/5's OTP (programmed once at the
#                      next boot while empty) and hand it to the services as a systemd credential;
#                      set privacy.key_provider = "credential" in kiosk.toml (docs/privacy.md)
#
# Safe to run again: a second run upgrades in place and leaves one installation (the same
# files, the same venv, one symlink, units enabled once). Nothing under /var/lib/presensi or
# /etc/presensi/kiosk.toml is overwritten. Every installed path is listed in
# /opt/presensi/share/manifest.txt, which --uninstall follows.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=$(cd "$here/.." && pwd)
stage_dir="$src/image_build/stage-presensi/00-presensi"

prefix=/opt/presensi
venv=$prefix/venv
share=$prefix/share
manifest=$share/manifest.txt
unit_dir=/usr/local/lib/systemd/system
libexec=/usr/local/lib/presensi
fstab_line="LABEL=PRESENSI-DATA /var/lib/presensi ext4 defaults,noatime,commit=30,nofail,x-systemd.device-timeout=15s 0 2"

wheel=""
wheelhouse=""
models=""
face_model=""
yunet_model=""
apt=1
enable=1
start=1
server=0
readonly_root=0
otp_key=0
action=install
purge=0

say() { printf '[install-pi] %s\n' "$*" >&2; }
die() {
    say "$*"
    exit 1
}

while [[ $# -gt 0 ]]; do
    case "$1" in
        --wheel) wheel=$(realpath "$2"); shift 2 ;;
        --wheelhouse) wheelhouse=$(realpath "$2"); shift 2 ;;
        --models) models=$(realpath "$2"); shift 2 ;;
        --face-model) face_model=$(realpath "$2"); shift 2 ;;
        --yunet) yunet_model=$(realpath "$2"); shift 2 ;;
        --no-apt) apt=0; shift ;;
        --no-enable) enable=0; shift ;;
        --no-start) start=0; shift ;;
        --with-server) server=1; shift ;;
        --readonly-root) readonly_root=1; shift ;;
        --otp-key) otp_key=1; shift ;;
        --uninstall) action=uninstall; shift ;;
        --purge) purge=1; shift ;;
        -h | --help) sed -n '2,32p' "$0"; exit 0 ;;
        *) die "unknown option $1 (see --help)" ;;
    esac
done

[[ $(id -u) -eq 0 ]] || die "run as root: sudo $0 $*"

# systemd is PID 1 (a running Pi), or not (a chroot: pi-gen, the tests).
running_systemd() { [[ -d /run/systemd/system ]]; }

packages_in() { sed -e 's/#.*//' "$1" | tr -s ' \t' '\n' | sed '/^$/d'; }

install_apt_packages() {
    local debian rpi available=()
    mapfile -t debian < <(packages_in "$stage_dir/00-packages")
    say "installing Debian packages: ${debian[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${debian[@]}"
    # Raspberry Pi OS's own archive (python3-picamera2, python3-lgpio): only where it is configured.
    mapfile -t rpi < <(packages_in "$stage_dir/01-packages")
    for pkg in "${rpi[@]}"; do
        if apt-cache policy "$pkg" 2>/dev/null | grep -q 'Candidate: [0-9]'; then
            available+=("$pkg")
        else
            say "not in the configured archives, skipped: $pkg (Raspberry Pi OS has it)"
        fi
    done
    if [[ ${#available[@]} -gt 0 ]]; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${available[@]}"
    fi
}

# install MODE SOURCE DEST: copy one file and record it in the manifest
put() {
    install -D -m "$1" "$2" "$3"
    printf '%s\n' "$3" >> "$manifest.new"
}

build_wheel() {
    local out
    out=$(mktemp -d)
    say "building the presensi-kiosk wheel from $src"
    python3 -m pip wheel --quiet --no-deps --wheel-dir "$out" "$src" >&2
    ls "$out"/presensi_kiosk-*.whl
}

make_venv() {
    local want have=""
    want=$(python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')
    [[ -x "$venv/bin/python" ]] && have=$("$venv/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null || true)
    if [[ "$have" != "$want" ]]; then
        [[ -n "$have" ]] && say "Python changed ($have → $want): making the venv anew"
        rm -rf "$venv"
        # --system-site-packages: picamera2, libcamera, lgpio and evdev come from Debian/RPi packages.
        python3 -m venv --system-site-packages "$venv"
    fi
}

pip_install() {
    local pip=("$venv/bin/python" -m pip install --quiet --disable-pip-version-check --constraint "$src/image_build/pi-constraints.txt")
    if [[ -n "$wheelhouse" ]]; then
        pip+=(--no-index --find-links "$wheelhouse")
    fi
    say "installing $(basename "$wheel") and its dependencies into $venv"
    "${pip[@]}" --upgrade "$wheel"
    # The same version may be rebuilt (a fix on site): always replace the package itself.
    "${pip[@]}" --no-deps --force-reinstall "$wheel"
    # face_recognition's metadata asks for dlib's source build: see the file for why --no-deps
    "${pip[@]}" --no-deps -r "$src/scripts/no-deps-requirements.txt"
}

install_files() {
    mkdir -p "$share"
    : > "$manifest.new"
    local f
    for f in "$src"/systemd/*.service "$src"/systemd/*.target "$src"/systemd/*.timer "$src"/systemd/*.socket; do
        put 0644 "$f" "$unit_dir/$(basename "$f")"
    done
    put 0644 "$src/systemd/journald.conf.d/presensi.conf" /etc/systemd/journald.conf.d/presensi.conf
    put 0644 "$src/systemd/sysctl.d/60-presensi.conf" /etc/sysctl.d/60-presensi.conf
    put 0644 "$src/systemd/sysusers.d/presensi.conf" /usr/lib/sysusers.d/presensi.conf
    put 0644 "$src/systemd/udev/rules.d/60-presensi.rules" /etc/udev/rules.d/60-presensi.rules
    put 0644 "$src/systemd/modprobe.d/presensi-nfc.conf" /etc/modprobe.d/presensi-nfc.conf
    put 0644 "$src/systemd/pam.d/presensi-screen" /etc/pam.d/presensi-screen
    # Earlier versions let the user presensi act through polkit; the root helper's sockets replace it.
    rm -f /etc/polkit-1/rules.d/50-presensi.rules
    put 0755 "$src/systemd/bin/presensi-provision" "$libexec/provision"
    put 0644 "$src/docs/install.md" "$share/docs/install.md"
    if [[ -n "$models" ]]; then
        for f in MiniFASNetV2.onnx MiniFASNetV1SE.onnx; do
            [[ -f "$models/$f" ]] || die "$models has no $f"
            put 0644 "$models/$f" "$share/models/$f"
        done
        if [[ -f "$models/LICENSE" ]]; then
            put 0644 "$models/LICENSE" "$share/models/LICENSE"
        fi
    elif [[ ! -f "$share/models/MiniFASNetV2.onnx" ]]; then
        say "no liveness models given (--models DIR): face punching stays refused until they are in $share/models"
    else
        # kept from an earlier install: record them again so the manifest stays whole
        find "$share/models" -type f >> "$manifest.new"
    fi
    for f in "$face_model" "$yunet_model"; do
        [[ -n "$f" ]] || continue
        [[ -f "$f" ]] || die "no such model file: $f"
        put 0644 "$f" "$share/models/face/$(basename "$f")"
        if [[ -f "$f.json" ]]; then
            put 0644 "$f.json" "$share/models/face/$(basename "$f").json"
        fi
    done
    if [[ -d "$share/models/face" ]]; then  # kept from an earlier install: record them again
        find "$share/models/face" -type f >> "$manifest.new"
    fi
    if [[ -n "$face_model" ]]; then
        say "face model installed: set face.embedder = \"onnx\" and face.onnx_model = \"$share/models/face/$(basename "$face_model")\", then enrol everyone again"
    fi
    if [[ $readonly_root -eq 1 ]]; then
        for f in kiosk bridge sync; do
            put 0644 "$src/image_build/stage-presensi/00-presensi/files/readonly-data.conf" \
                "/etc/systemd/system/presensi-$f.service.d/readonly-data.conf"
        done
        put 0644 "$src/image_build/stage-presensi/00-presensi/files/presensi-overlay.service" "$unit_dir/presensi-overlay.service"
        grep -qxF "$fstab_line" /etc/fstab || printf '%s\n' "$fstab_line" >> /etc/fstab
    fi
    if [[ $otp_key -eq 1 ]]; then
        for f in kiosk bridge sync retention; do
            put 0644 "$src/systemd/template-key-credential.conf" "/etc/systemd/system/presensi-$f.service.d/template-key.conf"
        done
    fi
    ln -sfn "$venv/bin/presensi" /usr/local/bin/presensi
    ln -sfn "$venv/bin/presensi-privileged" /usr/local/bin/presensi-privileged
    printf '%s\n' /usr/local/bin/presensi /usr/local/bin/presensi-privileged >> "$manifest.new"
    sort -u "$manifest.new" > "$manifest"
    rm -f "$manifest.new"
    printf '%s\n' "$manifest" >> "$manifest"
}

install_config() {
    install -d -m 0750 -o root -g presensi /etc/presensi
    if [[ ! -e /etc/presensi/kiosk.toml ]]; then
        install -m 0640 -o root -g presensi "$src/systemd/etc/kiosk.toml" /etc/presensi/kiosk.toml
        say "wrote /etc/presensi/kiosk.toml (edit it, then: presensi config check)"
    else
        say "kept /etc/presensi/kiosk.toml"
    fi
    install -d -m 0750 -o presensi -g presensi /var/lib/presensi
    install -d -m 0700 -o presensi-screen -g presensi-screen /var/lib/presensi-screen
}

units_to_enable() {
    local units=(presensi.target presensi-provision.service presensi-kiosk.service presensi-bridge.service
        presensi-sync.service presensi-screen.service presensi-retention.timer
        presensi-privileged.socket presensi-clock.socket)
    [[ $server -eq 1 ]] && units+=(presensi-server.service)
    [[ $readonly_root -eq 1 ]] && units+=(presensi-overlay.service)
    printf '%s\n' "${units[@]}"
}

do_install() {
    [[ -f "$src/systemd/presensi-kiosk.service" ]] || die "run from a presensi-kiosk checkout or release ($src has no systemd/)"
    [[ $apt -eq 1 ]] && install_apt_packages
    command -v python3 >/dev/null || die "python3 is missing: apt-get install python3 python3-venv"
    install -D -m 0644 "$src/systemd/sysusers.d/presensi.conf" /usr/lib/sysusers.d/presensi.conf
    systemd-sysusers presensi.conf
    make_venv
    [[ -n "$wheel" ]] || wheel=$(build_wheel)
    [[ -f "$wheel" ]] || die "no wheel at $wheel"
    pip_install
    install_files
    install_config
    "$venv/bin/presensi" config check --config /etc/presensi/kiosk.toml >&2
    if running_systemd; then
        systemctl daemon-reload
        systemctl restart systemd-journald.service || true
        sysctl -q --load /etc/sysctl.d/60-presensi.conf || true
        udevadm control --reload-rules || true
        udevadm trigger --subsystem-match=tty --subsystem-match=input --subsystem-match=gpio || true
    fi
    if [[ $enable -eq 1 ]]; then
        mapfile -t units < <(units_to_enable)
        systemctl enable "${units[@]}" 2>&1 | sed 's/^/[install-pi] /' >&2
    fi
    if [[ $start -eq 1 ]] && running_systemd; then
        systemctl try-restart presensi-kiosk.service presensi-bridge.service presensi-sync.service presensi-server.service || true
        [[ $enable -eq 1 ]] && systemctl start presensi.target
    fi
    say "installed $("$venv/bin/presensi" --version) ($(wc -l < "$manifest") files in $manifest)"
}

do_uninstall() {
    local units=(presensi.target presensi-provision.service presensi-kiosk.service presensi-bridge.service
        presensi-sync.service presensi-screen.service presensi-server.service presensi-overlay.service
        presensi-retention.timer presensi-retention.service presensi-privileged.socket presensi-clock.socket)
    if running_systemd; then
        systemctl stop "${units[@]}" 2>/dev/null || true
    fi
    systemctl disable "${units[@]}" 2>/dev/null || true
    if [[ -f "$manifest" ]]; then
        while read -r path; do
            [[ -n "$path" ]] && rm -f -- "$path"
        done < "$manifest"
    fi
    sed -i "\|^LABEL=PRESENSI-DATA /var/lib/presensi |d" /etc/fstab
    rmdir --ignore-fail-on-non-empty /etc/systemd/system/presensi-*.service.d "$libexec" 2>/dev/null || true
    rm -rf "$prefix"
    if running_systemd; then
        systemctl daemon-reload
        udevadm control --reload-rules || true
    fi
    if [[ $purge -eq 1 ]]; then
        say "purging data (punches not yet uploaded are lost), configuration and users"
        rm -rf /var/lib/presensi /var/lib/presensi-screen /var/lib/presensi-server /var/log/presensi /etc/presensi \
            /etc/presensi-server
        for user in presensi presensi-screen presensi-server; do
            if getent passwd "$user" >/dev/null; then userdel "$user" || true; fi
            if getent group "$user" >/dev/null; then groupdel "$user" 2>/dev/null || true; fi
        done
        for group in presensi-admin presensi-clock; do
            if getent group "$group" >/dev/null; then groupdel "$group" 2>/dev/null || true; fi
        done
    else
        say "kept /var/lib/presensi (punches, device key) and /etc/presensi; --purge removes them"
    fi
    say "uninstalled"
}

case "$action" in
    install) do_install ;;
    uninstall) do_uninstall ;;
esac
