"""A private, real Dovecot IMAP server for tests: its own config, port, TLS CA, user and mail.

Nothing of the system's Dovecot is used but the binaries (`bash tests/servers/install_dovecot.sh`
installs them): no /etc/dovecot, no /run/dovecot, no /var/lib/dovecot, no system service.
"""

from __future__ import annotations

import datetime as dt
import grp
import imaplib
import ipaddress
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from imap_tools.imap_utf7 import utf7_decode, utf7_encode

from stack.process import free_port

DOVECOT = "/usr/sbin/dovecot"
INSTALL_HINT = "run `bash tests/servers/install_dovecot.sh` (or `make test`)"
# Created by install_dovecot.sh; owns the mail when the tests run as root (see _mail_owner).
MAIL_USER = "dovecot-test"


class DovecotError(RuntimeError):
    """Dovecot is missing, refused its configuration or did not come up; the log is attached."""


# -- TLS ----------------------------------------------------------------------------------------


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def write_tls_files(directory: Path) -> tuple[Path, Path, Path]:
    """A throwaway CA and a server certificate it signed for 127.0.0.1 and localhost.

    Returns (ca_file, cert_file, key_file). EC P-256 keys, because they take a millisecond to
    make where RSA takes a hundred. The extensions are the ones strict verifiers (Python 3.13's
    VERIFY_X509_STRICT, OpenSSL 3) insist on: CA basic constraints and key usage, SAN, AKI/SKI.
    """
    now = dt.datetime.now(dt.UTC)
    valid_from, valid_to = now - dt.timedelta(minutes=5), now + dt.timedelta(days=2)

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name("Offstreet test CA (throwaway)")
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(valid_from)
        .not_valid_after(valid_to)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(ca_ski, critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("localhost"))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(valid_from)
        .not_valid_after(valid_to)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )

    ca_file, cert_file, key_file = (
        directory / "ca.pem",
        directory / "cert.pem",
        directory / "key.pem",
    )
    ca_file.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_file.chmod(0o600)  # read by Dovecot's config process, which runs as whoever started it
    return ca_file, cert_file, key_file


# -- Configuration ------------------------------------------------------------------------------

# Each line says why it is there; `{...}` are filled in by DovecotServer._write_config.
CONFIG_TEMPLATE = """\
# Private test instance written by tests/servers/dovecot.py; no system file is included.

# IMAP only: no POP3, LMTP or submission listeners to collide with anything.
protocols = imap
# Loopback only, IPv4 only: the tests connect to 127.0.0.1 and nothing else may reach in.
listen = 127.0.0.1
# Sockets, pid file and login chroot live in our tmp dir, so several instances and the system
# one never meet; state_dir keeps the instance registry out of /var/lib/dovecot.
base_dir = {root}/run
state_dir = {root}/state
# Names our processes in ps ("dovecot-test-PORT/imap"), telling them from any other Dovecot.
instance_name = dovecot-test-{port}
# Everything (errors included) goes to one file, read back by DovecotServer.log().
log_path = {root}/dovecot.log
# Say why a login failed in the log: a test with a wrong password is debugged in seconds.
auth_verbose = yes
# Answer a wrong password at once; real servers wait 2 s, which only slows the tests.
auth_failure_delay = 0
{privileges}
# A restart must drop IDLE clients, as a real server restart does.
shutdown_clients = yes

# TLS with the throwaway CA's certificate; clients verify against DovecotServer.ca_file.
ssl = {ssl}
ssl_cert = <{cert_file}
ssl_key = <{key_file}
# As hosted servers: nothing older than TLS 1.2, so a client needing it fails here too.
ssl_min_protocol = TLSv1.2
# LOGIN and AUTHENTICATE PLAIN allowed on the optional plaintext port too (loopback only).
disable_plaintext_auth = no
auth_mechanisms = plain login

# Users and passwords from a passwd-file; one static identity owns all mail on disk.
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/etc/users
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/home/%u
}}
# Only that identity may touch mail (Dovecot refuses uids below first_valid_uid, e.g. root).
first_valid_uid = {uid}
last_valid_uid = {uid}
first_valid_gid = {gid}
last_valid_gid = {gid}

# Maildir, as most hosted servers; "/" as separator, so "Needs review" and "A/B" look as on
# Gmail or Microsoft 365 (clients must still read the separator from LIST).
mail_location = maildir:~/Maildir
namespace inbox {{
  inbox = yes
  separator = /
}}
# Throwaway mail: skip fsync, it only slows the tests.
mail_fsync = never

service imap-login {{
  inet_listener imap {{
    # 0 disables the plaintext listener (the default: implicit TLS only).
    port = {plain_port}
  }}
  inet_listener imaps {{
    port = {port}
    ssl = yes
  }}
{login_extra}}}
{rootless_services}"""

