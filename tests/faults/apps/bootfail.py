"""An app whose Gunicorn workers fail at boot as boot_mode.txt beside it says, while an import
outside Gunicorn (prodready reload's check) succeeds: a flaky import, a dependency down at boot.

Modes: ok, raise (an exception at import), crash (SIGSEGV at import), hang (never finishes
importing), first-fails (only the first worker to boot after the switch fails).
"""

import os
import signal
import sys
import time
from pathlib import Path

from flask import Flask

HERE = Path(__file__).parent
MODE_FILE = HERE / "boot_mode.txt"
MODE = MODE_FILE.read_text().strip() if MODE_FILE.exists() else "ok"

if "gunicorn" in sys.modules:  # in a worker, not in the import check
    if MODE == "raise":
        raise RuntimeError("the database is down at boot")
    if MODE == "crash":
        os.kill(os.getpid(), signal.SIGSEGV)
    if MODE == "hang":
        time.sleep(3600)
    if MODE == "first-fails":
        try:
            os.close(os.open(HERE / "failed_once", os.O_CREAT | os.O_EXCL))
        except FileExistsError:
            pass
        else:
            raise RuntimeError("only this worker fails")

app = Flask(__name__)


@app.get("/ping")
def ping():
    return {"mode": MODE}
