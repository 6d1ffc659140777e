"""Scenario files: several weighted requests against one target, in TOML or YAML.

    base_url = "http://127.0.0.1:8000"
    headers = { Authorization = "Bearer test" }      # sent with every request

    [[requests]]
    name = "home"
    path = "/"
    weight = 3

    [[requests]]
    name = "score"
    method = "POST"
    path = "/api/score"
    headers = { Content-Type = "application/json" }
    body = '{"amount": 120}'                         # or body_file = "score.json"

The schema is checked with pydantic, so a typo in a key is reported, not ignored.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from prodready import safeyaml
from prodready.errors import InputError
from prodready.load.config import (
    RequestSpec,
    Target,
    parse_header,
    parse_method,
    parse_target,
    read_body_file,
)

MAX_SCENARIO_BYTES = 2_000_000
HINT = "see docs/load.md for the scenario format (base_url and [[requests]] with path)"


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = ""
    path: str = Field(default="/", pattern=r"^/")
    method: str = "GET"
    headers: dict[str, str] = Field(default_factory=dict)
    body: str | None = None
    body_file: str | None = None
    weight: int = Field(default=1, ge=1, le=1000)

    @model_validator(mode="after")
    def one_body(self) -> _Request:
        if self.body is not None and self.body_file is not None:
            raise ValueError("give body or body_file, not both")
        return self


class _Scenario(BaseModel):
    model_config = ConfigDict(extra="forbid")

    base_url: str
    headers: dict[str, str] = Field(default_factory=dict)
    requests: list[_Request] = Field(min_length=1)


def load_scenario(path: Path) -> tuple[Target, tuple[RequestSpec, ...]]:
    """Reads and checks a scenario file; every problem becomes one `InputError` line."""
    data = _read(path)
    try:
        scenario = _Scenario.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "top level"
        raise InputError(f"bad scenario {path}: {where}: {first['msg']}", HINT) from None
    target, base_path = parse_target(scenario.base_url)
    prefix = base_path.rstrip("/")
    specs = []
    for number, request in enumerate(scenario.requests, start=1):
        headers = {**scenario.headers, **request.headers}
        specs.append(
            RequestSpec(
                path=prefix + request.path,
                method=parse_method(request.method),
                headers=tuple(parse_header(f"{k}: {v}") for k, v in headers.items()),
                body=_body(path, request),
                weight=request.weight,
                name=request.name or f"{request.method.upper()} {request.path} #{number}",
            )
        )
    return target, tuple(specs)


def _read(path: Path) -> object:
    try:
        size = path.stat().st_size
        if size > MAX_SCENARIO_BYTES:
            raise InputError(
                f"scenario {path} is {size:,} bytes, above {MAX_SCENARIO_BYTES:,}",
                "a scenario lists requests; put large bodies in body_file",
            )
        text = path.read_bytes().decode("utf-8")
    except OSError as error:
        raise InputError(
            f"cannot read scenario {path}: {error.strerror}", "check the path"
        ) from None
    except UnicodeDecodeError as error:
        raise InputError(
            f"bad scenario {path}: not UTF-8 (byte {error.start})", "save it as UTF-8"
        ) from None
    try:
        if path.suffix.lower() == ".toml":
            return tomllib.loads(text)
        if path.suffix.lower() in (".yaml", ".yml"):
            return safeyaml.load(text)  # alias bombs refused
    except (tomllib.TOMLDecodeError, yaml.YAMLError) as error:
        reason = str(error).splitlines()[0]
        raise InputError(f"bad scenario {path}: {reason}", HINT) from None
    except RecursionError:
        raise InputError(f"bad scenario {path}: nested too deeply", HINT) from None
    except ValueError:  # an integer past Python's 4300-digit conversion limit
        raise InputError(f"bad scenario {path}: a number too long to read", HINT) from None
    raise InputError(f"unknown scenario format {path.name}", "use a .toml, .yaml or .yml file")


def _body(scenario_path: Path, request: _Request) -> bytes:
    if request.body is not None:
        return request.body.encode()
    if request.body_file is None:
        return b""
    return read_body_file(scenario_path.parent / request.body_file)
