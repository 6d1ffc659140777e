"""What a Dockerfile says about users, read by more than one rule module: who a USER or a
`--chown` names (PR201 runs-as-root, PR222 bytecode the server cannot write), and whether the
launch hands the work to an unprivileged user itself (PR201)."""

from __future__ import annotations

import posixpath
import re

from prodready.check.context import FileContext
from prodready.project.files import project_text

ROOT_USERS = frozenset({"root", "0"})


def user_of(spec: str) -> str:
    """The user of a `USER app:app` value or a `--chown=977:977` flag (the part before `:`)."""
    return spec.strip().split(":", 1)[0]


PRIVILEGE_DROP = re.compile(
    r"\b(?:gosu|su-exec|s6-setuidgid|s6-applyuidgid|s6-overlay)\b|\bsetpriv\b[^\n]*--reuid"
    r"|\bchpst\s+-u\b|\brunuser\s+-u\b|\b(?:gunicorn|celery)\b[^\n]*\s--(?:user|uid)[= ][\w$]"
    r"|\buwsgi\b[^\n]*\s--uid[= ][\w$]"
    r"|^\s*(?:uid|user)\s*=\s*(?!root\b|0\b)\w",
    re.MULTILINE,
)
"""The launch starts as root and hands the work to an unprivileged user itself: gosu, su-exec,
setpriv, s6-overlay, gunicorn --user, uwsgi `uid =`, supervisord `user=`."""
CONFIG_NAME = re.compile(r"(?<![\w./-])[\w./-]+\.(?:ini|conf|sh)\b")  # one start per path: linear


def launch_drops_privileges(ctx: FileContext) -> bool:
    """The Dockerfile, or a start script or server config it names, drops privileges; a
    script it names may name the config in turn (linkding's CMD runs bootstrap.sh, which runs
    `uwsgi uwsgi.ini`, whose `uid = www-data` drops root), so the names are followed through
    a few hops."""
    by_name: dict[str, list[str]] = {}
    for source in ctx.project.files:
        by_name.setdefault(source.path.name, []).append(source.rel)
    seen = {ctx.rel}
    queue = [(ctx.rel, "\n".join(ctx.lines))]
    while queue and len(seen) <= LAUNCH_FILES_FOLLOWED:
        rel, text = queue.pop(0)
        if PRIVILEGE_DROP.search(text):
            return True
        for named in _named_files(ctx, rel, text, by_name):
            if named not in seen and (content := project_text(ctx.project, named)) is not None:
                seen.add(named)
                queue.append((named, content))
    return False


LAUNCH_FILES_FOLLOWED = 24
"""A bound on the scripts and configs read for one Dockerfile: real launches name a handful."""


def _named_files(ctx: FileContext, rel: str, text: str, by_name: dict[str, list[str]]) -> list[str]:
    """The project files a Dockerfile or script names (`bootstrap.sh`, `/app/uwsgi.ini`): the
    project's files of that name, and an `.ini` or `.conf` of no kind of its own at that path
    from the naming file's folder or from the project root (paths inside the image mirror the
    checkout)."""
    found: list[str] = []
    folder = posixpath.dirname(rel)
    for path in sorted(set(CONFIG_NAME.findall(text))):
        found += by_name.get(posixpath.basename(path), [])
        if not path.endswith((".ini", ".conf")):
            continue
        for base in (folder, ""):
            named = posixpath.normpath(posixpath.join(base, path.lstrip("/")))
            if not named.startswith("..") and (ctx.project.root / named).is_file():
                found.append(named)
    return found
