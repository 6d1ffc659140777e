"""Focused tests for the Python rules' trickier logic: autofixes applied for real, import
resolution, settings-module detection, secret judgement and the places rules must stay quiet."""

from __future__ import annotations

import ast
import re
import textwrap
from pathlib import Path

import pytest

from prodready.check.engine import run_check
from prodready.check.fix import apply_fixes
from prodready.check.model import Hit, Severity
from prodready.check.pycontext import PyContext
from prodready.check.registry import load_rules
from prodready.check.rules.pyhelpers import is_settings_module
from prodready.check.rules.python_secrets import holds_secret, url_credentials
from prodready.project.environments import by_name
from prodready.project.model import Environment, FileKind
from tests.check.helpers import FIXTURES, findings_for


def hits(rule_id: str, source: str, rel: str = "app.py") -> list[Hit]:
    source = textwrap.dedent(source)
    ctx = PyContext.build(rel, source, ast.parse(source))
    return list(load_rules()[rule_id].func(ctx))


def fix_until_stable(root: Path, rule_id: str) -> None:
    for _ in range(5):
        found = run_check(root, select={rule_id}).findings
        if not apply_fixes(root, found, unsafe=True):
            return


def test_utcnow_fix_adds_the_import_and_converges(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(
        textwrap.dedent(
            """\
            import datetime as dt
            from datetime import datetime as DT


            def stamps():
                return (
                    DT.utcnow().timestamp(),
                    DT.utcnow().timestamp(),
                    DT.utcfromtimestamp(0).timestamp(),
                )


            def module_style():
                return dt.datetime.utcnow().timestamp()
            """
        )
    )
    fix_until_stable(tmp_path, "PR101")
    fixed = (tmp_path / "app.py").read_text()
    assert "utc" not in fixed.replace("UTC", "").lower().replace("datetime", "")
    assert fixed.count("from datetime import UTC") == 1
    assert "DT.fromtimestamp(0, UTC).timestamp()" in fixed and fixed.count("DT.now(UTC)") == 2
    assert "dt.datetime.now(dt.UTC)" in fixed
    namespace: dict[str, object] = {}
    exec(compile(fixed, "app.py", "exec"), namespace)  # the fixed module runs
    assert namespace["stamps"]()[2] == 0.0  # type: ignore[operator,index]  # the epoch, in any TZ


def test_utcnow_fix_is_unsafe_and_reuses_an_existing_utc_import() -> None:
    source = "from datetime import UTC as Z, datetime\nx = datetime.utcnow().timestamp()\n"
    (hit,) = hits("PR101", source)
    assert hit.fix is not None and not hit.fix.safe
    assert [e.new for e in hit.fix.edits] == ["datetime.now(Z)"]


def test_utcnow_of_other_libraries_is_not_reported() -> None:
    assert not hits("PR101", "import arrow, pendulum\narrow.utcnow()\npendulum.now('UTC')\n")


def test_bool_env_fix_parses_and_keeps_precedence(tmp_path: Path) -> None:
    (tmp_path / "config.py").write_text(
        'import os\nA = bool(os.getenv("FEATURE_A", True)) == True\nB = bool(os.environ["B"])\n'
    )
    fix_until_stable(tmp_path, "PR105")
    fixed = (tmp_path / "config.py").read_text()
    assert (
        'A = (os.getenv("FEATURE_A", "1").lower() in ("1", "true", "yes", "on")) == True' in fixed
    )
    assert 'B = os.environ["B"].lower() in ("1", "true", "yes", "on")' in fixed


def test_bool_env_presence_checks_are_fine() -> None:
    assert not hits("PR105", 'import os\nHAS_SENTRY = bool(os.getenv("SENTRY_DSN"))\n')
    (hit,) = hits("PR105", 'import os\nDEBUG = bool(os.getenv("DEBUG"))\n')
    assert hit.severity == "error"
    # changedetection.io: a URL or a password hash read with a False fallback, tested for "set?"
    assert not hits("PR105", 'import os\nDRIVER = os.getenv("PLAYWRIGHT_DRIVER_URL", False)\n')
    assert not hits("PR105", 'import os\nSALT = os.getenv("SALTED_PASS", False)\n')
    (hit,) = hits("PR105", 'import os\nSAFE = os.getenv("SAFE_MODE", False)\n')


def test_server_started_by_a_function_called_at_import() -> None:
    source = """
        from flask import Flask
        app = Flask(__name__)
        def main():
            app.run()
        main()
    """
    (hit,) = hits("PR103", source)
    assert "main()" in hit.message
    guarded = source.replace(
        "\n        main()", '\n        if __name__ == "__main__":\n            main()'
    )
    assert not hits("PR103", guarded)


def test_debug_run_in_main_guard_is_a_warning() -> None:
    (hit,) = hits("PR102", 'if __name__ == "__main__":\n    app.run(debug=True)\n')
    assert hit.severity == "warning" and hit.direct_run
    assert "a server importing it never runs it" in hit.message  # why it may not matter
    rule = load_rules()["PR102"]
    assert rule.severity == "error" and "warning when" in rule.severity_text
    assert "__main__" in rule.severity_text
    assert not hits("PR102", "import uvicorn\nuvicorn.run(app, debug=True)\n")
    (hit,) = hits(
        "PR102", 'def main():\n    app.run(debug=True)\n\nif __name__ == "__main__":\n    main()\n'
    )
    assert hit.direct_run  # a function only the __main__ block calls
    (hit,) = hits("PR102", "def main():\n    app.run(debug=True)\n\nmain()\n")
    assert not hit.direct_run and hit.severity is None


def test_debug_switched_on_only_under_an_explicit_debug_branch_is_not_reported() -> None:
    source = """
    if searx.sxng_debug:
        app.run(debug=True, port=8888)
    if settings.DEBUG or app.debug:
        app.debug = True
    """
    assert hits("PR102", source) == []


DEV_LAUNCHER = {
    "Dockerfile": 'FROM python:3.12-slim\nCOPY . .\nCMD ["gunicorn", "shop:app"]\n',
    "shop.py": 'from flask import Flask\n\napp = Flask(__name__)\n\nif __name__ == "__main__":\n'
    "    app.run(debug=True)\n",
    "serve.py": "import argparse\n\nfrom shop import app\n\nparser = argparse.ArgumentParser()\n"
    "args = parser.parse_args()\napp.run(debug=True, port=args.port)\n",
}


@pytest.mark.parametrize(
    ("cmd", "expected"),
    [
        ('["gunicorn", "shop:app"]', set()),  # both are a developer's launchers
        ('["python", "shop.py"]', {("shop.py", 6, "PR102", "error")}),
        (
            None,  # nothing says how production starts: as reported on the file alone
            {
                ("shop.py", 6, "PR102", "warning"),
                ("serve.py", 7, "PR102", "warning"),
                ("serve.py", 7, "PR103", "error"),
            },
        ),
    ],
)
def test_debug_reached_only_when_run_directly_depends_on_how_production_starts(
    tmp_path: Path, cmd: str | None, expected: set[tuple[str, int, str, str]]
) -> None:
    """From the ecosystem run: CTFd's serve.py and wsgi.py __main__ block, ihatemoney's run.py
    main(): developer launchers beside a production gunicorn (PR102, PR103)."""
    for name, text in DEV_LAUNCHER.items():
        if name == "Dockerfile":
            if cmd is None:
                continue
            text = text.replace('["gunicorn", "shop:app"]', cmd)
        (tmp_path / name).write_text(text)
    found = {
        (f.path, f.line, f.rule_id, f.severity.value)
        for f in run_check(tmp_path, select={"PR102", "PR103"}).findings
    }
    assert found == expected


@pytest.mark.parametrize(
    ("rel", "production"),
    [
        ("mysite/settings.py", True),
        ("mysite/settings/production.py", True),
        ("mysite/settings/base.py", True),
        ("mysite/settings_prod.py", True),
        ("mysite/settings/dev.py", False),
        ("mysite/settings/local.py", False),
        ("mysite/settings_test.py", False),
        ("development/app.py", False),
        ("app.py", False),
    ],
)
def test_production_settings_modules(rel: str, production: bool) -> None:
    in_production = by_name(rel, FileKind.PYTHON).production
    assert (is_settings_module(rel) and in_production) is production


def test_dev_settings_need_the_mark_after_settings() -> None:
    assert by_name("devtools/mysite/settings.py", FileKind.PYTHON).production
    fact = by_name("mysite/settings/local.py", FileKind.PYTHON)
    assert (fact.env, fact.reason) == (Environment.DEVELOPMENT, "a `local` settings module")


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("SECRET_KEY", True),
        ("app.secret_key", True),
        ("DB_PASSWORD", True),
        ("client_secret", True),
        ("JWT_SECRET_KEY", True),
        ("PASSWORD_RESET_TIMEOUT", False),
        ("PASSWORD_RESET_SUBJECT", False),
        ("TOKEN_BACKEND", False),
        ("CART_SESSION_KEY", False),
        ("SESSION_COOKIE_NAME", False),
        ("SECRET_KEY_FILE", False),
        # from the ecosystem run: the cache entry under which searxng stores a scraped key
        ("SECRET_KEY_DB_KEY", False),
        ("REDIS_KEY", False),
        ("DB_SECRET_KEY", True),
        ("REDIS_PASSWORD", True),
    ],
)
def test_secret_names(name: str, secret: bool) -> None:
    assert holds_secret(name) is secret


