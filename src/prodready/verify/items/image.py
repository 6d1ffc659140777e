"""image: the Dockerfile in use passes hadolint, the systemd unit in use is hardened (its
`systemd-analyze security` exposure), and the image's size when a Docker engine can build it.

"In use" is the app's own production file (the Project's environment facts decide); an app
without one gets what `prodready init` would write, rendered into the work directory, never
into the user's tree. A tool that is not installed skips its sub-claim, it never passes it."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from prodready.generate import validate
from prodready.generate.context import DeployContext, Options, build_context
from prodready.generate.dockerfile import render_dockerfile
from prodready.generate.nginxtarget import nginx_target
from prodready.generate.systemd import default_app_dir, render_unit
from prodready.verify.model import ItemResult, Status
from prodready.verify.stage import Stage

TITLE = "image and unit"
HADOLINT_FINDING = re.compile(r"\b(?P<code>DL\d{4}|SC\d{4}) (?P<level>error|warning|info|style):")
EXPOSURE_FAIL = 7.5
"""systemd-analyze calls 7.5 and above EXPOSED (9.0 UNSAFE): a unit without real sandboxing,
where a compromised app can reach most of the host. Between the generated unit's score and
this, the unit works but is weaker than what `prodready init` writes: a warning."""
COPY_IGNORED = (".git", ".venv", "venv", "node_modules", "__pycache__")
DOCKER_BUILD_TIMEOUT = 900
"""A first build downloads the base image and the dependencies."""


@dataclass
class SubClaim:
    status: Status
    short: str
    """A few words for the item's one-line summary."""
    details: list[str] = field(default_factory=list)


def verify(stage: Stage) -> ItemResult:
    project = stage.project
    ctx = build_context(project, Options(app=stage.app_from_root), nginx_target(None, None))
    folder = stage.work / "image"
    folder.mkdir(exist_ok=True)
    measures: dict[str, int | float | str | bool] = {}
    dockerfile, dockerfile_from = _dockerfile_in_use(stage, ctx, folder)
    measures["dockerfile"] = dockerfile_from
    claims = [
        hadolint_claim(dockerfile, dockerfile_from, measures),
        _unit(stage, ctx, folder, measures),
        _image_size(stage.root, dockerfile, stage.work.name.lower(), measures),
    ]
    details = [line for claim in claims for line in claim.details]
    summary = ", ".join(claim.short for claim in claims)
    statuses = {claim.status for claim in claims}
    if statuses == {Status.SKIPPED}:
        return ItemResult.skipped("image", TITLE, summary, measures=measures, details=details)
    if Status.FAIL in statuses:
        return ItemResult.failed("image", TITLE, summary, measures=measures, details=details)
    if Status.WARN in statuses:
        return ItemResult.warned("image", TITLE, summary, measures=measures, details=details)
    return ItemResult.passed("image", TITLE, summary, measures=measures, details=details)


def _dockerfile_in_use(stage: Stage, ctx: DeployContext, folder: Path) -> tuple[Path, str]:
    """The app's production Dockerfile (the root one first), else the generated one."""
    project = stage.project
    own = [d.rel for d in project.dockerfiles if project.env_of(d.rel).production]
    if own:
        rel = min(own, key=lambda r: (r.count("/"), r))
        return stage.root / rel, rel
    for rendered in render_dockerfile(ctx):  # with .dockerignore and the server requirements
        (folder / rendered.rel).write_text(rendered.text)
    return folder / "Dockerfile", "generated"


def hadolint_claim(
    dockerfile: Path, origin: str, measures: dict[str, int | float | str | bool]
) -> SubClaim:
    """Errors and warnings fail; only info and style findings (consecutive RUNs, a user by
    name) warn: the image works, it is just not what hadolint accepts cleanly."""
    checked = validate.check_hadolint(dockerfile)
    name = "the generated Dockerfile" if origin == "generated" else origin
    if checked.skipped:
        return SubClaim(Status.SKIPPED, "hadolint skipped", ["hadolint is not installed"])
    lines = [line.strip() for line in checked.output.splitlines() if line.strip()]
    findings = [(line, match) for line in lines if (match := HADOLINT_FINDING.search(line))]
    measures["hadolint_findings"] = len(findings)
    if checked.ok and not lines:
        return SubClaim(Status.PASS, "hadolint clean", [f"hadolint: 0 findings in {name}"])
    listed = [_relative(line, dockerfile, origin) for line in lines[:20]]
    if not findings:  # not a Dockerfile hadolint can parse
        return SubClaim(Status.FAIL, "hadolint refused it", [f"hadolint on {name}:", *listed])
    codes = sorted(dict.fromkeys(match["code"] for _, match in findings))
    shown = " ".join(codes[:3]) + (" ..." if len(codes) > 3 else "")
    serious = sum(match["level"] in ("error", "warning") for _, match in findings)
    measures["hadolint_errors_warnings"] = serious
    plural = "s" if len(findings) > 1 else ""
    return SubClaim(
        Status.FAIL if serious else Status.WARN,
        f"hadolint {len(findings)} ({shown})",
        [f"hadolint: {len(findings)} finding{plural} in {name}", *listed],
    )


