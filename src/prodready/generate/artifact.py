"""What a renderer produces: files relative to the project root, tagged with their kind."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    GUNICORN = "gunicorn"
    DOCKERFILE = "dockerfile"
    COMPOSE = "compose"
    SYSTEMD = "systemd"
    NGINX = "nginx"
    PROMETHEUS = "prometheus"
    ENV = "env"
    KUBERNETES = "kubernetes"


@dataclass(frozen=True)
class Rendered:
    kind: Kind
    rel: str
    text: str
    used_by: str | None = None
    """The file that refers to this one (a compose file to its nginx site and backup image):
    when that file is the user's and left alone, this one is left out too."""
