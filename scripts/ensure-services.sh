#!/usr/bin/env bash
# Starts PostgreSQL, Redis and MariaDB with their usual commands when they are not running.
set -euo pipefail
if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  echo "starting PostgreSQL"
  for version in $(ls /etc/postgresql 2>/dev/null); do
    pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  done
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  echo "starting Redis"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
  for _ in $(seq 1 30); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 1; done
fi
if ! mysqladmin -h 127.0.0.1 -u root ping >/dev/null 2>&1 && command -v mariadbd >/dev/null; then
  echo "starting MariaDB"
  service mariadb start >/dev/null 2>&1 || (mysqld_safe --bind-address=127.0.0.1 >/dev/null 2>&1 &)
  for _ in $(seq 1 30); do mysqladmin -u root ping >/dev/null 2>&1 && break; sleep 1; done
fi
if command -v mariadbd >/dev/null && mysqladmin -u root ping >/dev/null 2>&1; then
  # db migrate's and backup's tests reach it as root over 127.0.0.1 (a fresh install only has
  # the socket); also when it was already running. Idempotent.
  mysql -u root -e "CREATE USER IF NOT EXISTS 'root'@'127.0.0.1';
    GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION" || true
fi
