"""The nginx rules' tricky parts: cipher strings, and inheritance across levels and files."""

from __future__ import annotations

from pathlib import Path

import pytest

from prodready.check.rules.nginx import MOZILLA_INTERMEDIATE_CIPHERS, cipher_problems
from tests.check.helpers import findings_for


@pytest.mark.parametrize(
    ("spec", "broken", "cbc", "dhe"),
    [
        (":".join(MOZILLA_INTERMEDIATE_CIPHERS), 0, 0, 0),
        ("HIGH:!aNULL:!MD5", 0, 1, 0),  # nginx's default: CBC suites outside the list
        ("HIGH:!MD5", 1, 0, 0),  # aNULL not excluded
        ("ECDHE-RSA-AES128-GCM-SHA256:DES-CBC3-SHA", 1, 0, 0),
        ("ECDHE-RSA-AES128-GCM-SHA256:!RC4:!3DES:!EXPORT", 0, 0, 0),
        ("ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-SHA", 0, 1, 0),
        ("ECDHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384", 0, 0, 1),
        ("TLS_AES_128_GCM_SHA256:ECDHE-RSA-CHACHA20-POLY1305", 0, 0, 0),
        ("EXP-RC4-MD5", 1, 0, 0),
    ],
)
def test_cipher_problems(spec: str, broken: int, cbc: int, dhe: int) -> None:
    found = cipher_problems(spec)
    assert tuple(len(part) for part in found) == (broken, cbc, dhe)


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


MAIN_CONF = """events {}
http {
    server_tokens off;
    add_header X-Frame-Options DENY always;
    include /etc/nginx/conf.d/*.conf;
}
"""


def test_site_file_inherits_http_level_settings_from_nginx_conf(tmp_path: Path) -> None:
    site = "server {\n    listen 80;\n    root /srv/www;\n}\n"
    root = _tree(tmp_path, {"nginx/nginx.conf": MAIN_CONF, "nginx/conf.d/site.conf": site})
    assert findings_for(root, "PR401") == []
    assert findings_for(root, "PR405") == []


def test_add_header_in_site_server_drops_headers_from_nginx_conf(tmp_path: Path) -> None:
    site = "server {\n    listen 80;\n    add_header Cache-Control no-store;\n}\n"
    root = _tree(tmp_path, {"nginx/nginx.conf": MAIN_CONF, "nginx/conf.d/site.conf": site})
    found = findings_for(root, "PR405")
    assert [(f.path, f.line) for f in found] == [("nginx/conf.d/site.conf", 3)]
    assert "X-Frame-Options" in found[0].message


def test_add_header_inherit_merge_keeps_headers(tmp_path: Path) -> None:
    site = (
        "server {\n    listen 80;\n    add_header_inherit merge;\n"
        "    add_header X-Frame-Options DENY;\n"
        "    location / {\n        add_header Cache-Control no-store;\n    }\n}\n"
    )
    assert findings_for(_tree(tmp_path, {"nginx/site.conf": site}), "PR405") == []


def test_proxy_params_include_sets_forwarded_headers(tmp_path: Path) -> None:
    site = (
        "server {\n    listen 80;\n    location / {\n"
        "        include proxy_params;\n        proxy_pass http://127.0.0.1:8000;\n    }\n}\n"
    )
    assert findings_for(_tree(tmp_path, {"nginx/site.conf": site}), "PR406") == []


def test_own_proxy_set_header_drops_the_servers(tmp_path: Path) -> None:
    site = (
        "server {\n    listen 80;\n    proxy_set_header Host $host;\n"
        "    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;\n"
        "    proxy_set_header X-Forwarded-Proto $scheme;\n"
        "    location / {\n        proxy_set_header Upgrade $http_upgrade;\n"
        "        proxy_pass http://127.0.0.1:8000;\n    }\n}\n"
    )
    found = findings_for(_tree(tmp_path, {"nginx/site.conf": site}), "PR406")
    assert [f.line for f in found] == [8]