def test_url_credentials() -> None:
    found = url_credentials("postgresql://shop:postgres@db:5432/shop")
    assert found and found.host == "db" and found.judgement.is_problem
    assert url_credentials("postgresql://db:5432/shop") is None
    assert url_credentials("postgresql://shop:${DB_PASSWORD}@db/shop") is None
    assert url_credentials("postgresql://shop:{password}@db/shop") is None


SECRETS_IN_BAD_FIXTURES = {
    "PR107": (
        "django-insecure-7h$w",
        "postgres",
        "keyboard cat",
        "Vq3p9Lx2Tz8Rk1Wm",
        "sk_live_51HxYzQ2eZvKYlo2C8b3fA9xN",
        "my-jwt-secret",
        "admin",
    ),
    "PR108": ("changeme", "postgres", "Zq8#kL2m!Pw9@Xr4Tn6&Vb3", "app", "redis", "dev-token"),
    "PR119": ("postgres", "Xy7#pQ2!mK9"),
}


@pytest.mark.parametrize("rule_id", sorted(SECRETS_IN_BAD_FIXTURES))
def test_secret_values_never_appear_in_messages(rule_id: str) -> None:
    found = findings_for(FIXTURES / rule_id / "bad", rule_id)
    assert found
    for finding in found:
        for secret in SECRETS_IN_BAD_FIXTURES[rule_id]:
            alone = rf"(?<![\w-]){re.escape(secret)}(?![\w-])"
            assert not re.search(alone, finding.message), finding.message


