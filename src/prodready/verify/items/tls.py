"""security headers and TLS, through the nginx front as clients meet it: HSTS, nosniff and
frame-ancestors (or X-Frame-Options) on an HTTPS answer; only TLS 1.2 and 1.3, with no weak
cipher suite (sslyze); plain HTTP answers with a redirect to the same site over HTTPS."""

from __future__ import annotations

import re

from prodready.project.probes import choose_probes
from prodready.verify.front import Front
from prodready.verify.model import ItemResult
from prodready.verify.stage import Stage
from prodready.verify.tlsscan import TlsScan, scan

TITLE = "security headers and TLS"
HSTS_MIN_S = 15_552_000
"""180 days: what the HSTS preload list and most audits ask as the least."""
ALLOWED_VERSIONS = ("TLS 1.2", "TLS 1.3")


def verify(stage: Stage) -> ItemResult:
    front = stage.front
    if front is None:
        return ItemResult.skipped("tls", TITLE, f"no nginx front: {stage.front_missing}"[:88])
    path = choose_probes(stage.project).ready
    problems: list[str] = []
    measures: dict[str, int | float | str | bool] = {}
    details: list[str] = []
    try:
        reply = front.https(path)
    except OSError as error:
        return ItemResult.failed("tls", TITLE, f"HTTPS GET {path} through nginx: {error}"[:88])
    details += [f"HTTPS GET {path} through nginx: {reply.status}"]
    problems += _headers(reply.headers, measures, details)
    problems += _redirect(front, path, measures, details)
    scanned = scan(front.https_port, front.server_name)
    problems += _protocols(scanned, measures, details)
    if problems:
        return ItemResult.failed(
            "tls", TITLE, problems[0][:88], measures=measures, details=problems + details
        )
    versions = " and ".join(v.removeprefix("TLS ") for v in scanned.versions)
    return ItemResult.passed(
        "tls", TITLE, f"HSTS, nosniff, frame-ancestors; TLS {versions} only, no weak ciphers; "
        "HTTP redirects", measures=measures, details=details,
    )  # fmt: skip


def _headers(
    headers: dict[str, str], measures: dict[str, int | float | str | bool], details: list[str]
) -> list[str]:
    problems = []
    hsts = headers.get("strict-transport-security", "")
    max_age = re.search(r"max-age=\"?(\d+)", hsts)
    measures["hsts_max_age_s"] = int(max_age.group(1)) if max_age else 0
    if not max_age:
        problems.append("no Strict-Transport-Security on HTTPS answers")
    elif int(max_age.group(1)) < HSTS_MIN_S:
        problems.append(f"HSTS max-age {max_age.group(1)} s < 180 days")
    nosniff = headers.get("x-content-type-options", "").lower()
    measures["nosniff"] = nosniff == "nosniff"
    if nosniff != "nosniff":
        problems.append("no X-Content-Type-Options: nosniff")
    csp = headers.get("content-security-policy", "")
    frame = headers.get("x-frame-options", "").upper()
    framing = "frame-ancestors" in csp or frame in ("DENY", "SAMEORIGIN")
    measures["frame_protection"] = framing
    if not framing:
        problems.append("neither CSP frame-ancestors nor X-Frame-Options: clickjacking")
    details += [
        f"Strict-Transport-Security: {hsts or '(none)'}",
        f"X-Content-Type-Options: {nosniff or '(none)'}",
        f"Content-Security-Policy: {csp or '(none)'}",
        f"X-Frame-Options: {frame or '(none)'}",
    ]
    return problems


def _redirect(
    front: Front, path: str, measures: dict[str, int | float | str | bool], details: list[str]
) -> list[str]:
    try:
        reply = front.http(path)
    except OSError as error:
        return [f"HTTP GET {path} on the http port: {error}"]
    location = reply.header("location") or ""
    expected = f"https://{front.server_name}"
    measures["http_status"] = reply.status
    details.append(f"HTTP GET {path}: {reply.status} Location: {location or '(none)'}")
    if reply.status not in (301, 302, 307, 308) or not location.startswith(expected):
        return [f"plain HTTP answers {reply.status}, not a redirect to {expected}"]
    return []


def _protocols(
    scanned: TlsScan, measures: dict[str, int | float | str | bool], details: list[str]
) -> list[str]:
    if scanned.error:
        return [scanned.error]
    measures["tls_versions"] = ", ".join(scanned.versions)
    weak = scanned.weak_ciphers()
    measures["weak_ciphers"] = len(weak)
    for version, names in scanned.accepted.items():
        details.append(f"sslyze {version}: " + (", ".join(names) if names else "not offered"))
    problems = []
    old = [v for v in scanned.versions if v not in ALLOWED_VERSIONS]
    if old:
        problems.append(f"{', '.join(old)} accepted: only TLS 1.2 and 1.3 should be")
    if "TLS 1.2" not in scanned.versions and "TLS 1.3" not in scanned.versions:
        problems.append("neither TLS 1.2 nor TLS 1.3 offered")
    if weak:
        problems.append(f"{len(weak)} weak cipher suite(s): {', '.join(weak[:3])}")
    return problems
