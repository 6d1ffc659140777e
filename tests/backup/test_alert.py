"""A failed unattended backup tells someone: a real webhook receiver on 127.0.0.1 gets one JSON
message per failure, none for a success, and an alert that cannot be delivered never hides the
backup's own error."""

from __future__ import annotations

from tests.backup.conftest import Db, backup_ok
from tests.monitor.receivers import WebhookReceiver


def test_a_good_backup_sends_no_alert(prodready, db: Db) -> None:
    with WebhookReceiver() as hook:
        backup_ok(prodready, db, "--alert", hook.url)
    assert hook.attempts == 0


def test_a_failed_backup_posts_its_error_to_the_webhook(prodready, db: Db) -> None:
    missing = db.url.rsplit("/", 1)[0] + "/no_such_database_here"
    args = ["--database", missing, "--dest", str(db.dest), "--dir", str(db.dest.parent)]
    with WebhookReceiver() as hook:
        done = prodready("backup", *args, "--alert", hook.url)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert len(hook.received) == 1
    message = hook.received[0]
    assert message["event"] == "backup failed"
    assert message["title"].startswith("backup of app failed on ")
    assert "no_such_database_here" in message["body"]
    assert db.states() == {}


def test_the_alert_comes_from_the_environment_or_the_config(prodready, db: Db) -> None:
    missing = db.url.rsplit("/", 1)[0] + "/no_such_database_here"
    args = ["--database", missing, "--dest", str(db.dest), "--dir", str(db.dest.parent)]
    with WebhookReceiver() as hook:
        done = prodready("backup", *args, env={"PRODREADY_BACKUP_ALERT": hook.url})
        assert done.returncode == 2
        assert len(hook.received) == 1
        (db.dest.parent / ".prodready.toml").write_text(f'[backup]\nalert = ["{hook.url}"]\n')
        done = prodready("backup", *args)
        assert done.returncode == 2
        assert len(hook.received) == 2


def test_an_undeliverable_alert_is_reported_and_keeps_the_backups_exit_code(
    prodready, db: Db
) -> None:
    missing = db.url.rsplit("/", 1)[0] + "/no_such_database_here"
    args = ["--database", missing, "--dest", str(db.dest), "--dir", str(db.dest.parent)]
    with WebhookReceiver() as hook:
        hook.fail_with = 503
        done = prodready("backup", *args, "--alert", hook.url)
    assert done.returncode == 2
    assert hook.attempts == 3  # retried with backoff
    warning = [line for line in done.stderr.splitlines() if line.startswith("warning:")]
    assert warning == [
        "warning: the failure alert was not delivered to http://127.0.0.1/…: it answered HTTP 503"
    ]
    assert "no_such_database_here" in done.stderr  # the backup's own error is still there


def test_an_alert_that_is_not_a_url_is_refused_before_any_work(prodready, db: Db) -> None:
    done = prodready("backup", *db.args(), "--alert", "not a url")
    assert done.returncode == 2
    assert (
        done.stderr.splitlines()[0] == "error: --alert 'not a url' is not a webhook or apprise URL"
    )
    assert db.states() == {}
