"""Presensi Kiosk: attendance kiosks for Indonesian local governments."""

import warnings

# face_recognition_models (dlib's model files) finds them through pkg_resources, which setuptools
# deprecates with a UserWarning at import; every command that loads the face code printed it to
# operators. The files are found all the same (setuptools<81 is pinned), so the one warning is
# silenced here, by message and module, for every entry point at once.
warnings.filterwarnings("ignore", message="pkg_resources is deprecated", category=UserWarning, module="face_recognition_models")
