#!/bin/bash
# A wheelhouse of the unit's Python dependencies for Raspberry Pi OS 64-bit (aarch64, CPython
# 3.11), made on any machine without compiling: binary wheels only, resolved for that platform.
#
#   image_build/wheelhouse.sh presensi_kiosk-0.1.0-py3-none-any.whl OUT_DIR
#
# The dependencies named in image_build/from-debian.txt have no aarch64 wheel: they are left out
# here and come from Debian's arm64 packages (00-packages). What scripts/no-deps-requirements.txt
# names is installed without its declared dependencies (face_recognition): it is fetched here the
# same way. face-recognition-models is published as a source distribution only; it is data and
# pure Python, so its wheel is built here.
# Then: PRESENSI_WHEELHOUSE=OUT_DIR for the image build (README.md).
set -euo pipefail

wheel=${1:?usage: wheelhouse.sh PRESENSI_WHEEL OUT_DIR}
out=${2:?usage: wheelhouse.sh PRESENSI_WHEEL OUT_DIR}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
python=${PYTHON:-python3}
mkdir -p "$out"

aarch64=(--only-binary=:all: --implementation cp --python-version 3.11 --abi cp311 --abi abi3 --abi none
    --platform manylinux2014_aarch64 --platform manylinux_2_17_aarch64 --platform manylinux_2_28_aarch64)
pip=("$python" -m pip --disable-pip-version-check)

"${pip[@]}" wheel --quiet --no-deps --wheel-dir "$out" 'face-recognition-models==0.3.0'
"${pip[@]}" download --quiet --no-deps "${aarch64[@]}" --dest "$out" -r "$here/../scripts/no-deps-requirements.txt"

# The wheel's own requirements (no extras), less what Debian supplies.
mapfile -t requirements < <("$python" - "$wheel" "$here/from-debian.txt" <<'PY'
import re
import sys
import zipfile
from email.parser import Parser

wheel, listing = sys.argv[1:3]
debian = {line.split()[0].lower() for line in open(listing) if line.strip() and not line.startswith("#")}
with zipfile.ZipFile(wheel) as zf:
    name = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
    metadata = Parser().parsestr(zf.read(name).decode())
for requirement in metadata.get_all("Requires-Dist") or []:
    if "extra ==" in requirement:
        continue
    project = re.match(r"[A-Za-z0-9._-]+", requirement).group(0).lower().replace("_", "-")
    if project not in debian:
        print(requirement.split(";")[0].strip())
PY
)
"${pip[@]}" download --quiet "${aarch64[@]}" --constraint "$here/pi-constraints.txt" --find-links "$out" \
    --dest "$out" "${requirements[@]}"
echo "wheelhouse for aarch64 cp311: $(find "$out" -name '*.whl' | wc -l) wheels in $out" >&2
