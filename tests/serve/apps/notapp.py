"""A module whose `app` is not an app."""

app = {"name": "not an app"}


def create_app():
    from flaskapp import app as flask_app

    return flask_app
