"""The nginx and OpenSSL versions the generated site is written for.

The directives differ: `http2 on;` exists from nginx 1.25.1 (1.22 rejects it, later versions
deprecate `listen ... http2`), and the hybrid post-quantum group X25519MLKEM768 needs
OpenSSL 3.5 (3.0 refuses to load a config naming it)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass

from prodready.errors import UsageError

DEFAULT_NGINX = (1, 22)
DEFAULT_OPENSSL = (3, 0)
NGINX_VERSION = re.compile(r"nginx/(\d+)\.(\d+)")
OPENSSL_RUNNING = re.compile(r"running with OpenSSL (\d+)\.(\d+)")
OPENSSL_BUILT = re.compile(r"built with OpenSSL (\d+)\.(\d+)")


@dataclass(frozen=True)
class NginxTarget:
    nginx: tuple[int, int]
    openssl: tuple[int, int]
    source: str

    @property
    def http2_directive(self) -> bool:
        """True: `http2 on;`. False: `listen 443 ssl http2;`."""
        return self.nginx >= (1, 25)

    @property
    def ecdh_curves(self) -> str:
        curves = "X25519:prime256v1:secp384r1"
        return f"X25519MLKEM768:{curves}" if self.openssl >= (3, 5) else curves


def parse_version(text: str) -> tuple[int, int]:
    match = re.fullmatch(r"\s*(\d+)\.(\d+)(\.\d+)?\s*", text)
    if not match:
        raise UsageError(f"cannot read version {text!r}", "give it as MAJOR.MINOR, e.g. 1.24")
    return int(match[1]), int(match[2])


def nginx_target(nginx_version: str | None, openssl_version: str | None) -> NginxTarget:
    """From the options when given, else from the local `nginx -V`, else nginx 1.22 with
    OpenSSL 3.0 (Debian 12), whose directives later versions still accept."""
    detected = _detect()
    if nginx_version:
        openssl = parse_version(openssl_version) if openssl_version else DEFAULT_OPENSSL
        return NginxTarget(parse_version(nginx_version), openssl, "--nginx-version")
    if detected:
        if openssl_version:
            return NginxTarget(detected.nginx, parse_version(openssl_version), detected.source)
        return detected
    openssl = parse_version(openssl_version) if openssl_version else DEFAULT_OPENSSL
    return NginxTarget(DEFAULT_NGINX, openssl, "default (nginx not installed here)")


def _detect() -> NginxTarget | None:
    binary = shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.path.exists(p)), None
    )
    if not binary:
        return None
    try:
        result = subprocess.run(
            [binary, "-V"], capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    text = result.stderr + result.stdout
    version = NGINX_VERSION.search(text)
    openssl = OPENSSL_RUNNING.search(text) or OPENSSL_BUILT.search(text)
    if not version:
        return None
    ssl = (int(openssl[1]), int(openssl[2])) if openssl else DEFAULT_OPENSSL
    return NginxTarget((int(version[1]), int(version[2])), ssl, f"nginx -V ({binary})")
