"""Which TLS versions and cipher suites a loopback TLS port accepts, scanned with sslyze (each
version tried with every suite it knows, SNI set to the site's name)."""

from __future__ import annotations

from dataclasses import dataclass, field

VERSIONS = ("SSL 2.0", "SSL 3.0", "TLS 1.0", "TLS 1.1", "TLS 1.2", "TLS 1.3")
STRONG_KEY_EXCHANGE = ("ECDHE", "DHE")
AEAD = ("GCM", "CHACHA20", "CCM")


@dataclass(frozen=True)
class TlsScan:
    accepted: dict[str, list[str]] = field(default_factory=dict)
    """Accepted cipher suites (OpenSSL names) per version offered."""
    error: str = ""

    @property
    def versions(self) -> list[str]:
        return [version for version in VERSIONS if self.accepted.get(version)]

    def weak_ciphers(self) -> list[str]:
        """TLS 1.2 and older suites without forward secrecy or without AEAD (CBC, RC4, 3DES,
        NULL and export suites among them); TLS 1.3 has only strong ones."""
        weak = []
        for version, names in self.accepted.items():
            if version == "TLS 1.3":
                continue
            for name in names:
                forward = name.startswith(STRONG_KEY_EXCHANGE)
                if not forward or not any(mark in name for mark in AEAD):
                    weak.append(f"{name} ({version})")
        return weak


def scan(port: int, server_name: str) -> TlsScan:
    """Scans 127.0.0.1:port as `server_name` (a bounded scan: sslyze's 5 s network timeout,
    two retries)."""
    from sslyze import (
        ScanCommand,
        Scanner,
        ServerNetworkConfiguration,
        ServerNetworkLocation,
        ServerScanRequest,
        ServerScanStatusEnum,
    )

    commands = {
        "SSL 2.0": ScanCommand.SSL_2_0_CIPHER_SUITES,
        "SSL 3.0": ScanCommand.SSL_3_0_CIPHER_SUITES,
        "TLS 1.0": ScanCommand.TLS_1_0_CIPHER_SUITES,
        "TLS 1.1": ScanCommand.TLS_1_1_CIPHER_SUITES,
        "TLS 1.2": ScanCommand.TLS_1_2_CIPHER_SUITES,
        "TLS 1.3": ScanCommand.TLS_1_3_CIPHER_SUITES,
    }
    request = ServerScanRequest(
        server_location=ServerNetworkLocation(server_name, port, ip_address="127.0.0.1"),
        network_configuration=ServerNetworkConfiguration(
            tls_server_name_indication=server_name, network_max_retries=2
        ),
        scan_commands=set(commands.values()),
    )
    scanner = Scanner()
    scanner.queue_scans([request])
    (result,) = list(scanner.get_results())
    if result.scan_status is not ServerScanStatusEnum.COMPLETED or result.scan_result is None:
        reason = result.connectivity_error_trace or result.connectivity_status
        return TlsScan(error=f"sslyze could not connect: {reason}"[:200])
    accepted: dict[str, list[str]] = {}
    for version, command in commands.items():
        attempt = getattr(result.scan_result, command.value)
        if attempt.result is None:
            return TlsScan(error=f"sslyze {version} scan failed: {attempt.error_reason}")
        accepted[version] = [
            suite.cipher_suite.openssl_name for suite in attempt.result.accepted_cipher_suites
        ]
    return TlsScan(accepted)
