"""Dockerfiles through dockerfile-parse, split into build stages."""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass, field

from dockerfile_parse import DockerfileParser

from prodready.project.parsers.commands import port_number, shell_words

FLAG = re.compile(r"^--([\w-]+)(?:=(\S*))?$")
HEREDOC_START = re.compile(r"^\s*(RUN|COPY|ADD)\b.*<<", re.IGNORECASE)
HEREDOC_MARKER = re.compile(r"<<-?\s*([\"']?)([A-Za-z_]\w*)\1")


@dataclass(frozen=True)
class Instruction:
    keyword: str  # upper case: FROM, RUN, COPY, CMD ...
    value: str  # continuation lines joined
    line: int  # 1-based
    end_line: int
    original: str
    flags: dict[str, str] = field(default_factory=dict)
    args: tuple[str, ...] = ()
    """Arguments after the flags (shell-split), or the JSON array items in exec form."""
    exec_form: bool = False


@dataclass
class Stage:
    index: int
    base: str
    alias: str | None
    line: int
    instructions: list[Instruction] = field(default_factory=list)
    final: bool = False

    def all(self, keyword: str) -> list[Instruction]:
        return [i for i in self.instructions if i.keyword == keyword]

    def last(self, keyword: str) -> Instruction | None:
        found = self.all(keyword)
        return found[-1] if found else None

    @property
    def base_name(self) -> str:
        """`python:3.12-slim@sha256:...` -> `python`; registry prefix kept."""
        return (
            self.base.split("@")[0].rsplit(":", 1)[0]
            if ":" in self.base.split("/")[-1]
            else (self.base.split("@")[0])
        )

    @property
    def base_tag(self) -> str | None:
        image = self.base.split("@")[0]
        last = image.split("/")[-1]
        return last.split(":", 1)[1] if ":" in last else None


@dataclass
class Dockerfile:
    rel: str
    stages: list[Stage]
    lines: list[str]
    global_args: list[Instruction] = field(default_factory=list)
    target: str | None = None
    """The stage production builds (compose `build.target`), set by project.environments;
    None builds the last stage, as `docker build` does."""

    @property
    def final(self) -> Stage | None:
        """The last stage of the file."""
        return self.stages[-1] if self.stages else None

    @property
    def built(self) -> Stage | None:
        """The stage production builds: the `target`, else the last one."""
        return (self.stage_named(self.target) if self.target else None) or self.final

    def exposed_ports(self) -> list[tuple[int, Instruction]]:
        """The ports the built stage EXPOSEs (a `${VAR:-port}` by its default), each with its
        instruction."""
        stage = self.built
        return [
            (port, inst)
            for inst in (stage.all("EXPOSE") if stage else [])
            for word in inst.args
            if (port := port_number(word.split("/")[0]))
        ]

    def stage_named(self, name: str) -> Stage | None:
        return next((s for s in self.stages if s.alias == name or str(s.index) == name), None)

    def lineage(self, stage: Stage) -> list[Stage]:
        """The stage and the earlier stages it is built `FROM`, oldest first: together they
        make the filesystem and the settings of the image `stage` produces."""
        chain = [stage]
        while True:
            parent = self.stage_named(chain[0].base)
            if parent is None or parent.index >= chain[0].index or parent in chain:
                return chain
            chain.insert(0, parent)

    def launch_argv(self) -> tuple[list[str], Instruction] | None:
        """The built stage's ENTRYPOINT + CMD as one argv (shell form wrapped in `sh -c`)."""
        stage = self.built
        if stage is None:
            return None
        entry, cmd = stage.last("ENTRYPOINT"), stage.last("CMD")
        if entry is None and cmd is None:
            return None
        argv: list[str] = []
        for inst in (entry, cmd):
            if inst is None:
                continue
            argv.extend(inst.args if inst.exec_form else ["/bin/sh", "-c", inst.value])
            if inst is entry and not inst.exec_form:
                break  # shell-form ENTRYPOINT ignores CMD
        return argv, (cmd or entry)  # type: ignore[return-value]


def built_lineage(dockerfile: Dockerfile) -> list[Stage]:
    """The lineage of the stage production builds: what the running image is made of."""
    built = dockerfile.built
    return dockerfile.lineage(built) if built else []


