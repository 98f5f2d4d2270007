"""nginx (Debian's) over HTTPS on loopback, serving MTA-STS policies for the tests.

`NginxPolicyServer.start(folder, sites)` writes one `server` block per site, each with its
own certificate from a trustme test CA (issued for `mta-sts.<domain>` unless the site asks
for other names), chosen by SNI, and starts nginx in the foreground (`daemon off`, no
master process: one process, ours, stopped by its pid). Every site listens on the same
127.0.0.1 port; the CA's PEM file is what `--ca-file` trusts.

A site is its policy file (`body`, served at /.well-known/mta-sts.txt as `content_type`), or any
nginx directives for that path (`location`), e.g. `return 301 https://...;`.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest
import trustme

LOOPBACK = "127.0.0.1"
POLICY_PATH = "/.well-known/mta-sts.txt"


@dataclass(frozen=True)
class Site:
    body: bytes | None = None  # the policy file, served as text/plain
    location: str = ""  # nginx directives inside `location = /.well-known/mta-sts.txt`
    content_type: str = "text/plain"
    cert_names: tuple[str, ...] = ()  # default: mta-sts.<domain>


def nginx_binary() -> str:
    """The nginx executable; skip outside CI, fail under CI=true when it is missing."""
    found = shutil.which("nginx") or (
        "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
    )
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("nginx is not installed (CI must install it: see .ci/run)")
        pytest.skip("nginx is not installed")
    return found


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        return int(s.getsockname()[1])


class NginxPolicyServer:
    def __init__(self, process: subprocess.Popen[bytes], port: int, ca_file: str, folder: Path):
        self.process = process
        self.port = port
        self.ca_file = ca_file
        self.folder = folder

    @classmethod
    def start(
        cls, folder: Path, sites: Mapping[str, Site], *, ecdh_curve: str = ""
    ) -> NginxPolicyServer:
        """`ecdh_curve`: nginx's `ssl_ecdh_curve` for every site (default: nginx's own)."""
        binary = nginx_binary()
        ca = trustme.CA()
        ca_file = folder / "ca.pem"
        ca.cert_pem.write_to_path(str(ca_file))
        port = _free_port()
        blocks = []
        for domain, site in sites.items():
            host = f"mta-sts.{domain}"
            root = folder / "sites" / domain
            (root / ".well-known").mkdir(parents=True, exist_ok=True)
            if site.body is not None:
                (root / ".well-known" / "mta-sts.txt").write_bytes(site.body)
            cert = folder / f"{domain}.pem"
            ca.issue_cert(
                *(site.cert_names or (host,))
            ).private_key_and_cert_chain_pem.write_to_path(str(cert))
            blocks.append(
                f"""
  server {{
    listen {LOOPBACK}:{port} ssl;
    server_name {host};
    ssl_certificate {cert};
    ssl_certificate_key {cert};
    root {root};
    location = {POLICY_PATH} {{
      types {{ }}
      default_type {site.content_type};
      {site.location}
    }}
  }}"""
            )
        conf = folder / "nginx.conf"
        temp = folder / "temp"
        temp.mkdir(exist_ok=True)
        conf.write_text(
            f"""daemon off;
master_process off;
worker_processes 1;
pid {folder / "nginx.pid"};
error_log {folder / "error.log"} warn;
events {{ worker_connections 64; }}
http {{
  access_log off;
  client_body_temp_path {temp};
  proxy_temp_path {temp};
  fastcgi_temp_path {temp};
  uwsgi_temp_path {temp};
  scgi_temp_path {temp};
  server_tokens off;
  keepalive_timeout 0;
  {f"ssl_ecdh_curve {ecdh_curve};" if ecdh_curve else ""}
  {"".join(blocks)}
}}
"""
        )
        process = subprocess.Popen(
            [binary, "-c", str(conf), "-p", str(folder), "-e", str(folder / "error.log")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        server = cls(process, port, str(ca_file), folder)
        server._wait_ready()
        return server

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                err = self.process.stderr.read().decode() if self.process.stderr else ""
                log = (
                    (self.folder / "error.log").read_text()
                    if (self.folder / "error.log").exists()
                    else ""
                )
                raise RuntimeError(f"nginx exited: {err} {log}")
            try:
                with socket.create_connection((LOOPBACK, self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("nginx did not start listening within 15 s")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # our own pid only
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        if self.process.stderr is not None:
            self.process.stderr.close()
