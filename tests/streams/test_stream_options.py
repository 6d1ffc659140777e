"""Bad stream options stop start-up with one line and a hint, like the rest of the kit."""

from __future__ import annotations

import pytest

from prodready.errors import UserError
from prodready.runtime.streams import Stream


@pytest.mark.parametrize(
    ("options", "message", "hint"),
    [
        ({"heartbeat": 0}, "stream 'reports': heartbeat must be above 0 s, got 0", "15 s"),
        ({"broker": "amqp://x"}, "unknown stream broker 'amqp://x'", "redis://"),
        ({"slow_client": "wait"}, "slow_client must be 'drop' or 'keep', got 'wait'", "reconnect"),
    ],
)
def test_bad_options_are_user_errors(options: dict, message: str, hint: str) -> None:
    with pytest.raises(UserError) as raised:
        Stream("reports", **options)
    assert message in str(raised.value)
    assert hint in raised.value.hint


def test_memory_publish_gives_growing_ids_and_json_data() -> None:
    stream = Stream("reports")
    first = stream.publish("t", {"n": 1}, event="progress")
    second = stream.publish("t", "plain text")
    assert [int(part) for part in first.split("-")] < [int(part) for part in second.split("-")]
    events = stream.broker.read(stream.channel("t"), "0-0", 0)
    assert [(e.event, e.data) for e in events] == [
        ("progress", '{"n":1}'),
        ("message", "plain text"),
    ]
