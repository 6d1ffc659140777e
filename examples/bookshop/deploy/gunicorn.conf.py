import multiprocessing

bind = "0.0.0.0:8000"
workers = multiprocessing.cpu_count() * 2 + 1
timeout = 60
graceful_timeout = 30

# Behind nginx: trust X-Forwarded-* headers.
forwarded_allow_ips = "*"

accesslog = "-"
