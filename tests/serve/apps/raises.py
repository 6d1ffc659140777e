"""An app that fails at import, as one whose config is missing does."""

import os

DATABASE_URL = os.environ["RISK_DATABASE_URL_NOT_SET"]
