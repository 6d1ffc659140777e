"""Hypothesis strategies that mutate real files into hostile ones, for the parser fuzzing.

A mutation is a short list of byte edits (insert, delete, replace, duplicate, truncate) at drawn
positions, with tokens that matter to the parsers prodready reads: brackets and quotes that open
nesting, YAML anchors and aliases, nginx braces, TOML tables, line endings, NUL, a BOM and bytes
that are not UTF-8. Counts are mostly 1 and sometimes thousands, so deep nesting and long lines
are reached without making every example slow.
"""

from __future__ import annotations

from hypothesis import strategies as st

TOKENS = tuple(
    token.encode() if isinstance(token, str) else token
    for token in (
        "{", "}", "[", "]", "(", ")", ";", ":", "=", ",", '"', "'", "\\", "`",
        "\n", "\r\n", "\r", "\t", " ", "\x00", "#", "$", "${", "$(", "%", "@",
        "&a ", "*a", "<<: *a\n", "- ", "---\n", "...", "!!python/object ", "? ",
        "FROM ", "RUN ", "CMD [", "HEALTHCHECK ", "ARG ", "\\\n",
        "server {", "location / {", "include ", "upstream ", "proxy_pass ", "listen ",
        "[tool.prodready]\n", "[project]\n", "[[", "]]", "dependencies = [",
        "services:\n", "  web:\n", "image: ", "ports:\n", "environment:\n",
        "[Service]\n", "ExecStart=", "User=",
        "def f(", "lambda: ", "import ", "from . import ", "async ", "f'{", "app = Flask(",
        "gunicorn ", "app:app", "--workers ", "0", "-1", "99999999999999999999", "1e400",
        "nan", "é", "🚀", b"\xff\xfe", b"\xef\xbb\xbf", b"\xed\xa0\x80", b"\xc3",
    )
)  # fmt: skip

_COUNT = st.one_of(st.just(1), st.just(1), st.integers(2, 64), st.integers(500, 4000))
_TOKEN = st.one_of(st.sampled_from(TOKENS), st.binary(min_size=1, max_size=12))
_EDIT = st.tuples(
    st.sampled_from(("insert", "delete", "replace", "duplicate", "truncate")),
    st.floats(0, 1),  # where, as a fraction of the length
    st.integers(1, 200),  # how many bytes a delete, replace or duplicate spans
    _TOKEN,
    _COUNT,
)


def apply_edits(data: bytes, edits: list[tuple[str, float, int, bytes, int]]) -> bytes:
    for operation, where, span, token, count in edits:
        at = int(where * len(data))
        if operation == "insert":
            data = data[:at] + token * count + data[at:]
        elif operation == "delete":
            data = data[:at] + data[at + span :]
        elif operation == "replace":
            data = data[:at] + token * count + data[at + span :]
        elif operation == "duplicate":
            data = data[:at] + data[at : at + span] * min(count, 500) + data[at:]
        else:
            data = data[:at]
    return data


@st.composite
def mutated(draw: st.DrawFn, seed: bytes) -> bytes:
    """`seed` after one to six edits."""
    return apply_edits(seed, draw(st.lists(_EDIT, min_size=1, max_size=6)))


def hostile_text() -> st.SearchStrategy[str]:
    """Short strings for option values: random text, or tokens that parsers trip on."""
    tokens = st.sampled_from([t.decode("utf-8", "surrogateescape") for t in TOKENS])
    return st.one_of(
        st.text(max_size=40),
        st.lists(st.one_of(tokens, st.text(max_size=4)), max_size=8).map("".join),
    )
