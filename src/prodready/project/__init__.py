"""What prodready knows about an app: `detect(DIR)` builds the `Project` every command reads."""

from prodready.project.detect import detect, django_setting, server_commands
from prodready.project.model import FileKind, Project

__all__ = ["FileKind", "Project", "detect", "django_setting", "server_commands"]