def instructions(stages: list[Stage], *keywords: str) -> list[Instruction]:
    return [i for stage in stages for i in stage.instructions if i.keyword in keywords]


def last_instruction(stages: list[Stage], keyword: str) -> Instruction | None:
    """The instruction that takes effect (the last one) among the stages, e.g. the CMD."""
    found = instructions(stages, keyword)
    return found[-1] if found else None


def parse(rel: str, text: str) -> Dockerfile:
    folded = fold_heredocs(text)
    parser = DockerfileParser(fileobj=io.BytesIO(folded.encode("utf-8")))
    parser.content = folded
    stages: list[Stage] = []
    global_args: list[Instruction] = []
    for item in parser.structure:
        keyword = item["instruction"].upper()
        if keyword == "COMMENT":
            continue
        inst = _instruction(keyword, item)
        if keyword == "FROM":
            base, alias = _from(inst)
            stages.append(Stage(len(stages), base, alias, inst.line, [inst]))
        elif stages:
            stages[-1].instructions.append(inst)
        elif keyword == "ARG":
            global_args.append(inst)
    if stages:
        stages[-1].final = True
    return Dockerfile(rel, stages, text.splitlines(), global_args)


def fold_heredocs(text: str) -> str:
    """dockerfile-parse does not know BuildKit heredocs (`RUN <<EOF` ... `EOF`): it reads each
    line of the body as an instruction. A RUN body is folded into the RUN as continuation lines
    (commands joined with `;`), a COPY/ADD body (file content) becomes comment lines, and the
    terminator a comment; every line keeps its number."""
    lines = text.split("\n")
    index = 0
    while index < len(lines):
        start = HEREDOC_START.match(lines[index])
        markers = [m[2] for m in HEREDOC_MARKER.finditer(lines[index])] if start else []
        body_start, ends = index + 1, []
        for marker in markers:
            end = next(
                (i for i in range(body_start, len(lines)) if lines[i].strip() == marker), None
            )
            if end is None:
                break
            ends.append(end)
            body_start = end + 1
        if not ends:
            index += 1
            continue
        run = start is not None and start[1].upper() == "RUN"
        body = [i for i in range(index + 1, ends[-1]) if i not in ends]
        for i in ends:
            lines[i] = "# " + lines[i]
        for i in body:
            if not run:
                lines[i] = "# " + lines[i]
            elif i != body[-1] and not lines[i].rstrip().endswith("\\"):
                lines[i] = lines[i] + " ; \\"
        if run and body:
            lines[index] = lines[index] + " \\"
        index = ends[-1] + 1
    return "\n".join(lines)


def _instruction(keyword: str, item: dict[str, object]) -> Instruction:
    value = str(item["value"])
    flags: dict[str, str] = {}
    exec_form = False
    args: list[str] = []
    stripped = value.strip()
    if keyword in (
        "CMD",
        "ENTRYPOINT",
        "RUN",
        "SHELL",
        "COPY",
        "ADD",
        "VOLUME",
    ) and stripped.startswith("["):
        try:
            loaded = json.loads(stripped)
            if isinstance(loaded, list) and all(isinstance(x, str) for x in loaded):
                args, exec_form = loaded, True
        except json.JSONDecodeError:
            pass
    if not exec_form:
        words = shell_words(value)
        while words and (match := FLAG.match(words[0])):
            name, given = match.group(1).lower(), match.group(2) or ""
            flags[name] = f"{flags[name]} {given}" if name in flags else given  # --mount twice
            words.pop(0)
        args = words
    return Instruction(
        keyword=keyword,
        value=value,
        line=int(item["startline"]) + 1,  # type: ignore[call-overload]
        end_line=int(item["endline"]) + 1,
        original=str(item["content"]),  # type: ignore[call-overload]
        flags=flags,
        args=tuple(args),
        exec_form=exec_form,
    )


def _from(inst: Instruction) -> tuple[str, str | None]:
    words = list(inst.args)
    if not words:
        return "", None
    alias = words[2] if len(words) >= 3 and words[1].lower() == "as" else None
    return words[0], alias
