"""`backup --upload`, `backup upload`, `restore --from` and `restore --list --from` against a real
S3-compatible server: moto's standalone server, started as its own process on 127.0.0.1 (not
moto's in-process mock), spoken to over HTTP by the real `prodready` processes."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import http.client
import json
import os
import pty
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from prodready.backup.progress import Progress
from tests.backup.faults import fingerprint
from tests.conftest import PRODREADY
from tests.services import missing

boto3 = pytest.importorskip("boto3")

MIB = 1 << 20
PART = 5 * MIB  # S3's (and moto's) smallest part: the resume test needs many of them
START_TIMEOUT_S = 30


@dataclass
class Moto:
    """A moto_server process and what it logged (one line per HTTP request)."""

    port: int
    log: Path
    proc: subprocess.Popen

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def requests(self) -> list[str]:
        return [line for line in self.log.read_text().splitlines() if '"' in line]


@dataclass
class S3:
    """One fresh bucket on the shared server, a client for the test, and the environment that
    points prodready at it."""

    moto: Moto
    bucket: str
    home: Path
    endpoint: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"s3://{self.bucket}/app"

    @property
    def client(self):  # type: ignore[no-untyped-def]
        return boto3.client(
            "s3",
            endpoint_url=self.moto.endpoint,
            aws_access_key_id="test",
            aws_secret_access_key="test",
            region_name="us-east-1",
        )

    def env(self, **extra: str) -> dict[str, str]:
        return aws_env(self.home, self.endpoint or self.moto.endpoint) | self.extra | extra

    def key(self, backup_id: str, name: str) -> str:
        return f"app/{backup_id}/{name}"

    def keys(self, backup_id: str) -> set[str]:
        listing = self.client.list_objects_v2(Bucket=self.bucket, Prefix=f"app/{backup_id}/")
        return {item["Key"].rsplit("/", 1)[-1] for item in listing.get("Contents", [])}

    def read(self, backup_id: str, name: str) -> bytes:
        body = self.client.get_object(Bucket=self.bucket, Key=self.key(backup_id, name))["Body"]
        return body.read()


def aws_env(home: Path, endpoint: str) -> dict[str, str]:
    """The standard AWS environment, pointed at 127.0.0.1 only: no config files of the machine,
    no instance-metadata lookups."""
    return {
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": str(home / "aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(home / "aws-credentials"),
        "PRODREADY_S3_PART_SIZE": str(PART),
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def moto_server(folder: Path, **env: str) -> Iterator[Moto]:
    """Starts `moto_server` on 127.0.0.1 at a free port, waits until it answers, and stops it
    afterwards (SIGTERM, then SIGKILL after 10 s)."""
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log = folder / f"moto-{port}.log"
    server = Path(sys.executable).parent / "moto_server"
    if not server.exists():
        missing("moto_server (moto[s3] in the test extra)", f"{server} is not installed")
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [str(server), "-H", "127.0.0.1", "-p", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "NO_COLOR": "1", **env},
        )
    moto = Moto(port, log, proc)
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:  # any HTTP answer will do (one that wants credentials answers 500 here)
                with contextlib.closing(
                    http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                ) as c:
                    c.request("GET", "/")
                    c.getresponse().read()
                break
            except OSError as error:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"moto_server did not start: {log.read_text()}") from error
                time.sleep(0.1)
        yield moto
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@pytest.fixture(scope="module")
def moto(tmp_path_factory) -> Iterator[Moto]:
    with moto_server(tmp_path_factory.mktemp("moto")) as server:
        yield server


@pytest.fixture
def s3(moto: Moto, tmp_path: Path) -> S3:
    made = S3(moto, f"backups-{uuid.uuid4().hex[:10]}", tmp_path)
    made.client.create_bucket(Bucket=made.bucket)
    return made


def run(prodready, s3: S3, *args: str, **env: str):  # type: ignore[no-untyped-def]
    return prodready(*args, env=s3.env(**env))


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def manifest_of(db, backup_id: str) -> dict:
    return json.loads((db.dest / backup_id / "manifest.json").read_text())


def one_error(done) -> None:  # type: ignore[no-untyped-def]
    """Exit 2 with `error:` and `hint:` lines only, never a traceback."""
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert len(lines) == 2 and lines[0].startswith("error: "), done.stderr
    assert lines[1].startswith("hint: "), done.stderr


def big_file(folder: Path, size: int) -> Path:
    """Random (incompressible) bytes, so that the files part spans many parts."""
    path = folder / "big.bin"
    with open(path, "wb") as out:
        for _ in range(size // MIB):
            out.write(os.urandom(MIB))
    return path


def test_backup_upload_sends_every_part_checked_and_the_manifest_last(prodready, db, s3):
    done = run(prodready, s3, "backup", "--json", "--upload", s3.url, *db.args())
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)  # stdout is the JSON summary alone
    log = s3.moto.requests()  # before this test's own requests
    backup_id = summary["id"]
    upload = summary["upload"]
    assert upload["ok"] is True and upload["url"] == s3.url, upload
    assert upload["checked_by"] == "sha256" and upload["sent"] == summary["size"]
    manifest = manifest_of(db, backup_id)
    assert s3.keys(backup_id) == {"db.dump", "manifest.json", "verification.json"}
    for part in manifest["parts"]:
        head = s3.client.head_object(
            Bucket=s3.bucket, Key=s3.key(backup_id, part["name"]), ChecksumMode="ENABLED"
        )
        assert head["ContentLength"] == part["size"]
        assert head["Metadata"]["prodready-sha256"] == part["sha256"]
        data = s3.read(backup_id, part["name"])
        assert sha256(data) == part["sha256"]
        digest = hashlib.sha256(hashlib.sha256(data).digest()).digest()  # one part: its checksum
        assert head["ChecksumSHA256"].split("-")[0] == base64.b64encode(digest).decode()
    assert (
        s3.read(backup_id, "manifest.json") == (db.dest / backup_id / "manifest.json").read_bytes()
    )
    # the manifest went up after every part was complete and checked
    puts = [i for i, line in enumerate(log) if f"PUT /{s3.bucket}/app/{backup_id}/manifest" in line]
    completes = [i for i, line in enumerate(log) if re.search(r'"POST .*uploadId=', line)]
    checks = [
        i for i, line in enumerate(log) if f"HEAD /{s3.bucket}/app/{backup_id}/db.dump" in line
    ]
    assert len(puts) == 1 and completes and puts[0] > max(completes) and puts[0] > max(checks)
    local = json.loads((db.dest / backup_id / "uploads.json").read_text())
    assert local[s3.url]["state"] == "complete"

    listed = run(prodready, s3, "restore", "--list", "--json", "--from", s3.url)
    assert listed.returncode == 0, listed.stderr
    assert [(r["id"], r["state"]) for r in json.loads(listed.stdout)] == [(backup_id, "verified")]
    # sending it again sends nothing: every object is checked and found whole
    again = run(
        prodready, s3, "backup", "upload", backup_id, "--to", s3.url, "--json", *db.args()[2:]
    )
    assert again.returncode == 0, again.stderr
    resent = json.loads(again.stdout)
    assert resent["ok"] is True and resent["sent"] == 0 and resent["already_there"] == 1


def test_restore_from_s3_on_a_new_machine_round_trip(prodready, db, s3, tmp_path):
    """The upload configured in pyproject.toml, progress on a terminal, then a restore from S3
    into an empty backups folder (a new machine)."""
    app = db.dest.parent
    (app / "pyproject.toml").write_text(
        f'[tool.prodready.backup]\ndatabase = "{db.url}"\ndest = "{db.dest}"\nupload = "{s3.url}"\n'
    )
    big_file(app, 12 * MIB)
    done, progress = _with_terminal(
        [str(PRODREADY), "backup", "--dir", str(app), "--files", str(app / "big.bin")], s3.env()
    )
    assert done.returncode == 0, progress
    assert "uploaded " in done.stdout and "\r" not in done.stdout
    assert f"uploading {done.stdout.split()[1].rstrip(':')} to {s3.url}" in progress
    assert re.search(r"sent: +\d+\.\d of 12\.\d MiB .* MiB/s .* ETA +\d+ s", progress), progress
    backup_id = done.stdout.split()[1].rstrip(":")

    db.sql("DELETE FROM items WHERE id > 100")
    (app / "big.bin").write_bytes(b"changed")
    elsewhere = tmp_path / "new-machine"
    args = ["--database", db.url, "--dest", str(elsewhere), "--dir", str(app)]
    done = run(prodready, s3, "restore", backup_id, "--from", s3.url, *args)
    assert done.returncode == 0, done.stderr
    assert db.count() == 2000
    assert (app / "big.bin").stat().st_size == 12 * MIB
    fetched = elsewhere / backup_id
    assert (fetched / "manifest.json").read_bytes() == s3.read(backup_id, "manifest.json")
    assert json.loads((fetched / "verification.json").read_text())["ok"] is True
    assert not list(elsewhere.glob("*.partial"))
    # fetched once: the local copy is used from now on, never overwritten by another fetch
    again = run(prodready, s3, "restore", backup_id, "--from", s3.url, *args)
    one_error(again)
    assert "is in " in again.stderr and "already" in again.stderr


def _with_terminal(argv: list[str], env: dict[str, str]):  # type: ignore[no-untyped-def]
    """Runs `argv` with stderr on a pseudo-terminal (so progress is shown) and stdout on a
    pipe; returns the finished process and what the terminal got."""
    master, slave = pty.openpty()
    chunks: list[bytes] = []

    def drain() -> None:
        with contextlib.suppress(OSError):
            while data := os.read(master, 4096):
                chunks.append(data)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        done = subprocess.run(
            argv,
            stdout=subprocess.PIPE,
            stderr=slave,
            text=True,
            timeout=120,
            env={**os.environ, "NO_COLOR": "1", **env},
            check=False,
        )
    finally:
        os.close(slave)
        reader.join(timeout=5)
        os.close(master)
    return done, b"".join(chunks).decode(errors="replace")


def settled_parts(client: Any, bucket: str, key: str, upload_id: str) -> list[dict[str, Any]]:
    """The parts the server holds once it has stopped changing: a part whose body the killed
    client had already sent can still be committed after the kill, so one listing right after
    it may undercount what the resuming run will find."""
    deadline = time.monotonic() + 15
    last = None
    while time.monotonic() < deadline:
        parts = client.list_parts(Bucket=bucket, Key=key, UploadId=upload_id)["Parts"]
        seen = [(part["PartNumber"], part["ETag"]) for part in parts]
        if seen == last:
            return parts
        last = seen
        time.sleep(1.0)
    raise AssertionError(f"the parts of {key} kept changing for 15 s")


def test_killed_upload_resumes_without_sending_the_landed_parts_again(prodready, db, s3):
    """SIGKILL once the first 5 MiB part of a 40 MiB file has landed: the remote backup has no
    manifest (incomplete, not restorable); the next `backup --upload` resumes it, sending only
    the parts the server does not hold, and the server ends up with one whole object."""
    app = db.dest.parent
    big_file(app, 40 * MIB)
    argv = [str(PRODREADY), "backup", "--upload", s3.url, "--files", str(app / "big.bin")]
    proc = subprocess.Popen(
        [*argv, *db.args()],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, **s3.env()},
    )
    client = s3.client
    upload = None
    deadline = time.monotonic() + 120
    try:
        while upload is None and proc.poll() is None and time.monotonic() < deadline:
            for item in client.list_multipart_uploads(Bucket=s3.bucket).get("Uploads", []):
                if item["Key"].endswith("/files-big.bin.tar"):
                    parts = client.list_parts(
                        Bucket=s3.bucket, Key=item["Key"], UploadId=item["UploadId"]
                    )
                    if parts.get("Parts"):
                        upload = item
                        proc.send_signal(signal.SIGKILL)
            time.sleep(0.01)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=30)
    assert upload is not None and proc.returncode == -signal.SIGKILL, "no part landed in time"
    key = upload["Key"]
    backup_id = key.split("/")[1]
    landed = settled_parts(client, s3.bucket, key, upload["UploadId"])
    count = -(-(manifest_of(db, backup_id)["parts"][1]["size"]) // PART)
    assert 1 <= len(landed) < count, (len(landed), count)

    # nothing at the destination passes for a backup, locally it is whole and verified
    assert "manifest.json" not in s3.keys(backup_id)
    listed = run(prodready, s3, "restore", "--list", "--json", "--from", s3.url)
    assert json.loads(listed.stdout) == [
        {"id": backup_id, "state": "incomplete", "size": None, "rows": None, "database": None,
         "reason": None}
    ]  # fmt: skip
    refused = run(prodready, s3, "restore", backup_id, "--from", s3.url, *db.args()[:2],
                  "--dest", str(app / "elsewhere"), "--dir", str(app))  # fmt: skip
    one_error(refused)
    assert "is incomplete (no manifest)" in refused.stderr
    assert db.states() == {backup_id: "verified"}
    record = json.loads((db.dest / backup_id / "uploads.json").read_text())
    assert record[s3.url]["state"] == "started"

    # the next run takes its own backup, sends it, and finishes the interrupted one
    done = run(prodready, s3, "backup", "--json", *argv[2:], *db.args())
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["upload"]["ok"] is True
    [resumed] = summary["resumed_uploads"]
    assert resumed["id"] == backup_id and resumed["ok"] is True
    assert resumed["reused_parts"] == len(landed) and resumed["already_there"] == 1
    sizes = {part["PartNumber"]: part["Size"] for part in landed}
    assert resumed["sent"] == manifest_of(db, backup_id)["parts"][1]["size"] - sum(sizes.values())

    # the server received each landed part once, and holds one whole object
    sends: dict[int, int] = {}
    for line in s3.moto.requests():
        match = re.search(rf'"PUT /{s3.bucket}/{re.escape(key)}\?.*partNumber=(\d+).*" 200', line)
        if match:
            sends[int(match.group(1))] = sends.get(int(match.group(1)), 0) + 1
    assert all(sends[number] == 1 for number in sizes), sends
    assert set(sends) == set(range(1, count + 1)), sends
    part = manifest_of(db, backup_id)["parts"][1]
    assert sha256(s3.read(backup_id, part["name"])) == part["sha256"]
    assert "manifest.json" in s3.keys(backup_id)
    assert not client.list_multipart_uploads(Bucket=s3.bucket).get("Uploads")
    record = json.loads((db.dest / backup_id / "uploads.json").read_text())
    assert record[s3.url]["state"] == "complete"


def test_damaged_remote_copy_is_refused_before_the_live_database_is_touched(
    prodready, db, s3, tmp_path
):
    done = run(prodready, s3, "backup", "--json", "--upload", s3.url, *db.args())
    assert done.returncode == 0, done.stderr
    backup_id = json.loads(done.stdout)["id"]
    data = bytearray(s3.read(backup_id, "db.dump"))
    data[len(data) // 2] ^= 0xFF
    s3.client.put_object(Bucket=s3.bucket, Key=s3.key(backup_id, "db.dump"), Body=bytes(data))
    db.sql("DELETE FROM items WHERE id > 100")
    live = fingerprint(db)

    elsewhere = tmp_path / "new-machine"
    args = ["--database", db.url, "--dest", str(elsewhere), "--dir", str(db.dest.parent)]
    done = run(prodready, s3, "restore", backup_id, "--from", s3.url, *args)
    one_error(done)
    assert f"backup {backup_id} at {s3.url}: db.dump does not match its sha256" in done.stderr
    assert fingerprint(db) == live and db.databases() == {db.name}
    assert not (elsewhere / backup_id).exists() and not list(elsewhere.glob("*.partial"))

    # sending it again finds the damaged object and replaces it; then it restores
    again = run(prodready, s3, "backup", "upload", backup_id, "--to", s3.url, "--json",
                *db.args()[2:])  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["already_there"] == 0
    done = run(prodready, s3, "restore", backup_id, "--from", s3.url, *args)
    assert done.returncode == 0, done.stderr
    assert db.count() == 2000


class _Corrupting(BaseHTTPRequestHandler):
    """A proxy in front of moto that flips one byte of every uploaded part on its way: what a
    bad network card or a broken server would do. moto keeps the checksum the client sent for
    a part, but computes the object's checksum from the bytes it stored."""

    protocol_version = "HTTP/1.1"
    target = 0

    def _forward(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if self.command == "PUT" and "partNumber=" in self.path and body:
            flipped = bytearray(body)
            flipped[len(flipped) // 2] ^= 0xFF
            body = bytes(flipped)
        skip = {"connection", "expect", "content-length", "transfer-encoding"}
        headers = {k: v for k, v in self.headers.items() if k.lower() not in skip}
        upstream = http.client.HTTPConnection("127.0.0.1", self.target, timeout=30)
        upstream.request(self.command, self.path, body=body, headers=headers)
        response = upstream.getresponse()
        data = response.read()
        self.send_response(response.status)
        for name, value in response.getheaders():
            if name.lower() not in {"connection", "transfer-encoding"}:
                self.send_header(name, value)
        if response.getheader("Content-Length") is None:
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        upstream.close()

    do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = _forward

    def log_message(self, *args: object) -> None:
        pass


def test_a_part_damaged_on_its_way_fails_the_upload_and_no_manifest_is_sent(prodready, db, s3):
    handler = type("Handler", (_Corrupting,), {"target": s3.moto.port})
    proxy = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=proxy.serve_forever, daemon=True)
    thread.start()
    try:
        s3.endpoint = f"http://127.0.0.1:{proxy.server_address[1]}"
        done = run(prodready, s3, "backup", "--json", "--upload", s3.url, *db.args())
    finally:
        proxy.shutdown()
        proxy.server_close()
    assert done.returncode == 1, done.stderr
    summary = json.loads(done.stdout)
    backup_id, upload = summary["id"], summary["upload"]
    assert upload["ok"] is False and summary["verified"] is True
    assert f"{s3.url}/{backup_id}/db.dump does not match its sha256" in upload["reason"]
    assert "manifest.json" not in s3.keys(backup_id) and "db.dump" in s3.keys(backup_id)
    record = json.loads((db.dest / backup_id / "uploads.json").read_text())
    assert record[s3.url]["state"] == "failed"
    assert db.states() == {backup_id: "verified"}  # the local backup stays good

    s3.endpoint = ""  # straight to the server: the damaged object is found and sent again
    again = run(prodready, s3, "backup", "upload", "--latest", "--to", s3.url, *db.args()[2:])
    assert again.returncode == 0, again.stderr
    assert f"uploaded {backup_id} to {s3.url}/{backup_id}" in again.stdout
    assert (
        s3.read(backup_id, "manifest.json") == (db.dest / backup_id / "manifest.json").read_bytes()
    )


def test_bad_destinations_are_one_line_and_exit_2_before_any_work(prodready, db, s3, tmp_path):
    closed = free_port()
    cases = [
        ({}, "s3://no-such-bucket-here/app", "there is no bucket no-such-bucket-here"),
        (
            {"AWS_ENDPOINT_URL": f"http://127.0.0.1:{closed}"},
            s3.url,
            "cannot reach the S3 endpoint",
        ),
        ({}, "https://example.com/backups", "not an s3:// URL"),
        ({}, "s3://Bad_Bucket/app", "is not a valid S3 bucket name"),
        ({"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": ""}, s3.url, "no S3 credentials"),
    ]
    for env, url, message in cases:
        done = run(prodready, s3, "backup", "--json", "--upload", url, *db.args(), **env)
        one_error(done)
        assert message in done.stderr and done.stdout == "", (url, done.stderr)
        assert db.states() == {}  # checked before the backup was taken
        listed = run(prodready, s3, "restore", "--list", "--from", url, **env)
        one_error(listed)
        assert message in listed.stderr
    done = run(prodready, s3, "restore", "20990101T000000Z", "--from", s3.url, *db.args())
    one_error(done)
    assert f"no backup 20990101T000000Z at {s3.url}" in done.stderr
    done = run(prodready, s3, "backup", "upload", "--latest", *db.args()[2:])
    one_error(done)
    assert "--to" in done.stderr

    with moto_server(tmp_path / "auth", INITIAL_NO_AUTH_ACTION_COUNT="0") as strict:
        env = {"AWS_ENDPOINT_URL": strict.endpoint}
        done = run(prodready, s3, "backup", "--upload", s3.url, *db.args(), **env)
        one_error(done)
        assert "refused the credentials" in done.stderr and "InvalidAccessKeyId" in done.stderr
    assert db.states() == {}


def test_progress_shows_the_total_and_the_time_left():
    import io

    stream = io.StringIO()
    progress = Progress(enabled=True, stream=stream)
    progress.started -= 2  # two seconds in
    progress.bytes("sent", 10 * MIB, 40 * MIB)
    line = stream.getvalue()
    assert "sent:      10.0 of 40.0 MiB" in line and "5.0 MiB/s" in line and "ETA     6 s" in line
    stream = progress.stream = io.StringIO()
    progress.bytes("dumped", 3 * MIB)
    assert "of" not in stream.getvalue() and "ETA" not in stream.getvalue()


def test_encrypted_backup_goes_up_sealed_and_needs_its_key_to_come_back(
    prodready, db, s3, tmp_path
):
    key = {"PRODREADY_BACKUP_KEY": bytes(range(32)).hex()}
    done = run(prodready, s3, "backup", "--json", "--upload", s3.url, *db.args(), **key)
    assert done.returncode == 0, done.stderr
    backup_id = json.loads(done.stdout)["id"]
    assert s3.keys(backup_id) == {"db.dump.enc", "manifest.json", "verification.json"}
    sealed = s3.read(backup_id, "db.dump.enc")
    assert sealed.startswith(b"PRBKENC1") and b"TABLE DATA" not in sealed

    db.sql("DELETE FROM items")
    elsewhere = tmp_path / "new-machine"
    args = ["--database", db.url, "--dest", str(elsewhere), "--dir", str(db.dest.parent)]
    done = run(prodready, s3, "restore", backup_id, "--from", s3.url, *args,
               PRODREADY_BACKUP_KEY="")  # fmt: skip
    one_error(done)
    assert f"backup {backup_id} is encrypted" in done.stderr
    assert not (elsewhere / backup_id).exists() and db.count() == 0  # refused before fetching
    done = run(prodready, s3, "restore", backup_id, "--from", s3.url, *args, **key)
    assert done.returncode == 0, done.stderr
    assert db.count() == 2000
