"""The runtime kit against bad options and broken backing services.

Bad options: every option of `Production(app, ...)` is checked when it is called, one
`UserError` line with a hint, never a raw Python error and never a 500 on later requests.
"""

from __future__ import annotations

from typing import Any

import pytest

from prodready.errors import UserError
from prodready.runtime import Production


def wsgi_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]


BAD_OPTIONS = [
    ({"max_body_size": "1MB"}, "max_body_size"),
    ({"max_body_size": -5}, "max_body_size"),
    ({"route_body_limits": {"/upload": "10MB"}}, "route_body_limits"),
    ({"route_body_limits": {"upload": 10}}, "route_body_limits"),
    ({"trusted_proxies": ["not-an-address"]}, "trusted_proxies"),
    ({"trusted_proxies": "10.0.0.0/33"}, "trusted_proxies"),
    ({"hsts_max_age": "one year"}, "hsts_max_age"),
    ({"hsts_max_age": -1}, "hsts_max_age"),
    ({"route_limits": ["/login", "5/minute"]}, "route_limits"),
    ({"route_limits": {"/login": 5}}, "route_limits"),
    ({"route_limits": {"login": "5/minute"}}, "route_limits"),
    ({"route_limits": {"/login": "five a minute"}}, "rate limit"),
    ({"rate_limit": "lots"}, "rate limit"),
    ({"rate_limit_strategy": "token-bucket"}, "strategy"),
    ({"check_ttl": "2s"}, "check_ttl"),
    ({"log_level": "LOUD"}, "log_level"),
    ({"metrics": "yes"}, "metrics"),
    ({"metrics_path": "metrics"}, "metrics_path"),
    ({"cors_origins": ["example.com"]}, "cors_origins"),
    ({"request_id_header": ""}, "request_id_header"),
    ({"rate_limit": "5/minute", "rate_limit_storage": "ftp://x"}, "storage"),
]


@pytest.mark.parametrize(("options", "named"), BAD_OPTIONS)
def test_a_bad_option_is_one_clear_error_at_start_up(options: dict[str, Any], named: str) -> None:
    with pytest.raises(UserError) as caught:
        Production(wsgi_app, json_logs=False, **options)

    message = caught.value.message
    assert named in message, message
    assert "\n" not in message
    assert caught.value.hint


def test_good_options_of_every_kind_are_accepted() -> None:
    kit = Production(
        wsgi_app,
        json_logs=False,
        max_body_size=2_000_000,
        route_body_limits={"/upload": 50_000_000},
        trusted_proxies="10.0.0.0/8, 127.0.0.1",
        hsts_max_age=0,
        route_limits={"/login": "5/minute"},
        check_ttl=1,
        log_level="warning",
        metrics_path=None,
        cors_origins=["https://example.com"],
    )
    assert kit.options.trusted_proxies == ("10.0.0.0/8", "127.0.0.1")
