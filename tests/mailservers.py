"""A real Postfix MX on loopback for the starttls tests, configured from a temporary folder.

`postfix_mx(...)` writes a main.cf and master.cf (smtpd on 127.0.0.1:PORT with STARTTLS and a
certificate from the given test CA; every service unchrooted), runs `postfix start-fg` and
stops the master by the pid it wrote. Needs root (postfix's master does) and the Debian
`postfix` package; `postfix_available()` says whether both are there.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import trustme

POSTFIX = shutil.which("postfix") or "/usr/sbin/postfix"
# the services smtpd talks to while it answers EHLO and STARTTLS (no delivery happens)
_SERVICES = """\
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""


def postfix_available() -> bool:
    return os.path.exists(POSTFIX) and hasattr(os, "geteuid") and os.geteuid() == 0


@dataclass
class PostfixMx:
    host: str  # the MX name its certificate and banner carry
    address: str
    port: int
    folder: Path  # removed when the server stops
    log: Path


def _free_port(address: str) -> int:
    with socket.socket() as s:
        s.bind((address, 0))
        return int(s.getsockname()[1])


def _wait_for(address: str, port: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((address, port), timeout=1) as s:
                s.settimeout(2)
                if s.recv(3) == b"220":
                    return True
        except OSError:
            pass
        time.sleep(0.2)
    return False


@contextlib.contextmanager
def postfix_mx(
    ca: trustme.CA, host: str = "mx.example.test", address: str = "127.0.0.1"
) -> Iterator[PostfixMx]:
    # its own folder under /tmp: postfix's daemons run as `postfix` and must traverse every
    # parent folder (pytest's tmp_path is private to root)
    folder = Path(tempfile.mkdtemp(prefix="mailauth-postfix-"))
    os.chmod(folder, 0o755)
    chain = folder / "chain.pem"
    ca.issue_cert(host).private_key_and_cert_chain_pem.write_to_path(str(chain))
    os.chmod(chain, 0o600)
    port = _free_port(address)
    log = folder / "maillog"
    (folder / "main.cf").write_text(
        f"""compatibility_level = 3.6
queue_directory = {folder}/queue
data_directory = {folder}/data
mail_owner = postfix
myhostname = {host}
mydestination =
inet_interfaces = {address}
inet_protocols = {"ipv6" if ":" in address else "ipv4"}
smtpd_banner = $myhostname ESMTP
smtpd_tls_security_level = may
smtpd_tls_chain_files = {chain}
smtpd_tls_protocols = >=TLSv1.2
maillog_file = {log}
maillog_file_prefixes = {folder}
"""
    )
    listen = f"[{address}]:{port}" if ":" in address else f"{address}:{port}"
    (folder / "master.cf").write_text(f"{listen} inet n - n - - smtpd\n{_SERVICES}")
    for sub in ("queue", "data"):
        (folder / sub).mkdir(exist_ok=True)
    shutil.chown(folder / "data", "postfix")
    proc = subprocess.Popen(
        [POSTFIX, "-c", str(folder), "start-fg"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
    )
    try:
        if not _wait_for(address, port, 30):
            text = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(f"postfix did not start on {listen}:\n{text}")
        yield PostfixMx(host, address, port, folder, log)
    finally:
        pid_file = folder / "queue" / "pid" / "master.pid"
        with contextlib.suppress(OSError, ValueError):
            os.kill(int(pid_file.read_text().strip()), signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
        shutil.rmtree(folder, ignore_errors=True)
