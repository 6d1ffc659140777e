"""Turning one SQLite value into the value PostgreSQL will store, or saying why it cannot be
done without losing something. One `Cast` per column, chosen by `plan`."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

import orjson

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
INT_RANGES = {
    "smallint": (-(2**15), 2**15 - 1),
    "integer": (-(2**31), 2**31 - 1),
    "bigint": (-(2**63), 2**63 - 1),
}
TRUE_TEXT = {"1", "t", "true", "y", "yes", "on"}
FALSE_TEXT = {"0", "f", "false", "n", "no", "off"}


class LossyValue(Exception):
    """A value the target type cannot hold as it is."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Cast:
    """How values of one column are converted. `kind` names it in the plan."""

    kind: str
    convert: Callable[[Any], Any]
    """The value to write with COPY (None stays None: callers skip it)."""
    normal: Callable[[Any], str]
    """The canonical text of a stored (or converted) value, for hashing on both sides."""
    recipe: tuple[Callable[..., Cast], tuple[Any, ...]] = field(
        default=(lambda: None, ()),
        compare=False,
        repr=False,  # type: ignore[assignment]
    )
    """The factory call that made it: a Cast crosses to a worker process as that call."""

    def __reduce__(self) -> tuple[Any, ...]:
        return self.recipe


def _plain(value: Any) -> str:
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _as_bool(value: Any) -> bool:
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in TRUE_TEXT | FALSE_TEXT:
        return value.strip().lower() in TRUE_TEXT
    raise LossyValue(f"{value!r} is not a boolean (0/1)")


def _as_int(kind: str) -> Callable[[Any], int]:
    low, high = INT_RANGES[kind]

    def convert(value: Any) -> int:
        if type(value) is int and low <= value <= high:
            return value
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        elif isinstance(value, str):
            try:
                value = int(value.strip())
            except ValueError:
                raise LossyValue(f"{value!r} is not an integer") from None
        if not isinstance(value, int):
            raise LossyValue(f"{value!r} is not an integer")
        if not low <= value <= high:
            raise LossyValue(f"{value} is out of range for {kind}")
        return value

    return convert


def _as_float(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise LossyValue(f"{value!r} is not a number") from None


def _as_decimal(precision: int | None, scale: int | None) -> Callable[[Any], Decimal]:
    quantum = Decimal(1).scaleb(-scale) if scale is not None else None

    def convert(value: Any) -> Decimal:
        try:
            number = Decimal(repr(value) if isinstance(value, float) else str(value).strip())
        except InvalidOperation:
            raise LossyValue(f"{value!r} is not a number") from None
        if not number.is_finite():
            raise LossyValue(f"{value!r} is not a finite number")
        if quantum is not None:
            rounded = number.quantize(quantum)
            if rounded != number:
                raise LossyValue(f"{value!r} has more than {scale} decimal places")
            number = rounded
        if precision is not None and number.adjusted() + 1 > precision - (scale or 0):
            raise LossyValue(f"{value!r} does not fit numeric({precision},{scale or 0})")
        return number

    return convert


def _normal_decimal(value: Any) -> str:
    number = value if isinstance(value, Decimal) else Decimal(str(value))
    return format(number.normalize(), "f") if number else "0"


def parse_iso(value: str) -> datetime:
    """ISO 8601 text as SQLite apps write it ('2024-05-01 12:00:00.5', '...T...Z', '+02:00')."""
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise LossyValue(f"{value!r} is not an ISO timestamp") from None


def _timestamp(source: str, aware: bool) -> Callable[[Any], datetime]:
    """`source`: iso | epoch_s | epoch_ms. Naive ISO text is read as UTC (what Django with
    USE_TZ and SQLAlchemy's utcnow() write)."""

    def convert(value: Any) -> datetime:
        if source == "iso":
            if not isinstance(value, str):
                raise LossyValue(f"{value!r} is not ISO text")
            moment = parse_iso(value)
            moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
        else:
            if isinstance(value, str):
                try:
                    value = int(value)
                except ValueError:
                    raise LossyValue(f"{value!r} is not an epoch number") from None
            if not isinstance(value, int | float) or isinstance(value, bool):
                raise LossyValue(f"{value!r} is not an epoch number")
            unit = "milliseconds" if source == "epoch_ms" else "seconds"
            try:
                moment = EPOCH + timedelta(**{unit: value})
            except OverflowError:
                raise LossyValue(f"{value!r} is out of range as epoch {unit}") from None
        moment = moment.astimezone(UTC)
        return moment if aware else moment.replace(tzinfo=None)

    return convert


def _normal_moment(value: Any) -> str:
    if isinstance(value, datetime) and value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.isoformat()


def _as_date(value: Any) -> date:
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip()[:10])
        except ValueError:
            raise LossyValue(f"{value!r} is not an ISO date") from None
    raise LossyValue(f"{value!r} is not an ISO date")


def _as_time(value: Any) -> time:
    try:
        return time.fromisoformat(str(value).strip())
    except ValueError:
        raise LossyValue(f"{value!r} is not an ISO time") from None


