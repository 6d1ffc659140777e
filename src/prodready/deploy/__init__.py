"""`prodready deploy` and `prodready rollback`: releases side by side on one host.

    ROOT/releases/<id>/   code + its own .venv      ROOT/shared/   linked into each release
    ROOT/current -> releases/<id>                    ROOT/run/<id>.sock, <id>.pid, <id>.log
    ROOT/run/app.sock -> <id>.sock (what nginx connects to)    ROOT/deploy.log (JSON lines)

`run.deploy` builds a release, runs its release command, starts it beside the running one
(`supervisors`), gates it on readiness (`gate`), switches the stable socket (`switch`) and
drains the old generation. `run.rollback` does the same with a release already on disk.
"""