# Root: Dovecot drops to its own users for its internals, as in production.
ROOT_PRIVILEGES = """\
# Dovecot's internals run as the users the Debian package creates, as in production.
default_internal_user = dovecot
default_login_user = dovenull"""

# Not root: everything runs as the current user (Dovecot's "rootless install").
ROOTLESS_PRIVILEGES = """\
# Started without root: Dovecot cannot switch users, so every process runs as this one.
default_internal_user = {user}
default_internal_group = {group}
default_login_user = {user}"""
ROOTLESS_LOGIN_EXTRA = "  # chroot() needs root.\n  chroot =\n"
ROOTLESS_SERVICES = """\
# chroot() needs root: the other chrooted services run without it too.
service anvil {
  chroot =
}
service ipc {
  chroot =
}
"""


def _mail_owner() -> tuple[int, int, bool]:
    """(uid, gid, as_root) of the identity the mail belongs to.

    As root, the unprivileged MAIL_USER: Dovecot will not access mail as uid 0, and reusing its
    own `dovecot` user for mail would hand mail processes its internal sockets. Otherwise the
    current user, who then also runs every Dovecot process.
    """
    if os.geteuid() != 0:
        return os.getuid(), os.getgid(), False
    try:
        entry = pwd.getpwnam(MAIL_USER)
    except KeyError:
        raise DovecotError(f"user {MAIL_USER!r} is missing: {INSTALL_HINT}") from None
    return entry.pw_uid, entry.pw_gid, True


def _quoted(folder: str) -> str:
    """An IMAP quoted string for a folder name (modified UTF-7, as RFC 3501 asks)."""
    encoded = utf7_encode(folder).decode("ascii")
    return '"' + encoded.replace("\\", "\\\\").replace('"', '\\"') + '"'


_LIST_LINE = re.compile(rb'\((?P<flags>[^)]*)\) (?P<delimiter>"[^"]*"|NIL) (?P<name>.+)')
_APPENDUID = re.compile(rb"\[APPENDUID (\d+) (\d+)\]")


