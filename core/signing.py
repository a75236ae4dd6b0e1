"""HTTP message signatures for protocol v1, modelled on RFC 9421 (and RFC 9530 digests).

Every request of a provisioned unit carries three headers:

    Content-Digest:  sha-256=:<base64 of SHA-256 over the body bytes as sent>:
    Signature-Input: sig1=("@method" "@path" "@query" "content-digest");created=<unix s>;nonce="<hex>";keyid="<device id>";alg="ed25519"
    Signature:       sig1=:<base64 of the Ed25519 signature over the signature base>:

The signature base is RFC 9421's: one line per covered component, then the parameters::

    "@method": POST
    "@path": /v1/punches
    "@query": ?
    "content-digest": sha-256=:…:
    "@signature-params": ("@method" "@path" "@query" "content-digest");created=…;nonce="…";keyid="…";alg="ed25519"

The server refuses a request whose ``created`` is outside its window, whose nonce it has seen,
whose body does not match the digest, or whose signature does not verify with the key it has
registered for ``keyid``.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from core.errors import AuthError
from core.identity import DeviceIdentity

LABEL = "sig1"
COMPONENTS = ("@method", "@path", "@query", "content-digest")
ALGORITHM = "ed25519"

_INPUT = re.compile(
    r'^sig1=\("@method" "@path" "@query" "content-digest"\);created=(?P<created>\d{1,12});'
    r'nonce="(?P<nonce>[0-9a-f]{16,64})";keyid="(?P<keyid>[A-Za-z0-9_-]{1,64})";alg="ed25519"$'
)
_SIGNATURE = re.compile(r"^sig1=:(?P<sig>[A-Za-z0-9+/]+={0,2}):$")
_DIGEST = re.compile(r"^sha-256=:(?P<digest>[A-Za-z0-9+/]+={0,2}):$")


class SignatureRejected(AuthError):
    """A signed request or document did not pass; ``reason`` is what the server records."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"request refused: {reason}")
        self.reason = reason


def content_digest(body: bytes) -> str:
    """The RFC 9530 ``Content-Digest`` value of ``body``."""
    return "sha-256=:" + base64.b64encode(hashlib.sha256(body).digest()).decode("ascii") + ":"


def signature_params(created: int, nonce: str, keyid: str) -> str:
    covered = " ".join(f'"{c}"' for c in COMPONENTS)
    return f'({covered});created={created};nonce="{nonce}";keyid="{keyid}";alg="{ALGORITHM}"'


def signature_base(method: str, path: str, query: str, digest: str, params: str) -> bytes:
    """The bytes that are signed (RFC 9421 §2.5)."""
    lines = [
        f'"@method": {method.upper()}',
        f'"@path": {path}',
        f'"@query": ?{query}',
        f'"content-digest": {digest}',
        f'"@signature-params": {params}',
    ]
    return "\n".join(lines).encode("utf-8")


def sign_request(
    identity: DeviceIdentity,
    method: str,
    path: str,
    query: str,
    body: bytes,
    *,
    created: int,
    randbytes: Callable[[int], bytes],
) -> dict[str, str]:
    """The headers that authenticate one request by the device key."""
    digest = content_digest(body)
    params = signature_params(created, randbytes(16).hex(), identity.device_id)
    signature = identity.private_key.sign(signature_base(method, path, query, digest, params))
    return {
        "Content-Digest": digest,
        "Signature-Input": f"{LABEL}={params}",
        "Signature": f"{LABEL}=:{base64.b64encode(signature).decode('ascii')}:",
    }


@dataclass(frozen=True)
class SignedRequest:
    """The parsed signature headers of a request (not yet verified)."""

    keyid: str
    created: int
    nonce: str
    digest: str
    signature: bytes
    params: str


def parse_signature_headers(headers: Mapping[str, str]) -> SignedRequest:
    """Parse the three headers; raises :class:`SignatureRejected` naming what is missing or malformed."""
    lowered = {k.lower(): v for k, v in headers.items()}
    sig_input, sig, digest = lowered.get("signature-input"), lowered.get("signature"), lowered.get("content-digest")
    if not sig_input or not sig or not digest:
        raise SignatureRejected("unsigned request (Signature-Input, Signature and Content-Digest are required)")
    match = _INPUT.match(sig_input.strip())
    if not match:
        raise SignatureRejected("malformed Signature-Input")
    sig_match = _SIGNATURE.match(sig.strip())
    if not sig_match:
        raise SignatureRejected("malformed Signature")
    if not _DIGEST.match(digest.strip()):
        raise SignatureRejected("malformed Content-Digest (expected sha-256)")
    return SignedRequest(
        keyid=match["keyid"],
        created=int(match["created"]),
        nonce=match["nonce"],
        digest=digest.strip(),
        signature=base64.b64decode(sig_match["sig"]),
        params=sig_input.strip().removeprefix(f"{LABEL}="),
    )


def verify_request(
    signed: SignedRequest,
    public_key: Ed25519PublicKey,
    *,
    method: str,
    path: str,
    query: str,
    body: bytes,
    now_s: float,
    window_s: float,
) -> None:
    """Check time, digest and signature (the nonce is the caller's: it needs storage)."""
    if abs(now_s - signed.created) > window_s:
        raise SignatureRejected(
            f"request time outside the allowed window ({signed.created - now_s:+.0f} s from the server's clock)"
        )
    if content_digest(body) != signed.digest:
        raise SignatureRejected("body does not match its Content-Digest (altered in transit?)")
    base = signature_base(method, path, query, signed.digest, signed.params)
    try:
        public_key.verify(signed.signature, base)
    except InvalidSignature:
        raise SignatureRejected("signature does not verify with the registered device key") from None


def sign_document(private_key: Ed25519PrivateKey, body: bytes) -> str:
    """The server's signature over a document it sends (roster), hex."""
    return private_key.sign(b"presensi-doc-v1\n" + body).hex()


def verify_document(public_key: Ed25519PublicKey, body: bytes, signature_hex: str) -> bool:
    try:
        public_key.verify(bytes.fromhex(signature_hex), b"presensi-doc-v1\n" + body)
    except (InvalidSignature, ValueError):
        return False
    return True