def test_exception_text_only_reported_for_clients() -> None:
    source = """
        @app.post("/x")
        def view():
            try:
                work()
            except ValueError as exc:
                return {"error": str(exc)}, 400
            except Exception as exc:
                log.exception("failed")
                return {"error": "internal"}, 500

        def helper():
            try:
                work()
            except Exception as exc:
                return str(exc)
    """
    assert not hits("PR112", source)
    assert hits("PR112", source.replace('{"error": "internal"}', '{"error": repr(exc)}'))


@pytest.mark.parametrize(
    ("view", "reported"),
    [
        ("def llm_test():", False),
        ("def debug_openai():", False),
        ("def latest_orders():", True),
        ("def contest_entries():", True),
    ],
)
def test_exception_text_of_a_connection_test_endpoint_is_its_answer(
    view: str, reported: bool
) -> None:
    source = f"""
        @app.post("/x")
        {view}
            try:
                send_probe()
            except Exception as exc:
                return jsonify(ok=False, error=str(exc)), 400
    """
    assert bool(hits("PR112", source)) is reported


def test_exception_text_of_a_method_of_a_connection_test_view_is_its_answer() -> None:
    source = """
        class MailTestingAPI(APIView):
            def post(self, request):
                try:
                    send_mail(request.data)
                except Exception as exc:
                    return Response({"error": str(exc)}, status=400)
    """
    assert not hits("PR112", source)
    assert hits("PR112", source.replace("MailTestingAPI", "MailSendingAPI"))


def test_tls_switch_behind_an_explicit_option_is_fine() -> None:
    source = """
        import ssl
        def context(insecure):
            ctx = ssl.create_default_context()
            if insecure:
                ctx.check_hostname = False
                ctx.verify_mode = ssl.CERT_NONE
            return ctx
        MODES = {"none": ssl.CERT_NONE}
        def strict(ctx):
            return ctx.verify_mode != ssl.CERT_NONE
    """
    assert not hits("PR114", source)
    assert len(hits("PR114", source.replace("if insecure:", "if True:"))) == 2