def _relative(line: str, dockerfile: Path, origin: str) -> str:
    """hadolint names the file by the path it was given: show the project's name for it."""
    return line.replace(str(dockerfile), "Dockerfile" if origin == "generated" else origin)


def _unit(
    stage: Stage, ctx: DeployContext, folder: Path, measures: dict[str, int | float | str | bool]
) -> SubClaim:
    if not validate.find_tool("systemd-analyze"):
        return SubClaim(Status.SKIPPED, "unit skipped", ["systemd-analyze is not installed"])
    generated = folder / f"{ctx.name}.service"
    generated.write_text(render_unit(ctx, default_app_dir(ctx)))
    reference = _exposure(generated)
    project = stage.project
    own = [
        u.rel
        for u in project.systemd_units
        if project.env_of(u.rel).production
        and not u.rel.endswith(("-worker.service", "-backup.service"))
    ]
    if not own:
        measures["unit"] = "generated"
        problems = [c for c in validate.check_systemd(ctx, generated) if not c.ok]
        if reference is not None:
            measures["exposure"] = reference
        if problems:
            return SubClaim(
                Status.FAIL,
                "generated unit refused",
                [f"{c.tool} {c.file}: {c.output.strip()[:300]}" for c in problems],
            )
        return SubClaim(
            Status.PASS,
            f"exposure {reference}",
            [f"systemd-analyze security: exposure {reference} for the generated unit"],
        )
    rel = min(own)
    measures["unit"] = rel
    score = _exposure(stage.root / rel)
    if score is None:
        return SubClaim(Status.FAIL, "unit unscored", [f"systemd-analyze security refused {rel}"])
    measures["exposure"] = score
    line = f"systemd-analyze security: exposure {score} for {rel}"
    if reference is not None:
        measures["generated_exposure"] = reference
        line += f" (the generated unit: {reference})"
    if score >= EXPOSURE_FAIL:
        why = f"{score} is EXPOSED or UNSAFE in systemd-analyze's scale (>= {EXPOSURE_FAIL})"
        return SubClaim(Status.FAIL, f"exposure {score} >= {EXPOSURE_FAIL}", [line, why])
    if reference is not None and score > reference:
        return SubClaim(Status.WARN, f"exposure {score} > {reference}", [line])
    return SubClaim(Status.PASS, f"exposure {score}", [line])


def _exposure(unit: Path) -> float | None:
    analyze = validate.find_tool("systemd-analyze")
    assert analyze is not None
    result = validate.run([analyze, "security", "--offline=true", str(unit)])
    return validate.exposure_score(result.stdout)


def _image_size(
    root: Path, dockerfile: Path, tag: str, measures: dict[str, int | float | str | bool]
) -> SubClaim:
    docker = validate.find_tool("docker")
    if not docker or validate.run([docker, "info"]).returncode != 0:
        return SubClaim(Status.SKIPPED, "no docker engine", ["image size: no Docker engine here"])
    context = root
    if not dockerfile.is_relative_to(root):
        context = _generated_context(root, dockerfile.parent)
    try:
        built = subprocess.run(
            [docker, "build", "--quiet", "--tag", tag, "--file", str(dockerfile), str(context)],
            capture_output=True, text=True, timeout=DOCKER_BUILD_TIMEOUT, check=False,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        return SubClaim(Status.FAIL, "docker build timed out", [f"over {DOCKER_BUILD_TIMEOUT} s"])
    try:
        if built.returncode != 0:
            tail = built.stderr.strip().splitlines()[-5:]
            return SubClaim(Status.FAIL, "docker build failed", ["docker build:", *tail])
        inspected = validate.run([docker, "image", "inspect", "--format", "{{.Size}}", tag])
        size_mb = round(int(inspected.stdout.strip()) / 1e6, 1)
    finally:
        validate.run([docker, "image", "rm", "--force", tag])
    measures["image_mb"] = size_mb
    return SubClaim(Status.PASS, f"image {size_mb} MB", [f"docker build: image of {size_mb} MB"])


def _generated_context(root: Path, generated: Path) -> Path:
    """The app's files with the generated ones beside them (the user's tree is not written)."""
    context = generated / "context"
    shutil.copytree(root, context, ignore=shutil.ignore_patterns(*COPY_IGNORED))
    for path in generated.iterdir():
        if path.is_file():
            shutil.copy2(path, context / path.name)
    return context
