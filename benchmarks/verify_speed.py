"""How long does `prodready verify` take on the riskapi example, in full and with --quick?

Issue 19's target: the full scorecard on riskapi in at most 90 s on this machine, with progress
per item. `within_target` asks it of the example and of its fixed variant, whose every item
runs to the end (deploys, drain windows) where the original fails early. Runs each variant
`--rounds` times (full and quick interleaved, the original and the fixed variant of the
example), reports each median and the slowest items of the last full run; the last line holds
the headline figures as name=value pairs.

    .venv/bin/python benchmarks/verify_speed.py [--rounds 1] [--database-url URL]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.verify.variants import example_copy

TARGET_S = 90.0


def timed_verify(app: Path, database_url: str, *extra: str) -> tuple[float, dict]:
    began = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "prodready.cli.main", "verify", str(app), "--json",
         "--database-url", database_url, *extra],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    seconds = time.monotonic() - began
    if result.returncode == 2:
        raise SystemExit(f"verify could not run: {result.stderr.strip()}")
    return seconds, json.loads(result.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    times: dict[str, list[float]] = {"full": [], "quick": [], "fixed_full": []}
    last_full: dict = {}
    with tempfile.TemporaryDirectory(prefix="verify-bench-") as tmp:
        original = example_copy("riskapi", Path(tmp) / "original")
        fixed = example_copy("riskapi", Path(tmp) / "fixed", fixed=True)
        for round_number in range(1, args.rounds + 1):
            seconds, last_full = timed_verify(original, args.database_url)
            times["full"].append(seconds)
            times["quick"].append(timed_verify(original, args.database_url, "--quick")[0])
            times["fixed_full"].append(timed_verify(fixed, args.database_url)[0])
            print(
                f"round {round_number}: full {times['full'][-1]:.1f} s, quick "
                f"{times['quick'][-1]:.1f} s, fixed full {times['fixed_full'][-1]:.1f} s",
                flush=True,
            )
    slowest = sorted(last_full["items"], key=lambda i: -i["seconds"])[:5]
    print("slowest items of the last full run: " + ", ".join(
        f"{i['id']} {i['seconds']:.1f} s" for i in slowest))  # fmt: skip
    full, quick, fixed_full = (statistics.median(times[k]) for k in ("full", "quick", "fixed_full"))
    print(
        f"riskapi_verify_s={full:.1f} riskapi_quick_s={quick:.1f} fixed_verify_s={fixed_full:.1f} "
        f"target_s={TARGET_S:.0f} within_target={str(max(full, fixed_full) <= TARGET_S).lower()}"
    )


if __name__ == "__main__":
    main()