def test_blocking_call_in_a_sync_helper_inside_async_def_is_fine() -> None:
    source = """
        import time
        async def handler():
            def work():
                time.sleep(1)
            return work
    """
    assert not hits("PR115", source)


def test_import_time_work_in_scripts_is_fine() -> None:
    script = "import requests\ndata = requests.get(URL, timeout=5)\nif __name__ == '__main__':\n    print(data)\n"
    assert not hits("PR110", script, rel="export.py")
    assert hits("PR110", "import flask\n" + script, rel="web.py")
    assert not hits(
        "PR110", "import requests\nrequests.get(URL, timeout=5)\n", rel="scripts/seed.py"
    )


def test_utcnow_reference_fix_becomes_a_lambda(tmp_path: Path) -> None:
    (tmp_path / "models.py").write_text(
        "from datetime import datetime\n\n"
        "COLUMN = Column(DateTime(timezone=True), default=datetime.utcnow)\n"
    )
    fix_until_stable(tmp_path, "PR101")
    assert (tmp_path / "models.py").read_text() == (
        "from datetime import UTC\nfrom datetime import datetime\n\n"
        "COLUMN = Column(DateTime(timezone=True), default=lambda: datetime.now(UTC))\n"
    )


def test_flask_cors_origins_from_config_are_not_allow_all() -> None:
    source = "from flask_cors import CORS\napp.config.from_object(Config)\nCORS(app)\n"
    assert not hits("PR109", source)
    assert hits("PR109", "from flask_cors import CORS\nCORS(app)\n")


def test_raw_env_string_used_as_a_flag_is_fixed(tmp_path: Path) -> None:
    (tmp_path / "settings.py").write_text('import os\nDEBUG = os.environ.get("DEBUG", False)\n')
    fix_until_stable(tmp_path, "PR105")
    assert (tmp_path / "settings.py").read_text() == (
        'import os\nDEBUG = os.environ.get("DEBUG", "").lower() in ("1", "true", "yes", "on")\n'
    )


def test_server_side_cert_none_is_fine() -> None:
    assert not hits("PR114", "import ssl, uvicorn\nuvicorn.run(app, ssl_cert_reqs=ssl.CERT_NONE)\n")
    server = "import ssl\nctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)\nctx.verify_mode = ssl.CERT_NONE\n"
    assert not hits("PR114", server)


def test_templates_and_hashes_are_not_secrets() -> None:
    assert url_credentials("redis://:%s@cache:6379/0") is None
    assert not hits(
        "PR107", 'ADMIN_PASSWORD_HASH = "x"\nADMIN_PASSWORD = "$2b$12$abcdefghijklmnopqrstuv"\n'
    )


def test_debug_branches_are_dev_only_but_not_debug_branches_are_production() -> None:
    source = """
        DEBUG = False
        if DEBUG:
            ALLOWED_HOSTS = ["*"]
        if not DEBUG:
            SESSION_COOKIE_SECURE = False
        else:
            CSRF_COOKIE_SECURE = False
    """
    assert not hits("PR106", source, rel="shop/settings.py")
    (hit,) = hits("PR118", source, rel="shop/settings.py")
    assert "SESSION_COOKIE_SECURE" in hit.message


def test_dev_config_classes_are_not_production() -> None:
    source = """
        import os
        class Config:
            SQLALCHEMY_ECHO = False
        class DevelopmentConfig(Config):
            SECRET_KEY = "dev"
            MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD", "dev")
            SQLALCHEMY_ECHO = True
        class ProductionConfig(Config):
            SECRET_KEY = "prod-secret"
    """
    for rule_id in ("PR108", "PR122"):
        assert not hits(rule_id, source, rel="config.py"), rule_id
    (hit,) = hits("PR107", source, rel="config.py")
    assert hit.line == 10


def test_long_secret_literals_are_judged_without_crashing() -> None:
    long_key = "Ab3-x9Kq" * 16
    (hit,) = hits("PR107", f'SECRET_KEY = "{long_key}"\n')
    assert long_key[:8] not in hit.message
    assert hits("PR119", f'URL = "postgresql://app:{long_key}@db/app"\n')


