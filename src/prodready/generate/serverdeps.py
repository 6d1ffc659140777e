"""requirements-server.txt: Gunicorn (and uvicorn for a uvicorn worker class) when the
project's own dependencies lack them. A file of its own, not an edit of the user's: the image
and the host virtualenv install it beside the project's dependencies, and `prodready check`
sees the server in a dependency file."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from prodready.generate.artifact import Kind, Rendered

SERVER_REQUIREMENTS = "requirements-server.txt"


def missing_server_packages(worker_class: str, dependencies: frozenset[str]) -> list[str]:
    """Pinned to the versions prodready itself runs with, so what it tested is what ships.
    Gunicorn's own ASGI worker needs nothing more; a uvicorn worker class needs uvicorn."""
    uvicorn = worker_class.startswith("uvicorn")
    wanted = ["gunicorn"] + (["uvicorn-worker", "uvicorn"] if uvicorn else [])
    return [_pinned(name) for name in wanted if name not in dependencies]


def render_server_requirements(worker_class: str, dependencies: frozenset[str]) -> list[Rendered]:
    packages = missing_server_packages(worker_class, dependencies)
    if not packages:
        return []
    text = (
        "# The production server, written by `prodready init`: the project's dependencies do\n"
        "# not list it. Install it beside them (the Dockerfile does).\n"
        + "\n".join(packages)
        + "\n"
    )
    return [Rendered(Kind.GUNICORN, SERVER_REQUIREMENTS, text)]


def _pinned(name: str) -> str:
    try:
        return f"{name}=={version(name)}"
    except PackageNotFoundError:
        return name