class JsonText(str):
    """Validated JSON text, written as it is (binary COPY sends it behind jsonb's version
    byte; see copy.JsonTextDumper) rather than parsed and serialised again."""

    __slots__ = ()


def _as_json(value: Any) -> str:
    text = value.decode() if isinstance(value, bytes) else str(value)
    try:
        orjson.loads(text)
    except orjson.JSONDecodeError:
        raise LossyValue(f"{value!r} is not valid JSON") from None
    if "\\u0000" in text:
        raise LossyValue("JSON with \\u0000, which jsonb cannot store")
    return JsonText(text)


def _normal_json(value: Any) -> str:
    data = json.loads(value) if isinstance(value, str | bytes) else value
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _as_text(max_length: int | None) -> Callable[[Any], str]:
    def convert(value: Any) -> str:
        if (
            type(value) is str
            and (max_length is None or len(value) <= max_length)
            and "\x00" not in value
        ):
            return value
        if isinstance(value, bytes):
            try:
                value = value.decode()
            except UnicodeDecodeError:
                raise LossyValue("bytes that are not UTF-8 text") from None
        text = value if isinstance(value, str) else _plain(value)
        if "\x00" in text:
            raise LossyValue("text with a NUL character, which PostgreSQL cannot store")
        if max_length is not None and len(text) > max_length:
            raise LossyValue(f"{len(text)} characters, longer than varchar({max_length})")
        return text

    return convert


def _as_bytes(value: Any) -> bytes:
    return value if isinstance(value, bytes) else str(value).encode()


def boolean() -> Cast:
    return Cast("boolean", _as_bool, _plain, (boolean, ()))


def integer(kind: str) -> Cast:
    return Cast(kind, _as_int(kind), _plain, (integer, (kind,)))


def floating() -> Cast:
    return Cast("float", _as_float, _plain, (floating, ()))


def decimal(precision: int | None, scale: int | None) -> Cast:
    convert = _as_decimal(precision, scale)
    return Cast("numeric", convert, _normal_decimal, (decimal, (precision, scale)))


def timestamp(source: str, aware: bool = True) -> Cast:
    convert = _timestamp(source, aware)
    return Cast(f"timestamp from {source}", convert, _normal_moment, (timestamp, (source, aware)))


def day() -> Cast:
    return Cast("date", _as_date, _normal_moment, (day, ()))


def clock() -> Cast:
    return Cast("time", _as_time, _normal_moment, (clock, ()))


def jsonb() -> Cast:
    return Cast("json", _as_json, _normal_json, (jsonb, ()))


def text(max_length: int | None = None) -> Cast:
    return Cast("text", _as_text(max_length), _plain, (text, (max_length,)))


def binary() -> Cast:
    return Cast("bytea", _as_bytes, _plain, (binary, ()))


# --- MariaDB/MySQL: the driver already returns Python values (datetime, date, timedelta) ----


def _as_moment(aware: bool) -> Callable[[Any], datetime]:
    """DATETIME is naive (kept as timestamp); TIMESTAMP is read in a UTC session (see
    mysql_source) and stored as timestamptz. A zero or partial date ('0000-00-00 00:00:00',
    '2024-00-10') comes from the driver as text: PostgreSQL has no such date."""

    def convert(value: Any) -> datetime:
        if type(value) is datetime:
            return value.replace(tzinfo=UTC) if aware else value
        raise LossyValue(f"{value!r} is a zero or invalid date, which PostgreSQL cannot store")

    return convert


def _as_day(value: Any) -> date:
    if type(value) is date:
        return value
    raise LossyValue(f"{value!r} is a zero or invalid date, which PostgreSQL cannot store")


def _as_interval(value: Any) -> timedelta:
    if isinstance(value, timedelta):
        return value
    raise LossyValue(f"{value!r} is not a TIME value")


def _as_choice(allowed: frozenset[str]) -> Callable[[Any], str]:
    """ENUM: the '' MySQL stores for an invalid value outside strict mode is not a member."""

    def convert(value: Any) -> str:
        if value in allowed:
            return value
        raise LossyValue(f"{value!r} is not one of the ENUM's values")

    return convert


def _as_bits(kind: str) -> Callable[[Any], Any]:
    def convert(value: Any) -> Any:
        number = int.from_bytes(value, "big") if isinstance(value, bytes) else int(value)
        return _as_bool(number) if kind == "boolean" else _as_int(kind)(number)

    return convert


def moment(aware: bool) -> Cast:
    kind = "timestamptz" if aware else "timestamp"
    return Cast(kind, _as_moment(aware), _normal_moment, (moment, (aware,)))


def calendar_day() -> Cast:
    return Cast("date", _as_day, _normal_moment, (calendar_day, ()))


def interval() -> Cast:
    return Cast("interval", _as_interval, _plain, (interval, ()))


def choice(values: tuple[str, ...]) -> Cast:
    return Cast("enum", _as_choice(frozenset(values)), _plain, (choice, (values,)))


def bits(kind: str) -> Cast:
    """BIT(n): bytes from the driver, as a boolean (BIT(1)) or an integer."""
    return Cast(f"bits to {kind}", _as_bits(kind), _plain, (bits, (kind,)))
