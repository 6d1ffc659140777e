"""The in-container health probe, as Python: slim images have no curl or wget."""

from __future__ import annotations


def python_probe(port: int, path: str, host: str) -> str:
    """A `python -c` program that exits 0 when GET `path` answers 2xx. The Host header is the
    public name, so Django's ALLOWED_HOSTS accepts the probe."""
    return (
        "import sys, urllib.request as u; "
        f"r = u.Request('http://127.0.0.1:{port}{path}', headers={{'Host': '{host}'}}); "
        "sys.exit(0 if u.urlopen(r, timeout=2).status < 300 else 1)"
    )
