"""A throwaway Dovecot IMAP server for the tests: `dovecot -F` with a generated configuration,
listening on loopback (IMAP with STARTTLS on one port, IMAPS on another, under a self-signed
certificate made here), with users in passwd-files and their mail in maildirs, all in a
scratch directory that is removed afterwards.

Dovecot comes from the distribution (`apt-get install dovecot-imapd`; `.ci/run` installs it
when it is missing). Without it the tests that need it fail with that instruction: they
never skip.
"""

from __future__ import annotations

import datetime as dt
import grp
import ipaddress
import os
import pwd
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from imapclient import IMAPClient

BINARY = "/usr/sbin/dovecot"
START_TIMEOUT = 30.0


class DovecotMissingError(RuntimeError):
    """Raised when the Dovecot binary is not installed; says what to install."""


@dataclass
class Dovecot:
    """A running throwaway server: `port` speaks IMAP (and STARTTLS), `tls_port` IMAPS;
    `ca_file` is the certificate a client must trust for either."""

    scratch: Path
    process: subprocess.Popen[bytes]
    port: int
    tls_port: int
    ca_file: Path
    host: str = "127.0.0.1"
    users: dict[str, str] = field(default_factory=dict)

    def add_user(self) -> tuple[str, str]:
        """A new user (its own maildir, so tests never share mail): (user, password)."""
        user, password = f"u{uuid.uuid4().hex[:12]}", uuid.uuid4().hex
        self.users[user] = password
        # A passwd-file per user: Dovecot notices a changed file only by its size and
        # mtime in seconds, and a new file is always read.
        path = self.scratch / "users" / user
        path.write_text(f"{user}:{{PLAIN}}{password}::::::\n")
        path.chmod(0o644)
        return user, password

    def client(self, user: str, password: str) -> IMAPClient:
        """A plain (loopback) client, logged in."""
        client = IMAPClient(self.host, self.port, ssl=False, timeout=30)
        client.login(user, password)
        return client

    def append(self, user: str, folder: str, raw: bytes, flags: tuple[bytes, ...] = ()) -> None:
        """Put a message into a folder of the user's (made if missing), as a sender would."""
        with self.client(user, self.users[user]) as client:
            if not client.folder_exists(folder):
                client.create_folder(folder)
            client.append(folder, raw, flags)

    def ssl_context(self) -> ssl.SSLContext:
        """A client context that trusts this server's certificate (and nothing else)."""
        return ssl.create_default_context(cafile=str(self.ca_file))

    def log(self) -> str:
        path = self.scratch / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        shutil.rmtree(self.scratch, ignore_errors=True)


def start() -> Dovecot:
    """Start a server; DovecotMissingError when the binary is not installed."""
    binary = BINARY if Path(BINARY).exists() else shutil.which("dovecot")
    if binary is None:
        raise DovecotMissingError(
            "the IMAP tests need Dovecot, which is not installed: install it (Debian/Ubuntu:"
            " `apt-get install dovecot-imapd`; `.ci/run` does this on a fresh machine)"
        )
    scratch = Path(tempfile.mkdtemp(prefix="ledgerdesk-dovecot-"))
    scratch.chmod(0o755)  # Dovecot's unprivileged processes read the passwd-file and mail.
    port, tls_port = _free_port(), _free_port()
    cert, key = _certificate(scratch)
    mail = scratch / "mail"
    mail.mkdir()
    mail_user = _mail_user()
    os.chown(mail, *mail_user[1:])
    (scratch / "users").mkdir(mode=0o755)
    config = scratch / "dovecot.conf"
    config.write_text(_config(scratch, port, tls_port, cert, key, mail_user))
    with (scratch / "dovecot.out").open("ab") as out:
        process = subprocess.Popen(
            [binary, "-F", "-c", str(config)],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Dovecot(scratch, process, port, tls_port, cert)
    try:
        _wait_for(server)
    except BaseException:
        server.stop()
        raise
    return server


def _config(
    scratch: Path, port: int, tls_port: int, cert: Path, key: Path, mail_user: tuple[str, int, int]
) -> str:
    name, uid, gid = mail_user
    # As root, Dovecot's own unprivileged users run its processes; otherwise everything
    # runs as the current user (and the login process cannot chroot).
    users = (
        ""
        if os.geteuid() == 0
        else f"default_internal_user = {name}\ndefault_login_user = {name}\n"
        f"default_internal_group = {grp.getgrgid(gid).gr_name}\n"
    )
    return f"""\
base_dir = {scratch}/run
state_dir = {scratch}/state
log_path = {scratch}/dovecot.log
protocols = imap
listen = 127.0.0.1
{users}first_valid_uid = {uid}
last_valid_uid = 0
first_valid_gid = {gid}
ssl = yes
ssl_cert = <{cert}
ssl_key = <{key}
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:{scratch}/mail/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {scratch}/users/%u
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={scratch}/mail/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {tls_port}
    ssl = yes
  }}
}}
"""


def _mail_user() -> tuple[str, int, int]:
    """The user mail is kept as: Dovecot's own as root (it refuses root), else ourselves."""
    entry = pwd.getpwnam("dovecot") if os.geteuid() == 0 else pwd.getpwuid(os.geteuid())
    return entry.pw_name, entry.pw_uid, entry.pw_gid


def _certificate(scratch: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost, and its key."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ledgerdesk test IMAP")])
    now = dt.datetime.now(dt.UTC)
    public = key.public_key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = scratch / "cert.pem", scratch / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _wait_for(server: Dovecot) -> None:
    """Until the server greets a client (by a deadline, polling)."""
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        if server.process.poll() is not None:
            raise RuntimeError(f"dovecot exited at start:\n{server.log()[-2000:]}")
        try:
            IMAPClient(server.host, server.port, ssl=False, timeout=2).logout()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"dovecot did not start:\n{server.log()[-2000:]}") from None
            time.sleep(0.1)
