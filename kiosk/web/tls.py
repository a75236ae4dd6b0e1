"""The maintenance page's certificate: self-signed, made at first boot, kept in the data dir.

Technicians check the SHA-256 fingerprint their browser shows against the one on the kiosk
screen before trusting the page (there is no public CA on an office LAN).
"""

from __future__ import annotations

import ipaddress
import logging
import os
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from core.errors import PresensiError

log = logging.getLogger(__name__)

CERT_NAME, KEY_NAME = "maintenance-cert.pem", "maintenance-key.pem"


@dataclass(frozen=True)
class TlsFiles:
    cert: Path
    key: Path
    fingerprint: str  # SHA-256, colon-separated upper-case hex


def fingerprint(cert_pem: bytes) -> str:
    cert = x509.load_pem_x509_certificate(cert_pem)
    return ":".join(f"{b:02X}" for b in cert.fingerprint(hashes.SHA256()))


def ensure_certificate(
    directory: Path, *, now: datetime, hostnames: Sequence[str] = (), addresses: Sequence[str] = (), days: int = 3650
) -> TlsFiles:
    """The certificate in ``directory``, made (key mode 0600) when absent."""
    cert_path, key_path = directory / CERT_NAME, directory / KEY_NAME
    if cert_path.exists() and key_path.exists():
        return TlsFiles(cert_path, key_path, fingerprint(cert_path.read_bytes()))
    directory.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    names = list(dict.fromkeys([socket.gethostname(), *hostnames, "localhost"]))
    alt: list[x509.GeneralName] = [x509.DNSName(n) for n in names if n]
    for addr in ["127.0.0.1", *addresses]:
        try:
            alt.append(x509.IPAddress(ipaddress.ip_address(addr)))
        except ValueError:
            continue
    subject = x509.Name(
        [x509.NameAttribute(NameOID.COMMON_NAME, names[0][:64]), x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Presensi Kiosk")]
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=days))
        .add_extension(x509.SubjectAlternativeName(alt), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_bytes = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    try:
        fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(key_bytes)
        cert_pem = cert.public_bytes(serialization.Encoding.PEM)
        cert_path.write_bytes(cert_pem)
    except OSError as exc:
        raise PresensiError(
            f"cannot write the maintenance certificate in {directory}: {exc.strerror}; check the data directory"
        ) from exc
    log.info("made the maintenance page certificate %s", cert_path)
    return TlsFiles(cert_path, key_path, fingerprint(cert_pem))