def _exited_unreaped(pid: int, *, timeout: float) -> bool:
    """Wait for a child to exit without reaping it (WNOWAIT); False on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT | os.WNOHANG) is not None:
            return True
        time.sleep(0.005)
    return False


def _signal_group(pgid: int, signo: int) -> None:
    try:
        os.killpg(pgid, signo)
    except ProcessLookupError:
        pass


class DovecotServer:
    """A running private Dovecot on 127.0.0.1: IMAPS on `.port`, optionally plain IMAP too.

    Use as a context manager (`with DovecotServer() as server:`) or call start() and close().
    Data lives in a fresh directory under the system tmp dir (not pytest's tmp_path: its
    0700 parents would keep the unprivileged mail user out), removed by close().
    """

    host = "127.0.0.1"

    def __init__(
        self,
        *,
        user: str = "ops@offstreet.example",
        password: str | None = None,
        plaintext: bool = False,
        folders: Iterable[str] = (),
        startup_timeout: float = 10.0,
    ) -> None:
        if not os.access(DOVECOT, os.X_OK):
            raise DovecotError(f"{DOVECOT} is missing: {INSTALL_HINT}")
        self.user = user
        self.password = password or secrets.token_urlsafe(12)
        self.port = free_port()
        self.plain_port: int | None = free_port() if plaintext else None
        self._initial_folders = list(folders)
        self._startup_timeout = startup_timeout
        self._uid, self._gid, self._as_root = _mail_owner()
        self._process: subprocess.Popen[bytes] | None = None
        self.root = Path(tempfile.mkdtemp(prefix="dovecot-test-"))
        try:
            self._prepare()
        except BaseException:
            shutil.rmtree(self.root, ignore_errors=True)
            raise

    # -- lifecycle ------------------------------------------------------------------------------

    def __enter__(self) -> DovecotServer:
        try:
            self.start()
            for folder in self._initial_folders:
                self.create_folder(folder)
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def config_file(self) -> Path:
        """Our dovecot.conf; `doveadm -c` and `doveconf -c` with it address this instance."""
        return self.root / "etc" / "dovecot.conf"

    @property
    def ca_file(self) -> Path:
        """PEM of the throwaway CA; `ssl.create_default_context(cafile=...)` trusts the server."""
        return self.root / "etc" / "ca.pem"

    @property
    def running(self) -> bool:
        """Whether the Dovecot master process is alive."""
        return self._process is not None and self._process.poll() is None

    def start(self) -> DovecotServer:
        """Start Dovecot in the foreground (`-F`) and return once IMAPS accepts connections."""
        if self.running:
            return self
        # A master killed during its start-up leaves its registry lock behind, and the next one
        # would wait 10 s for it to go stale; no master of ours runs now, so it is ours to drop.
        (self.root / "state" / "instances.lock").unlink(missing_ok=True)
        deadline = time.monotonic() + self._startup_timeout
        while True:
            self._process = self._spawn()
            while self._process.poll() is None:
                try:
                    with socket.create_connection((self.host, self.port), timeout=0.5):
                        return self
                except OSError:
                    if time.monotonic() > deadline:
                        self.stop(graceful=False)
                        raise DovecotError(
                            f"Dovecot did not listen within {self._startup_timeout} s:\n"
                            f"{self.log()}"
                        ) from None
                    time.sleep(0.01)
            self._process = None
            # Right after a crash the killed processes may still hold the port for a moment.
            if "Address already in use" not in self.log() or time.monotonic() > deadline:
                raise DovecotError(f"Dovecot exited at start:\n{self.log()}")
            time.sleep(0.05)

    def _spawn(self) -> subprocess.Popen[bytes]:
        with (self.root / "dovecot.stderr").open("ab") as output:
            return subprocess.Popen(
                [DOVECOT, "-F", "-c", str(self.config_file)],
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=output,
                # Its own process group: stop() reaches every Dovecot process with one signal,
                # and a Ctrl-C goes to pytest (whose teardown stops Dovecot), not around it.
                start_new_session=True,
            )

    def stop(self, *, graceful: bool = True) -> None:
        """Stop Dovecot; the mail stays for the next start().

        Graceful is a clean shutdown (SIGTERM): every session gets "* BYE Server shutting
        down." before its connection closes; about 1.1 s, most of it Dovecot's own fixed wait
        for its children. Not graceful is a crash (SIGKILL to every Dovecot process): the
        connections just close, no BYE, at once. A watcher must survive both.
        """
        if self._process is None:
            return
        if graceful and self._process.poll() is None:
            # Dovecot alone races: its TLS proxy (imap-login) may die before the session's
            # "* BYE" passes through. Ending the sessions first makes the BYE certain.
            self.kill_connections()
        process, self._process = self._process, None
        if process.poll() is not None:
            return
        # The master leads its own process group (start_new_session); until we reap it, its
        # pid cannot be reused, so signalling the group reaches only Dovecot's processes.
        if graceful:
            process.send_signal(signal.SIGTERM)
            if _exited_unreaped(process.pid, timeout=10):
                # Dovecot skips children that have not reported ready yet (a session logged in
                # a moment ago): they would go on serving their client after the "restart".
                _signal_group(process.pid, signal.SIGTERM)
                process.wait()
                self._wait_port_closed()
                return
        _signal_group(process.pid, signal.SIGKILL)
        process.wait()
        self._wait_port_closed()

    def _wait_port_closed(self, timeout: float = 5.0) -> None:
        """Wait until no process of ours listens any more (children die after the master).

        Otherwise start() could take a dying child's listener for the new instance.
        """
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with socket.create_connection((self.host, self.port), timeout=0.5):
                    pass
            except OSError:
                return
            time.sleep(0.005)

    def restart(self, *, graceful: bool = True) -> None:
        """Stop, then start again on the same port with the same mail, as a server reboot."""
        self.stop(graceful=graceful)
        self.start()

    def close(self) -> None:
        """Stop for good (no need to be gentle: nothing is kept) and delete the directory."""
        self.stop(graceful=False)
        shutil.rmtree(self.root, ignore_errors=True)

    def connections(self) -> int:
        """How many IMAP sessions are logged in right now.

        Counted as Dovecot's `imap` processes (one per session: service_count = 1), which is
        exact at once, where `doveadm who` lags a login by a moment.
        """
        return len(self._session_pids())

    def wait_for_connections(self, count: int = 1, timeout: float = 5.0) -> None:
        """Block until exactly `count` sessions are logged in (say, the watcher is idling)."""
        deadline = time.monotonic() + timeout
        while (found := self.connections()) != count:
            if time.monotonic() > deadline:
                raise AssertionError(f"expected {count} IMAP session(s), found {found}")
            time.sleep(0.01)

    def kill_connections(self) -> int:
        """Drop every logged-in session, as `doveadm kick` does; the server keeps running.

        Each client gets "* BYE Server shutting down." and then its connection closes; this
        returns once that has happened, with how many sessions there were.
        """
        pids = self._session_pids()
        if not pids:
            return 0
        established = self._established()
        for pid in pids:
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)  # the session writes its BYE and exits
        # Then imap-login, which holds the TLS side, passes the BYE on and closes.
        deadline = time.monotonic() + 2.0
        while time.monotonic() < deadline and (
            set(pids) & set(self._session_pids()) or self._established() > established - len(pids)
        ):
            time.sleep(0.005)
        return len(pids)

    def _session_pids(self) -> list[int]:
        """Our live `imap` processes: in the master's process group, titled "<instance>/imap"."""
        if self._process is None:
            return []
        title = f"dovecot-test-{self.port}/imap".encode()
        pids = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:  # gone meanwhile
                continue
            # "pid (comm) state ppid pgrp ...": comm may hold spaces, so split after its ")".
            state, _ppid, pgrp = stat.rpartition(")")[2].split()[:3]
            if int(pgrp) == self._process.pid and state != "Z":
                if cmdline.split(b"\0")[0].strip() == title:
                    pids.append(int(entry.name))
        return pids

    def _established(self) -> int:
        """Open client connections on our ports (server side, from /proc/net/tcp)."""
        ports = {self.port, self.plain_port}
        count = 0
        for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "01" and int(fields[1].rpartition(":")[2], 16) in ports:  # ESTABLISHED
                count += 1
        return count

    def log(self) -> str:
        """Dovecot's log (and anything it printed before its log was open)."""
        parts = [self.root / "dovecot.stderr", self.root / "dovecot.log"]
        return "".join(p.read_text(errors="replace") for p in parts if p.exists())

    # -- mail, through IMAP as a client would see it --------------------------------------------

    def ssl_context(self) -> ssl.SSLContext:
        """A client context that trusts this server's CA (and verifies host names)."""
        return ssl.create_default_context(cafile=str(self.ca_file))

    @contextmanager
    def client(self) -> Iterator[imaplib.IMAP4_SSL]:
        """An imaplib connection over TLS, logged in as the user; logged out afterwards."""
        imap = imaplib.IMAP4_SSL(self.host, self.port, ssl_context=self.ssl_context(), timeout=10)
        try:
            imap.login(self.user, self.password)
            yield imap
        finally:
            try:
                imap.logout()
            except (imaplib.IMAP4.error, OSError):
                pass

    def append(
        self,
        raw: bytes,
        folder: str = "INBOX",
        *,
        flags: str = "",
        date: dt.datetime | None = None,
    ) -> int:
        """Deliver a message with IMAP APPEND, as a mail client or delivery agent would.

        Returns its UID (from UIDPLUS's APPENDUID). `flags` as IMAP writes them: r"\\Seen".
        A folder that does not exist is an error ([TRYCREATE]), as on any server.
        """
        return self.append_many([raw], folder, flags=flags, date=date)[0]

    def append_many(
        self,
        raws: Iterable[bytes],
        folder: str = "INBOX",
        *,
        flags: str = "",
        date: dt.datetime | None = None,
    ) -> list[int]:
        """append() for many messages over one connection (benchmarks); their UIDs."""
        internal_date = imaplib.Time2Internaldate(date) if date else None
        uids = []
        with self.client() as imap:
            for raw in raws:
                typ, data = imap.append(_quoted(folder), f"({flags})", internal_date, raw)
                found = _APPENDUID.search(data[0] or b"") if typ == "OK" else None
                if found is None:
                    raise DovecotError(f"APPEND to {folder!r} failed: {data!r}")
                uids.append(int(found.group(2)))
        return uids

    def messages(self, folder: str = "INBOX") -> list[bytes]:
        """Every message in the folder as raw bytes, in UID order, without setting \\Seen."""
        with self.client() as imap:
            typ, data = imap.select(_quoted(folder), readonly=True)
            if typ != "OK":
                raise DovecotError(f"SELECT {folder!r} failed: {data!r}")
            if int(data[0] or 0) == 0:
                return []
            typ, fetched = imap.uid("FETCH", "1:*", "(BODY.PEEK[])")
        return [item[1] for item in fetched if isinstance(item, tuple)]

    def folders(self) -> list[str]:
        """Every folder's name (decoded, with "/" between levels)."""
        with self.client() as imap:
            typ, data = imap.list()
        names = []
        for line in data:
            found = _LIST_LINE.match(line if isinstance(line, bytes) else b"")
            if found is None:
                continue
            name = found.group("name")
            if name.startswith(b'"'):
                name = name[1:-1].replace(b'\\"', b'"').replace(b"\\\\", b"\\")
            names.append(utf7_decode(name))
        return names

    def create_folder(self, name: str) -> None:
        """Create a folder (and any missing parents); one that exists is fine."""
        with self.client() as imap:
            typ, data = imap.create(_quoted(name))
        if typ != "OK" and b"ALREADYEXISTS" not in (data[0] or b""):
            raise DovecotError(f"CREATE {name!r} failed: {data!r}")

    def uidvalidity(self, folder: str = "INBOX") -> int:
        """The folder's UIDVALIDITY: it must survive a restart, or clients refetch everything."""
        with self.client() as imap:
            typ, data = imap.status(_quoted(folder), "(UIDVALIDITY)")
        found = re.search(rb"UIDVALIDITY (\d+)", data[0] or b"") if typ == "OK" else None
        if found is None:
            raise DovecotError(f"STATUS {folder!r} failed: {data!r}")
        return int(found.group(1))

    # -- setup ----------------------------------------------------------------------------------

    def _prepare(self) -> None:
        """Lay out etc/ (config, users, TLS), home/ (mail), run/ and state/."""
        # Traversable by Dovecot's internal users (auth reads etc/users as `dovecot`).
        self.root.chmod(0o755)
        etc = self.root / "etc"
        etc.mkdir(mode=0o755)
        _ca, cert_file, key_file = write_tls_files(etc)
        users = etc / "users"
        users.write_text(f"{self.user}:{{PLAIN}}{self.password}::::::\n")
        users.chmod(0o644)
        for name in ("run", "state"):
            (self.root / name).mkdir(mode=0o755)
        home = self.root / "home"
        home.mkdir(mode=0o700)
        if self._as_root:
            os.chown(home, self._uid, self._gid)
        self._write_config(cert_file, key_file)

    def _write_config(self, cert_file: Path, key_file: Path) -> None:
        if self._as_root:
            privileges, login_extra, rootless_services = ROOT_PRIVILEGES, "", ""
        else:
            privileges = ROOTLESS_PRIVILEGES.format(
                user=pwd.getpwuid(self._uid).pw_name, group=grp.getgrgid(self._gid).gr_name
            )
            login_extra, rootless_services = ROOTLESS_LOGIN_EXTRA, ROOTLESS_SERVICES
        self.config_file.write_text(
            CONFIG_TEMPLATE.format(
                root=self.root,
                port=self.port,
                plain_port=self.plain_port or 0,
                ssl="yes" if self.plain_port else "required",
                cert_file=cert_file,
                key_file=key_file,
                uid=self._uid,
                gid=self._gid,
                privileges=privileges,
                login_extra=login_extra,
                rootless_services=rootless_services,
            )
        )
