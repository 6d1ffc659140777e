# Gunicorn configuration for ledger (systemd: /etc/systemd/system/ledger.service)
import os

wsgi_app = "ledger.wsgi:app"
bind = "unix:/run/ledger/gunicorn.sock"
umask = 0o007
workers = int(os.getenv("GUNICORN_WORKERS", "4"))
threads = 2
worker_class = "gthread"
timeout = 30
graceful_timeout = 30
keepalive = 2
max_requests = 1200
max_requests_jitter = 50
preload_app = True
capture_output = True
accesslog = "-"
errorlog = "-"
loglevel = "info"
proc_name = "ledger"
forwarded_allow_ips = "*"
