# Gunicorn + uvicorn workers for the inventory API.
import multiprocessing
import os

wsgi_app = "inventory.main:app"
bind = [os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")]
worker_class = "uvicorn_worker.UvicornWorker"
workers = int(os.environ.get("WEB_CONCURRENCY", 4))
# never more workers than the container's CPU quota allows
workers = min(workers, multiprocessing.cpu_count() * 2 + 1)
timeout = 60
graceful_timeout = 30
keepalive = 5
max_requests = 2000
max_requests_jitter = 200
worker_tmp_dir = "/dev/shm"
forwarded_allow_ips = "127.0.0.1,10.0.0.0/8"
proxy_allow_ips = "127.0.0.1"
accesslog = "-"
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(M)sms'
loglevel = os.environ.get("LOG_LEVEL", "info")
