"""The scorecard as JUnit XML, the format CI servers (GitLab, Jenkins, GitHub actions' test
reporters) read: one testsuite "prodready verify", one testcase per item.

A failed item is a <failure> (its summary the message, its details and log the text), a
skipped one <skipped message=why>, a warning passes (JUnit has no warning) with a `status`
property saying warn and its summary in <system-out>. Each item's measures are its
<properties>, its seconds the testcase's time.
"""

from __future__ import annotations

import re
import socket
import xml.etree.ElementTree as ET
from pathlib import Path

from prodready import __version__
from prodready.load.report import write_text
from prodready.verify.model import ItemResult, Scorecard, Status

SUITE = "prodready verify"
CLASSNAME = "prodready.verify"

# XML 1.0 cannot carry most control characters (even escaped); an app's log can hold them
# (ANSI colours, a stray NUL), and one would make the whole file unreadable to the CI server.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml_text(text: str) -> str:
    return _NOT_XML.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def _value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return _xml_text(str(value))


def _evidence(item: ItemResult, *, with_summary: bool) -> str:
    lines = [item.summary] if with_summary else []
    lines += item.details
    if item.log:
        lines += ["log:", item.log.rstrip()]
    return _xml_text("\n".join(lines))


def _properties(parent: ET.Element, values: dict[str, str]) -> None:
    properties = ET.SubElement(parent, "properties")
    for name, value in values.items():
        ET.SubElement(properties, "property", name=_xml_text(name), value=value)


def _testcase(suite: ET.Element, item: ItemResult) -> None:
    case = ET.SubElement(
        suite,
        "testcase",
        classname=CLASSNAME,
        name=_xml_text(item.title),
        time=f"{item.seconds:.3f}",
    )
    values = {"id": item.id, "status": item.status.value}
    values |= {name: _value(value) for name, value in item.measures.items()}
    _properties(case, values)
    if item.status is Status.FAIL:
        failure = ET.SubElement(case, "failure", message=_xml_text(item.summary), type="fail")
        failure.text = _evidence(item, with_summary=False)
        return
    if item.status is Status.SKIPPED:
        ET.SubElement(case, "skipped", message=_xml_text(item.summary))
    # A skipped item's summary is already its message.
    output = _evidence(item, with_summary=item.status is not Status.SKIPPED)
    if output:
        ET.SubElement(case, "system-out").text = output


def to_junit(card: Scorecard) -> ET.Element:
    """The <testsuites> element holding the one suite."""
    counts = {
        "tests": str(len(card.items)),
        "failures": str(card.count(Status.FAIL)),
        "errors": "0",
        "skipped": str(card.count(Status.SKIPPED)),
        "time": f"{card.seconds:.3f}",
    }
    root = ET.Element("testsuites", name=SUITE, **counts)
    suite = ET.SubElement(
        root,
        "testsuite",
        name=SUITE,
        **counts,
        # The schema's timestamp has no zone; started_at is UTC.
        timestamp=card.started_at.removesuffix("+00:00"),
        hostname=socket.gethostname(),
    )
    _properties(
        suite,
        {"app": _xml_text(card.app), "root": _xml_text(card.root), "prodready": __version__},
    )
    for item in card.items:
        _testcase(suite, item)
    ET.SubElement(suite, "system-out").text = _xml_text("\n".join(card.boot))
    ET.indent(root)
    return root


def write_junit(card: Scorecard, path: Path) -> None:
    text = ET.tostring(to_junit(card), encoding="unicode", xml_declaration=True)
    write_text(str(path), text + "\n")
