"""prodready: take a Python web service from app.run() to production, and prove it got there."""

__version__ = "0.1.0"
