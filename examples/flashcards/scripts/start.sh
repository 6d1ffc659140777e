#!/bin/sh
set -e

cd /code

if [ "$APP_ENV" = "production" ]; then
    exec gunicorn -c gunicorn.conf.py app.main:app
fi

# Anything else is a developer machine: auto-reload on code changes.
exec uvicorn app.main:app --host 0.0.0.0 --port 8000 --reload