ODD_SOURCES = {
    "empty": "",
    "comments": "# only a comment\n",
    "odd_calls": (
        "import os, datetime, requests, uvicorn\nbool()\nos.getenv()\nos.environ.get(NAME, 1)\n"
        "CORS()\napp.run(**options)\nrequests.get()\nuvicorn.run()\ndatetime.datetime.utcnow(1)\n"
        "DebuggedApplication()\nsend_from_directory()\nStaticFiles()\njwt.encode()\n"
    ),
    "odd_syntax": (
        "d = {**base, 'PASSWORD': f'{x}'}\nmatch cmd:\n    case {'k': v}:\n        pass\n"
        "try:\n    pass\nexcept* ValueError as group:\n    pass\n"
        "if (n := len(a)) > 1:\n    pass\nlambda: requests.get(url)\n"
        "@app.errorhandler\ndef handler(): pass\n@app.errorhandler(Exception)\ndef bare(): pass\n"
        "class C(Enum):\n    TOKEN = 'x'\nx: int\n(a, b) = SECRET_KEY, PASSWORD = 'a', 'b'\n"
    ),
    "settings": (
        "DEBUG = ALLOWED_HOSTS = []\nALLOWED_HOSTS = get_hosts()\nSTATIC_ROOT = None\n"
        "STATICFILES_DIRS = (BASE_DIR, )\nCORS_ALLOW_ALL_ORIGINS = True\n"
    ),
}


@pytest.mark.parametrize("name", sorted(ODD_SOURCES))
def test_python_rules_never_raise(name: str) -> None:
    for rule_id in sorted(load_rules()):
        if rule_id.startswith("PR1"):
            for rel in ("app.py", "mysite/settings.py"):
                hits(rule_id, ODD_SOURCES[name], rel=rel)


def test_timeouts_on_sessions() -> None:
    source = """
        import requests
        from requests import Session
        def a(url):
            return requests.Session().get(url)
        def b(url):
            with requests.Session() as http:
                return http.post(url)
        class Client:
            def __init__(self):
                self.http = Session()
            def c(self, url):
                return self.http.get(url)
    """
    assert sorted(hit.line for hit in hits("PR113", source)) == [5, 8, 13]


NAIVE_HEAD = (
    "from datetime import datetime, timedelta, timezone\n"
    "from flask import Flask\nfrom sqlalchemy import Column, DateTime, TIMESTAMP\n\n"
    "app = Flask(__name__)\n\n\n"
)


@pytest.mark.parametrize(
    ("body", "misread"),
    [
        # Naive UTC kept naive everywhere is correct: not reported.
        ("def f(token):\n    return datetime.utcnow() >= token.expiration\n", None),
        ("def f():\n    return datetime.utcnow() - timedelta(hours=1)\n", None),
        ("created = Column(DateTime, default=datetime.utcnow)\n", None),
        ("def f():\n    print(datetime.utcnow().isoformat())\n", None),
        ("def f():\n    return datetime.utcnow().replace(tzinfo=timezone.utc).timestamp()\n", None),
        ("def f(now):\n    return now.timestamp()\n\n\nX = datetime.utcnow()\n", None),
        # Misread: local time, TypeError, an aware column, an offset-less response.
        (
            "def f():\n    now = datetime.utcnow()\n"
            "    return (now + timedelta(seconds=60)).timestamp()\n",
            "local time",
        ),
        ("def f(ts):\n    return datetime.utcfromtimestamp(ts).astimezone()\n", "local time"),
        (
            "def f():\n    aware = datetime.now(timezone.utc)\n"
            "    return datetime.utcnow() < aware\n",
            "TypeError",
        ),
        ("def f():\n    return datetime.now(tz=timezone.utc) - datetime.utcnow()\n", "TypeError"),
        (
            "created = Column(TIMESTAMP(timezone=True), default=lambda: datetime.utcnow())\n",
            "timezone-aware column",
        ),
        (
            "@app.get('/now')\ndef now():\n    return {'at': datetime.utcnow().isoformat()}\n",
            "without an offset",
        ),
    ],
)
def test_naive_utc_is_reported_only_where_it_is_misread(body: str, misread: str | None) -> None:
    found = hits("PR101", NAIVE_HEAD + body)
    if misread is None:
        assert not found
    else:
        (hit,) = found
        assert misread in hit.message and hit.severity in (None, Severity.WARNING)


