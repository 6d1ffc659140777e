# Gunicorn settings for production (scripts/start.sh).
bind = "0.0.0.0:8000"
workers = 4
worker_class = "uvicorn.workers.UvicornWorker"

# Card imports can take a while.
timeout = 120
graceful_timeout = 30
keepalive = 5

max_requests = 1000

accesslog = "-"
errorlog = "-"
loglevel = "info"