def test_tls_and_redirect_in_separate_files(tmp_path: Path) -> None:
    tls = "server {\n    listen 443 ssl;\n    server_name a.example;\n    root /srv/a;\n}\n"
    plain = "server {\n    listen 80;\n    server_name a.example;\n    root /srv/a;\n}\n"
    other = "server {\n    listen 80;\n    server_name b.example;\n    root /srv/b;\n}\n"
    root = _tree(
        tmp_path,
        {"nginx/tls.conf": tls, "nginx/plain.conf": plain, "nginx/other.conf": other},
    )
    found = findings_for(root, "PR409")
    assert [(f.path, f.line) for f in found] == [("nginx/plain.conf", 1)]


def test_a_plain_main_configuration_beside_a_tls_one_is_an_alternative(tmp_path: Path) -> None:
    """nginx loads one main configuration: DefectDojo ships nginx.conf (plain HTTP, TLS
    terminated in front) and nginx_TLS.conf; the plain one is not the TLS site's port 80."""
    server = "    server {{\n        listen {};\n        location / {{ root /srv/a; }}\n    }}\n"
    main = "events {{}}\nhttp {{\n{}}}\n"
    plain = main.format(server.format("8080"))
    with_tls = main.format(server.format("8080") + server.format("8443 ssl"))
    root = _tree(tmp_path, {"nginx/nginx.conf": plain, "nginx/nginx_TLS.conf": with_tls})
    found = findings_for(root, "PR409")
    assert [(f.path, f.line) for f in found] == [("nginx/nginx_TLS.conf", 3)]
    (root / "nginx/site.conf").write_text(server.format("80"))  # a snippet either may include
    assert ("nginx/site.conf", 1) in [(f.path, f.line) for f in findings_for(root, "PR409")]


def test_regex_location_with_alias_is_not_traversal(tmp_path: Path) -> None:
    site = "server {\n    location ~ ^/static/(.*)$ {\n        alias /srv/static/$1;\n    }\n}\n"
    assert findings_for(_tree(tmp_path, {"nginx/site.conf": site}), "PR407") == []


def test_loopback_status_server_is_not_a_plain_http_site(tmp_path: Path) -> None:
    tls = "server {\n    listen 443 ssl;\n    root /srv/a;\n}\n"
    status = (
        "server {\n    listen 127.0.0.1:8081;\n    location / {\n        root /srv/s;\n    }\n}\n"
    )
    root = _tree(tmp_path, {"nginx/tls.conf": tls, "nginx/status.conf": status})
    assert findings_for(root, "PR409") == []


SECURITY_SNIPPET = (
    'add_header Strict-Transport-Security "max-age=63072000" always;\n'
    "add_header X-Frame-Options DENY always;\n"
)
TLS_SITE_WITH_INCLUDES = """server {
    listen 443 ssl;
    server_tokens off;
    include /etc/nginx/snippets/security.conf;
    location /static/ {
        include snippets/security.conf;
        add_header Cache-Control public;
    }
    location /media/ {
        add_header Cache-Control private;
    }
}
"""


def test_included_snippet_counts_at_its_level(tmp_path: Path) -> None:
    """`include` of a file the project ships: its add_header lines are written where the include
    is, found from the including file's folder up (`/etc/nginx/snippets/x` -> nginx/snippets/x)."""
    root = _tree(
        tmp_path,
        {
            "deploy/nginx/sites/app.conf": TLS_SITE_WITH_INCLUDES,
            "deploy/nginx/snippets/security.conf": SECURITY_SNIPPET,
        },
    )
    assert findings_for(root, "PR404") == []
    found = findings_for(root, "PR405")
    assert [(f.path, f.line) for f in found] == [("deploy/nginx/sites/app.conf", 10)]
    assert "Strict-Transport-Security, X-Frame-Options" in found[0].message


def test_include_the_project_does_not_ship_stays_unknown(tmp_path: Path) -> None:
    root = _tree(tmp_path, {"deploy/nginx/sites/app.conf": TLS_SITE_WITH_INCLUDES})
    assert [f.line for f in findings_for(root, "PR404")] == [1]


def test_included_proxy_settings_keep_upstream_keepalive(tmp_path: Path) -> None:
    site = (
        "upstream app {\n    server 127.0.0.1:8000;\n    keepalive 16;\n}\n"
        "server {\n    listen 80;\n    server_tokens off;\n"
        "    location / {\n        proxy_pass http://app;\n        include snippets/proxy.conf;\n"
        "    }\n    location /old/ {\n        proxy_pass http://app;\n    }\n}\n"
    )
    snippet = (
        'proxy_http_version 1.1;\nproxy_set_header Connection "";\n'
        "proxy_set_header Host $host;\n"
        "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;\n"
        "proxy_set_header X-Forwarded-Proto $scheme;\n"
    )
    root = _tree(tmp_path, {"nginx/app.conf": site, "nginx/snippets/proxy.conf": snippet})
    assert [f.line for f in findings_for(root, "PR411")] == [13]
    assert [f.line for f in findings_for(root, "PR406")] == [13]