def test_placeholder_and_tutorial_secrets_are_errors_saying_which() -> None:
    found = hits(
        "PR107",
        'SECRET_KEY = "CHANGE_ME_IN_PROD"\nJWT_SECRET = "you-will-never-guess"\n'
        'API_TOKEN = "ghp_R8x2Lq7Vw3Nz9Kp4Tm6Yc1Bd5Hf0Js"\n',
        "config.py",
    )
    placeholder, tutorial, leaked = sorted(found, key=lambda hit: hit.line)
    assert "placeholder" in placeholder.message
    assert "tutorial" in tutorial.message
    assert "real-looking credential" in leaked.message and "ghp_" not in leaked.message


def test_tokenizer_tokens_and_api_examples_are_not_secrets() -> None:
    source = (FIXTURES / "PR107" / "good" / "ml.py").read_text()
    assert not hits("PR107", source, "ml.py")
    assert (
        hits("PR107", 'class Login:\n    password = Field(default="Tr0ub4dor&3")\n', "a.py") == []
    )
    assert hits("PR107", 'client = Client(api_key="sk_live_51HxYzQ2eZvKYlo2C8b3fA9xN")\n')


def test_template_variables_and_masks_are_not_secrets() -> None:
    """From the ecosystem run: a cookiecutter template's secret and a mask shown in place of
    one were reported as placeholders production runs with."""
    source = (
        'SECRET_KEY = "{{cookiecutter.secret_key}}"\n'
        'TOKEN = """<a href="{{ record.url }}">{{ record }}</a>"""\n'
        'CENSOR_TOKEN = "********"\n'
        'url = make_url(password="******")\n'
    )
    assert not hits("PR107", source, "config.py")
    assert hits("PR107", 'SECRET_KEY = "xxxxxxxx"\n', "config.py")  # a stand-in runs as is


def test_url_in_a_replace_pattern_is_not_a_credential() -> None:
    assert not hits("PR119", 'x = url.replace("postgresql://app:app@", "")\n')
    assert hits("PR119", 'x = connect("postgresql://app:app@db/app")\n')


@pytest.mark.parametrize(
    "source",
    [
        'GET_TOKEN = "https://oapi.dingtalk.com/gettoken"',
        'OAUTH = {"client_secret": "SLACK_CLIENT_SECRET"}',
        'AUTH_KEY = "authkey"',
        'CONF = {"AUTH_OPENID_CLIENT_SECRET": "client-secret"}',
        'module.params["update_password"] = "on_create"',
        'obj.empty_secret = "#{empty}#"',
        'ORDER = {"token": "{token}"}',
        'ACCOUNT_RATE_LIMITS = {"change_password": "1/m/user", "reset_password": "1/m/ip,1/m/key"}',
        'example["password"] = "[REDACTED]"',
        'db.users.create({"password": "LDAP"})',
        'SCHEMA = {"secret": "url"}',
        'obj.pwd = "."',
        'PATHS = {"reset_password": "/api/v1/reset-password/"}',
        'class Meta:\n    labels = {"friendly_token": "Slug"}',
    ],
)
def test_values_that_are_not_secrets_whatever_the_name(source: str) -> None:
    assert hits("PR107", source + "\n", "service.py") == []


@pytest.mark.parametrize(
    "source",
    [
        'SECRET_KEY = "CHANGE_ME_IN_PROD"',
        'DB = {"password": "super_secret"}',
        'app.secret_key = "s3cr3t-Kx9"',
    ],
)
def test_secrets_that_look_like_words_are_still_reported(source: str) -> None:
    assert hits("PR107", source + "\n", "service.py")


@pytest.mark.parametrize(
    "source",
    [
        "from flask_migrate import upgrade\nwith app.app_context():\n    upgrade()\n",
        "import alembic.config\nalembic.config.main(argv=['upgrade', 'head'])\n",
        "from yoyo import get_backend, read_migrations\n"
        "backend = get_backend(URL)\nbackend.apply_migrations(read_migrations('m'))\n",
    ],
)
def test_migrations_run_at_import_time_in_the_wsgi_module(source: str) -> None:
    (hit,) = hits(
        "PR110", "from shop import create_app\n\napp = create_app()\n" + source, "wsgi.py"
    )
    assert "changes the database schema" in hit.message
    assert not hits("PR110", "def main():\n" + textwrap.indent(source, "    "), "wsgi.py")


