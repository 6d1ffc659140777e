"""A plain WSGI app, no framework."""

import _configure


def raw(environ, start_response):
    if environ["PATH_INFO"] == "/boom":
        raise RuntimeError("unhandled in a plain WSGI app")
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"hello"]


app = _configure.install(raw)
