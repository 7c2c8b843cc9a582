"""A self-signed TLS certificate for serving the dashboard beyond this computer.

Made on first use (``--host`` not loopback, no ``--tls-cert``) with ``cryptography``, kept
in the user's data folder and reused while valid, so a browser that was told to trust
it once keeps trusting it. Nobody vouches for a self-signed certificate: the person
checks its SHA-256 fingerprint, printed at start, against what the browser shows.

Assumptions: an ECDSA P-256 key (what every current browser accepts), valid 397 days
(the longest validity browsers accept for a server certificate), subject alternative
names for ``localhost``, this computer's name and every address it has, plus the bound
address when it is a specific one. The key file is readable by its owner only.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import socket
from dataclasses import dataclass
from pathlib import Path

from twitchwatch import TwitchwatchError

VALID_DAYS = 397
RENEW_BEFORE_DAYS = 7
CERT_NAME = "dashboard-cert.pem"
KEY_NAME = "dashboard-key.pem"


@dataclass(frozen=True)
class SelfSignedCertificate:
    """Where the certificate and key are, its fingerprint, and whether it was made now."""

    cert_path: Path
    key_path: Path
    sha256_fingerprint: str  # "AB:CD:..." as browsers show it
    made_now: bool


def default_folder() -> Path:
    """``platformdirs.user_data_path("twitchwatch") / "tls"`` (not created here)."""
    import platformdirs

    return platformdirs.user_data_path("twitchwatch") / "tls"


def ensure_self_signed(folder: Path, host: str) -> SelfSignedCertificate:
    """The certificate in ``folder`` if it is valid for a week more and names ``host``;
    otherwise a new one (key and certificate replaced together).

    Raises:
        TwitchwatchError: ``cryptography`` is missing, or the folder cannot be written.
    """
    try:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID
    except ImportError:  # pragma: no cover - a declared dependency
        raise TwitchwatchError("serving beyond this computer needs a TLS certificate: give --tls-cert FILE and "
                               "--tls-key FILE, or install 'cryptography' so one can be made") from None
    names, addresses = _subject_names(host)
    cert_path, key_path = folder / CERT_NAME, folder / KEY_NAME
    existing = _load_if_usable(cert_path, key_path, names, addresses)
    if existing is not None:
        return SelfSignedCertificate(cert_path, key_path, _fingerprint(existing), made_now=False)

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"twitchwatch dashboard on {socket.gethostname()}")])
    now = dt.datetime.now(dt.timezone.utc)
    sans: list[x509.GeneralName] = [x509.DNSName(n) for n in sorted(names)]
    sans += [x509.IPAddress(a) for a in sorted(addresses, key=str)]
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=VALID_DAYS))
            .add_extension(x509.SubjectAlternativeName(sans), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(key, hashes.SHA256()))
    try:
        folder.mkdir(parents=True, exist_ok=True)
        key_bytes = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption())
        _write_private(key_path, key_bytes)
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    except OSError as exc:
        raise TwitchwatchError(f"cannot keep a TLS certificate in {folder}: {exc.strerror or exc}; "
                               f"give --tls-cert FILE and --tls-key FILE") from None
    return SelfSignedCertificate(cert_path, key_path, _fingerprint(cert), made_now=True)


def _write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` readable by its owner only (created 0600, never widened)."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def _subject_names(host: str) -> tuple[set[str], set[ipaddress.IPv4Address | ipaddress.IPv6Address]]:
    """DNS names and IP addresses a browser on the network may use to reach ``host``."""
    names = {"localhost"}
    addresses: set[ipaddress.IPv4Address | ipaddress.IPv6Address] = {ipaddress.ip_address("127.0.0.1")}
    hostname = socket.gethostname()
    if hostname:
        names.add(hostname)
        try:
            for info in socket.getaddrinfo(hostname, None):
                addresses.add(ipaddress.ip_address(str(info[4][0]).split("%")[0]))
        except (OSError, ValueError):
            pass
    try:
        bound = ipaddress.ip_address(host)
        if not bound.is_unspecified:
            addresses.add(bound)
    except ValueError:
        if host:
            names.add(host)
    return names, addresses


def _load_if_usable(cert_path: Path, key_path: Path, names: set[str], addresses: set) -> object | None:
    """The stored certificate, if both files load, match, name everything needed and
    are valid for another :data:`RENEW_BEFORE_DAYS` days; else None."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    try:
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (OSError, ValueError, x509.ExtensionNotFound):
        return None
    if key.public_key().public_numbers() != cert.public_key().public_numbers():  # type: ignore[union-attr]
        return None
    if cert.not_valid_after_utc < dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=RENEW_BEFORE_DAYS):
        return None
    have_names = set(sans.get_values_for_type(x509.DNSName))
    have_addresses = set(sans.get_values_for_type(x509.IPAddress))
    if not (names <= have_names and addresses <= have_addresses):
        return None
    return cert


def _fingerprint(cert: object) -> str:
    from cryptography.hazmat.primitives import hashes

    digest = cert.fingerprint(hashes.SHA256())  # type: ignore[attr-defined]
    return ":".join(f"{b:02X}" for b in digest)
