"""A self-signed certificate for 127.0.0.1 that clients verify as their own CA file.

No separate CA: the leaf is its own trust anchor, so the code under test keeps full
verification on (hostname included) and only its CA-file setting points at cert.pem.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


@dataclass(frozen=True)
class TlsFiles:
    """Paths of the PEM files; `cert` doubles as the client's CA file."""

    cert: Path
    key: Path


def make_tls_files(folder: Path, common_name: str = "localhost") -> TlsFiles:
    """Write cert.pem and key.pem into `folder` (created if needed) and return their paths.

    The certificate names DNS:localhost and IP:127.0.0.1 so a client may connect to either.
    """
    folder.mkdir(parents=True, exist_ok=True)
    # P-256 keys are generated in microseconds (RSA-2048 takes ~100 ms) and both OpenSSL and
    # Dovecot accept them.
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    # Backdate a little: a client clock a few seconds behind must not see "not yet valid".
    now = dt.datetime.now(dt.UTC)
    public_key = key.public_key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        # The extensions below keep the certificate valid under OpenSSL's X509_STRICT checks,
        # which Python 3.13+ turns on by default for client contexts.
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(public_key), critical=False
        )
        .sign(key, hashes.SHA256())
    )
    files = TlsFiles(cert=folder / "cert.pem", key=folder / "key.pem")
    files.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    files.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    # Dovecot's master reads the key as root before dropping privileges; 0644 keeps it simple
    # for a throwaway test key and lets `nobody`-owned processes read it when needed.
    files.key.chmod(0o644)
    files.cert.chmod(0o644)
    return files