def test_includes_that_loop_escape_or_glob_are_not_followed(tmp_path: Path) -> None:
    site = (
        "server {\n    listen 443 ssl;\n    include a.conf;\n    include ../../outside.conf;\n"
        "    include conf.d/*.conf;\n}\n"
    )
    root = _tree(
        tmp_path,
        {
            "nginx/site.conf": site,
            "nginx/a.conf": "include b.conf;\n",
            "nginx/b.conf": "include a.conf;\nserver_tokens off;\n",
            "outside.conf": SECURITY_SNIPPET,
        },
    )
    assert findings_for(root, "PR401") == []  # through a.conf -> b.conf, the loop cut
    assert [f.line for f in findings_for(root, "PR404")] == [1]


def test_hsts_value_from_a_map_variable_is_not_judged(tmp_path: Path) -> None:
    site = (
        'map $scheme $hsts {\n    https "max-age=63072000";\n}\n'
        "server {\n    listen 443 ssl;\n    add_header Strict-Transport-Security $hsts always;\n}\n"
        "server {\n    listen 443 ssl;\n    server_name b;\n"
        '    add_header Strict-Transport-Security "max-age=300" always;\n}\n'
    )
    assert [f.line for f in findings_for(_tree(tmp_path, {"nginx/a.conf": site}), "PR404")] == [11]


def test_block_that_only_answers_keeps_no_page_unprotected(tmp_path: Path) -> None:
    """A CORS preflight `if` returning 204 with its own add_header lines is not reported; a
    location that serves files with its own add_header still is."""
    site = (
        "server {\n    listen 80;\n    add_header X-Frame-Options DENY always;\n"
        "    location /api/ {\n        if ($request_method = OPTIONS) {\n"
        "            add_header Access-Control-Allow-Origin https://app.example.com;\n"
        "            return 204;\n        }\n        proxy_pass http://127.0.0.1:8000;\n"
        "    }\n    location /assets/ {\n        add_header Cache-Control public;\n"
        "        root /srv/www;\n    }\n}\n"
    )
    found = findings_for(_tree(tmp_path, {"nginx/site.conf": site}), "PR405")
    assert [f.line for f in found] == [12]


@pytest.mark.parametrize(
    ("listen", "reported"),
    [
        ("80", True),
        ("[::]:80", True),
        ("0.0.0.0:8080", True),  # nginx-unprivileged, published as port 80
        ("10.0.0.5", True),  # no port: 80
        ("8081", False),  # an internal metrics port nobody browses to
        ("127.0.0.1:80", False),
        ("[::1]", False),
    ],
)
def test_pr409_judges_web_ports(tmp_path: Path, listen: str, reported: bool) -> None:
    tls = "server {\n    listen 443 ssl;\n    root /srv/a;\n}\n"
    plain = (
        f"server {{\n    listen {listen};\n    location / {{\n        root /srv/a;\n    }}\n}}\n"
    )
    root = _tree(tmp_path, {"nginx/tls.conf": tls, "nginx/plain.conf": plain})
    assert bool(findings_for(root, "PR409")) is reported


