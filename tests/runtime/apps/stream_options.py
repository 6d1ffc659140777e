"""Stream options for the stream test apps, from the environment (see test_streams*.py)."""

import json
import os


def stream_options() -> dict:
    return json.loads(os.environ.get("PRODREADY_TEST_STREAM", "{}"))