def test_cors_allow_all_is_judged_by_what_it_exposes() -> None:
    (anonymous,) = hits("PR109", "CORS_ALLOW_ALL_ORIGINS = True\n", "shop/settings.py")
    assert anonymous.severity == "info"
    (logged_in,) = hits(
        "PR109",
        "CORS_ALLOW_ALL_ORIGINS = True\nCORS_ALLOW_CREDENTIALS = True\n",
        "shop/settings.py",
    )
    assert logged_in.severity == "error"
    narrowed = 'CORS_ORIGIN_ALLOW_ALL = True\nCORS_URLS_REGEX = r"^/api/bookmarklet-import.*$"\n'
    assert hits("PR109", narrowed, "shop/settings.py") == []


def test_flask_cors_extension_is_judged_where_it_is_initialised() -> None:
    deferred = "from flask_cors import CORS\n\ncors = CORS()\n"
    assert hits("PR109", deferred, "shop/extensions.py") == []
    assert (
        hits("PR109", deferred + 'cors.init_app(app, origins=["https://shop.example.com"])\n') == []
    )
    (found,) = hits("PR109", deferred + "cors.init_app(app, supports_credentials=True)\n")
    assert found.severity == "error"


@pytest.mark.parametrize(
    ("rel", "source", "reported"),
    [
        # from the ecosystem run: a release script, a CLI client, a HEALTHCHECK helper
        ("bin/release_manager.py", "import requests\nrequests.get(URL)\n", False),
        ("cli-tool/cli.py", "import requests\n\ndef up():\n    requests.post(URL)\n", False),
        (
            "mealie/scripts/healthcheck.py",
            "import requests\n\ndef main():\n    requests.get(URL)\n",
            False,
        ),
        (
            "extras/authors.py",
            "import requests\n\ndef run():\n    requests.get(URL)\n\n"
            "if __name__ == '__main__':\n    run()\n",
            False,
        ),
        # the service's own code, and a script folder that imports the framework
        ("notify.py", "import requests\n\ndef alert():\n    requests.post(URL)\n", True),
        ("app/scripts/hooks.py", "import flask, requests\nrequests.post(URL)\n", True),
    ],
)
def test_http_without_timeout_counts_only_in_the_service(
    rel: str, source: str, reported: bool
) -> None:
    assert bool(hits("PR113", source, rel)) == reported


def test_a_connection_url_in_an_options_help_text_is_documentation() -> None:
    source = """
    import typer

    def migrate(target: str = typer.Argument(help="postgresql://user:password@host/dbname")):
        ...

    engine = create_engine("postgresql://shop:password@db/shop")
    """
    assert [hit.line for hit in hits("PR119", source)] == [7]


def test_a_providers_prefix_on_a_value_too_short_for_its_format_is_a_dummy() -> None:
    """dispatch: `App(token="xoxb-valid", token_verification_enabled=False)`."""
    assert hits("PR107", 'app = App(token="xoxb-valid")\n') == []
    real = "xoxb-" + "4815162342-1081081081-Zq7Lk2Vx9Rm3Tp8Wn4Yc"
    assert [hit.line for hit in hits("PR107", f'app = App(token="{real}")\n')] == [1]


@pytest.mark.parametrize(
    ("rel", "reported"),
    [
        ("shop/management/commands/check_api.py", False),
        ("shop/management/commands/__init__.py", True),  # imported with the package
        ("shop/settings.py", True),
    ],
)
def test_pr120_a_management_command_has_no_workers(rel: str, reported: bool) -> None:
    """From the ecosystem run: a random password as a class attribute of a management command
    is made once in the command's own process; no workers disagree on it."""
    source = (
        "import uuid\n\n\nclass Command:\n    password = uuid.uuid4().hex\n"
        "\n    def handle(self):\n        return self.password\n"
    )
    assert bool(hits("PR120", source, rel)) is reported
    command = by_name("shop/management/commands/check_api.py", FileKind.PYTHON)
    assert command.env == Environment.ONE_SHOT and command.deployed


