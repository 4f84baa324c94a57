"""SM2 signatures with SM3 (GB/T 32918, GB/T 35276) and SM2 certificates, as both sides use
them: the issuer signs OFD seals and SM2 certificates, the verifier checks them.

Pinned once here, because libraries differ on them silently:

- signatures are DER ``SEQUENCE { r INTEGER, s INTEGER }`` (GB/T 35276, and what X.509 and
  ``openssl dgst -sign`` use), never the raw 64-byte ``r‖s``; a signature that is not strict
  DER is refused before the library sees it;
- the signer ID in Z = SM3(ENTL‖ID‖a‖b‖xG‖yG‖xA‖yA) is ``1234567812345678``
  (GB/T 35276 §9's default; OpenSSL's ``distid``), passed explicitly on every call;
- public keys are the 64 bytes ``x‖y`` (the 0x04 prefix stripped).

The arithmetic is GmSSL's (via ``gmssl-pyx``); tests cross-check it with the OpenSSL CLI.
"""

from __future__ import annotations

from dataclasses import dataclass

import gmssl_pyx
from asn1crypto import algos, keys, x509

from ledger.errors import LedgerError

__all__ = [
    "DEFAULT_ID",
    "SM2_CURVE",
    "SM3",
    "SM3_WITH_SM2",
    "Sm2Error",
    "Sm2KeyPair",
    "certificate_public_key",
    "generate",
    "sign",
    "sm3",
    "verify",
    "verify_certificate",
]

SM2_CURVE = "1.2.156.10197.1.301"
"""sm2p256v1, the named curve of every SM2 key (in ``id-ecPublicKey`` parameters)."""
SM3_WITH_SM2 = "1.2.156.10197.1.501"
"""SM3-with-SM2 signature algorithm (certificates, ``SES_Seal``, ``SES_Signature``)."""
SM3 = "1.2.156.10197.1.401"
"""SM3 digest algorithm (OFD ``CheckMethod``)."""
EC_PUBLIC_KEY = "1.2.840.10045.2.1"
DEFAULT_ID = b"1234567812345678"

if SM2_CURVE not in keys.NamedCurve._map:  # asn1crypto needs a key size to build SM2 keys
    keys.NamedCurve.register("sm2p256v1", SM2_CURVE, 32)


class Sm2Error(LedgerError, ValueError):
    """An SM2 key or certificate that cannot be used (wrong algorithm, curve or encoding)."""


@dataclass(frozen=True, slots=True)
class Sm2KeyPair:
    """An SM2 key pair. ``repr`` shows the public key only."""

    private: bytes
    """The 32-byte private scalar d."""
    public: bytes
    """The 64-byte public point x‖y."""

    def __post_init__(self) -> None:
        if len(self.private) != 32 or len(self.public) != 64:
            raise Sm2Error("an SM2 key pair is a 32-byte scalar and a 64-byte point")

    def __repr__(self) -> str:
        return f"Sm2KeyPair(public={self.public.hex()[:16]}…)"


def generate() -> Sm2KeyPair:
    public, private = gmssl_pyx.sm2_key_generate()
    return Sm2KeyPair(private=bytes(private), public=bytes(public))


def sm3(data: bytes) -> bytes:
    """The 32-byte SM3 digest (GB/T 32905)."""
    return bytes(gmssl_pyx.sm3_hash(data))


def sign(key: Sm2KeyPair, message: bytes, *, signer_id: bytes = DEFAULT_ID) -> bytes:
    """SM2 signature of SM3(Z‖message), DER-encoded."""
    try:
        return bytes(gmssl_pyx.sm2_sign(key.private, key.public, message, signer_id=signer_id))
    except gmssl_pyx.GmsslInnerError as exc:
        raise Sm2Error(f"SM2 signing failed: {exc}") from exc


def verify(
    public: bytes, message: bytes, signature: bytes, *, signer_id: bytes = DEFAULT_ID
) -> bool:
    """Whether ``signature`` (strict DER) is ``public``'s over ``message``; never raises."""
    if len(public) != 64 or not _strict_der_signature(signature):
        return False
    try:
        return bool(gmssl_pyx.sm2_verify(public, message, signature, signer_id=signer_id))
    except gmssl_pyx.GmsslInnerError:  # a point off the curve, a zero r or s
        return False


def _strict_der_signature(signature: bytes) -> bool:
    try:
        parsed = algos.DSASignature.load(signature, strict=True)
        r, s = parsed["r"].native, parsed["s"].native
    except (ValueError, TypeError):
        return False
    return isinstance(r, int) and isinstance(s, int) and parsed.dump(force=True) == signature


def certificate_public_key(cert: x509.Certificate) -> bytes:
    """The 64-byte SM2 public key of a certificate; ``Sm2Error`` if it holds another kind."""
    spki = cert["tbs_certificate"]["subject_public_key_info"]
    algorithm = spki["algorithm"]
    if algorithm["algorithm"].dotted != EC_PUBLIC_KEY:
        raise Sm2Error("not an elliptic-curve key")
    params = algorithm["parameters"]
    if params.name != "named" or params.chosen.dotted != SM2_CURVE:
        raise Sm2Error("not a key on the SM2 curve")
    point = bytes(spki["public_key"].contents[1:])  # BIT STRING: unused-bits byte first
    if len(point) != 65 or point[0] != 4:
        raise Sm2Error("the SM2 public key is not an uncompressed point")
    return point[1:]


def public_key_info(public: bytes) -> keys.PublicKeyInfo:
    """``SubjectPublicKeyInfo`` of an SM2 key: ``id-ecPublicKey`` with curve sm2p256v1."""
    return keys.PublicKeyInfo(
        {
            "algorithm": keys.PublicKeyAlgorithm(
                {
                    "algorithm": EC_PUBLIC_KEY,
                    "parameters": keys.ECDomainParameters("named", SM2_CURVE),
                }
            ),
            "public_key": b"\x04" + public,
        }
    )


def verify_certificate(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    """Whether ``issuer``'s SM2 key signed ``cert`` with SM3-with-SM2; never raises."""
    try:
        if cert["signature_algorithm"]["algorithm"].dotted != SM3_WITH_SM2:
            return False
        signature = bytes(cert["signature_value"].native)
        tbs = cert["tbs_certificate"].dump()
        return verify(certificate_public_key(issuer), tbs, signature)
    except (Sm2Error, ValueError, TypeError, KeyError):
        return False