def test_unreadable_include_stays_unknown(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An included file too big to read is not parsed (crossplane would read it whole)."""
    monkeypatch.setattr("prodready.project.files.MAX_BYTES", 200)
    site = "server {\n    listen 443 ssl;\n    include snippets/headers.conf;\n}\n"
    headers = SECURITY_SNIPPET + "# padding\n" * 30
    root = _tree(tmp_path, {"nginx/site.conf": site, "nginx/snippets/headers.conf": headers})
    assert [f.line for f in findings_for(root, "PR404")] == [1]


def test_catch_all_tls_server_that_closes_sends_no_header(tmp_path: Path) -> None:
    site = (
        "server {\n    listen 443 ssl default_server;\n    ssl_certificate /etc/ssl/x.pem;\n"
        "    return 444;\n}\n"
        "server {\n    listen 443 ssl;\n    server_name a.example;\n    return 301 /x;\n}\n"
    )
    assert [f.line for f in findings_for(_tree(tmp_path, {"nginx/a.conf": site}), "PR404")] == [6]


def test_server_that_closes_every_connection_needs_no_server_tokens(tmp_path: Path) -> None:
    site = (
        "server {\n    listen 80 default_server;\n    return 444;\n}\n"
        "server {\n    listen 80;\n    server_name a.example;\n    root /srv/a;\n}\n"
    )
    assert [f.line for f in findings_for(_tree(tmp_path, {"nginx/a.conf": site}), "PR401")] == [5]


def test_file_level_directives_of_an_included_conf_apply_to_its_servers(tmp_path: Path) -> None:
    """conf.d/*.conf and sites-enabled/* are included inside http {}: what they write at file
    level (in the same file or a sibling) is http-level for their servers."""
    conf_d = tmp_path / "nginx" / "conf.d"
    conf_d.mkdir(parents=True)
    (conf_d / "00-common.conf").write_text(
        "server_tokens off;\nproxy_set_header Host $host;\n"
        "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;\n"
        "proxy_set_header X-Forwarded-Proto $scheme;\n"
        "upstream app { server 127.0.0.1:8000; }\n"
    )
    site = "server {\n    listen 80;\n    location / { proxy_pass http://app; }\n}\n"
    (conf_d / "app.conf").write_text(site)
    assert findings_for(tmp_path, "PR401") == []
    assert findings_for(tmp_path, "PR406") == []
    (conf_d / "00-common.conf").unlink()
    assert [f.line for f in findings_for(tmp_path, "PR401")] == [1]
    assert [f.line for f in findings_for(tmp_path, "PR406")] == [3]


def test_public_http_only_sees_tls_servers_of_other_files(tmp_path: Path) -> None:
    sites = tmp_path / "deploy" / "nginx"
    sites.mkdir(parents=True)
    (sites / "http.conf").write_text(
        "server {\n    listen 80;\n    server_name shop.example.com;\n"
        "    location / { proxy_pass http://127.0.0.1:8000; }\n}\n"
    )
    assert [f.line for f in findings_for(tmp_path, "PR412")] == [1]
    (sites / "https.conf").write_text(
        "server {\n    listen 443 ssl;\n    server_name shop.example.com;\n"
        "    location / { proxy_pass http://127.0.0.1:8000; }\n}\n"
    )
    assert findings_for(tmp_path, "PR412") == []  # PR409 judges the missing redirect
    assert [f.line for f in findings_for(tmp_path, "PR409")] == [1]


def test_server_tokens_missing_in_several_server_blocks_is_one_finding(tmp_path: Path) -> None:
    site = tmp_path / "deploy" / "nginx" / "site.conf"
    site.parent.mkdir(parents=True)
    site.write_text(
        "server {\n    listen 80;\n    location / { proxy_pass http://127.0.0.1:8000; }\n}\n\n"
        "server {\n    listen 8080;\n    location / { proxy_pass http://127.0.0.1:8000; }\n}\n"
    )
    (found,) = findings_for(tmp_path, "PR401")
    assert found.line == 1 and "lines 1, 6" in found.message
    assert found.fix is not None and len(found.fix.edits) == 2


def test_forwarded_host_and_real_ip_stand_in_for_host_and_forwarded_for(tmp_path: Path) -> None:
    site = (
        "server {\n    listen 80;\n    location / {\n"
        "        proxy_pass http://127.0.0.1:8001;\n"
        "        proxy_set_header X-Forwarded-Host $http_host;\n"
        "        proxy_set_header X-Real-IP $remote_addr;\n"
        "        proxy_set_header X-Forwarded-Proto $scheme;\n    }\n}\n"
    )
    assert findings_for(_tree(tmp_path, {"nginx/site.conf": site}), "PR406") == []
    without_proto = site.replace("        proxy_set_header X-Forwarded-Proto $scheme;\n", "")
    found = findings_for(_tree(tmp_path, {"nginx/site.conf": without_proto}), "PR406")
    assert [f.message for f in found] == ["proxy_pass without proxy_set_header X-Forwarded-Proto"]