@pytest.mark.parametrize(
    ("settings", "reported"),
    [("CORS_ORIGINS = ['https://a.example']\n", False), ("DEBUG = False\n", True)],
)
def test_pr109_flask_cors_reads_origins_from_a_settings_module_elsewhere(
    tmp_path: Path, settings: str, reported: bool
) -> None:
    """From the ecosystem run: `cors.init_app(app)` with no origins in one module, the config
    loaded from settings.py in another (`app.config.from_object` there). flask-cors reads
    CORS_ORIGINS from that config, so it does not allow every origin when settings set it."""
    (tmp_path / "shop").mkdir()
    (tmp_path / "shop" / "settings.py").write_text(settings)
    (tmp_path / "shop" / "config.py").write_text(
        "def init_app(app):\n    app.config.from_object('shop.settings')\n"
    )
    (tmp_path / "shop" / "app.py").write_text(
        "from flask import Flask\nfrom flask_cors import CORS\n\nfrom shop import config\n\n"
        "cors = CORS()\napp = Flask(__name__)\nconfig.init_app(app)\ncors.init_app(app)\n"
    )
    assert bool(findings_for(tmp_path, "PR109")) is reported


@pytest.mark.parametrize(
    ("name", "reported"),
    [
        ("EMAIL_HOST_PASSWORD", False),
        ("SMTP_PASSWORD", False),
        ("AWS_SECRET_ACCESS_KEY", False),
        ("SECRET_KEY", True),
        ("ADMIN_PASSWORD", True),
    ],
)
def test_pr108_a_providers_credential_fails_closed(name: str, reported: bool) -> None:
    """From the ecosystem run: an SMTP password or AWS secret that falls back to "password"
    makes the relay or AWS refuse the app when the variable is missing; a SECRET_KEY or an
    admin password that falls back to a literal lets anyone in who knows it."""
    source = f"import os\n\n{name} = os.getenv('{name}', 'password')\n"
    assert bool(hits("PR108", source, "shop/settings.py")) is reported


@pytest.mark.parametrize(
    ("procfile", "reported"),
    [
        ("web: gunicorn shop.wsgi:application --preload --workers 4\n", False),
        ("web: gunicorn shop.wsgi:application --workers 4\n", True),
    ],
)
def test_pr120_a_key_made_before_gunicorn_forks_is_shared(
    tmp_path: Path, procfile: str, reported: bool
) -> None:
    """From the ecosystem run: wger's settings make a random SECRET_KEY when none is set, and
    gunicorn runs with --preload: the master imports the settings once and every worker
    inherits that one key. Without --preload each worker imports them and makes its own."""
    (tmp_path / "shop").mkdir()
    (tmp_path / "shop" / "settings.py").write_text(
        "import secrets\n\nSECRET_KEY = secrets.token_urlsafe(50)\n"
    )
    (tmp_path / "shop" / "wsgi.py").write_text(
        "from django.core.wsgi import get_wsgi_application\n\n"
        "application = get_wsgi_application()\n"
    )
    (tmp_path / "Procfile").write_text(procfile)
    assert bool(findings_for(tmp_path, "PR120")) is reported


@pytest.mark.parametrize(
    ("rel", "reported"),
    [("bin/release_manager.py", False), ("shop/clients/payments.py", True)],
)
def test_pr114_a_release_script_run_by_hand_is_not_the_service(rel: str, reported: bool) -> None:
    """From the ecosystem run: redash's bin/release_manager.py uploads release assets with
    verify=False. A maintainer runs it by hand; the service never does (PR113 already judged
    such scripts so). The same call in the app's own code stays an error."""
    source = "import requests\n\n\ndef upload(url):\n    return requests.post(url, verify=False)\n"
    assert bool(hits("PR114", source, rel)) is reported


def test_pr116_leaves_a_cli_command_named_for_development() -> None:
    """dispatch's `@dispatch_server.command("develop")` runs uvicorn with reload on purpose,
    beside a `start` command that serves production; reload in any other command is judged."""
    source = """
        import click
        import uvicorn

        @click.group()
        def server():
            pass

        @server.command("develop")
        @click.option("--log-level", default="debug")
        def run_dev_server(log_level):
            uvicorn.run("app.main:app", reload=True, log_level=log_level)

        @server.command()
        def dev():
            uvicorn.run("app.main:app", reload=True)

        @server.command("start")
        def start():
            uvicorn.run("app.main:app", reload=True)
        """
    assert [hit.line for hit in hits("PR116", source)] == [20]
