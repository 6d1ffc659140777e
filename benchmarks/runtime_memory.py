"""What the prodready.runtime kit adds to a worker's memory after 100k requests over 1,000 routes.

FastAPI (uvicorn) and Flask (Gunicorn gthread, one worker) apps with 1,000 templated routes
(`/r{n}/items/{item_id}`) are served bare and with the full kit. a client sends requests to
random routes with random item ids (so nearly every raw path is new) in chunks, alternating between
the bare app and the kit, until each has answered `--requests`. The figure is the serving
process's RSS with the kit minus without, in MiB, after the same requests.

The kit's metrics label requests by route template, never by raw path: the run fails if the
kit's /metrics holds more route labels than the app has routes.

    python benchmarks/runtime_memory.py [--requests 100000] [--only fastapi]
"""

from __future__ import annotations

import argparse
import http.client
import random
import re
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from runtime_overhead import KIT, Variant, start, wait_until_up

ROUTES = 1000
CHUNKS = 5
CONNECTIONS = 8
MIB = 1 << 20

APPS = {
    "fastapi": f"""
from fastapi import FastAPI
app = FastAPI()

def handler_for(n):
    async def item(item_id: int):
        return {{"route": n, "id": item_id}}
    return item

for n in range({ROUTES}):
    app.add_api_route(f"/r{{n}}/items/{{{{item_id}}}}", handler_for(n), methods=["GET"])

@app.get("/hello")
async def hello():
    return {{"hello": "world"}}
""",
    "flask": f"""
from flask import Flask
app = Flask(__name__)

def handler_for(n):
    def item(item_id):
        return {{"route": n, "id": item_id}}
    return item

for n in range({ROUTES}):
    app.add_url_rule(f"/r{{n}}/items/<int:item_id>", f"item{{n}}", handler_for(n))

@app.get("/hello")
def hello():
    return {{"hello": "world"}}
""",
}


def rss_bytes(variant: Variant) -> int:
    """VmRSS of the serving process: uvicorn's own, Gunicorn's one worker."""
    assert variant.process is not None
    pid = variant.process.pid
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    serving = int(children[0]) if children else pid
    for line in Path(f"/proc/{serving}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise SystemExit(f"no VmRSS for {variant.name}")


def send(variant: Variant, requests: int, seed: int) -> None:
    """`requests` GETs of random routes and item ids, over CONNECTIONS kept-alive connections.

    A plain client in threads: wrk cannot stop after a count (its threads stop, the run goes
    on to its full duration), and the client's speed does not matter for a memory figure.
    """
    host, port = variant.url.split("/")[2].rsplit(":", 1)

    def one_connection(index: int) -> None:
        rng = random.Random(seed * CONNECTIONS + index)
        connection = http.client.HTTPConnection(host, int(port), timeout=60)
        try:
            for _ in range(requests // CONNECTIONS):
                route, item = rng.randrange(ROUTES), rng.randrange(1, 1_000_000_000)
                connection.request("GET", f"/r{route}/items/{item}")
                response = connection.getresponse()
                response.read()
                if response.status != 200:
                    raise SystemExit(f"{variant.name} answered {response.status}")
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=CONNECTIONS) as pool:
        list(pool.map(one_connection, range(CONNECTIONS)))


def route_labels(variant: Variant) -> set[str]:
    import urllib.request

    base = variant.url.rsplit("/", 1)[0]
    with urllib.request.urlopen(base + "/metrics", timeout=30) as response:
        text = response.read().decode()
    return set(re.findall(r'http_requests_total\{[^}]*route="([^"]*)"', text))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--only", help="comma-separated frameworks: fastapi,flask")
    args = parser.parse_args()
    frameworks = [f for f in APPS if f in (args.only or "fastapi,flask").split(",")]
    added: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="prodready-mem-") as tmp:
        directory = Path(tmp)
        for framework in frameworks:
            pair = [
                Variant(f"mem_{framework}_bare", framework),
                Variant(f"mem_{framework}_kit", framework),
            ]
            try:
                for variant, extra in zip(pair, ("", KIT), strict=True):
                    (directory / f"{variant.name}.py").write_text(APPS[framework] + extra)
                    start(directory, variant)
                for variant in pair:
                    wait_until_up(variant)
                chunk = args.requests // CHUNKS
                for number in range(CHUNKS):
                    for variant in pair:
                        send(variant, chunk, seed=number)
                bare, kit = (rss_bytes(variant) for variant in pair)
                labels = route_labels(pair[1])
            finally:
                for variant in pair:
                    if variant.process is not None:
                        variant.process.terminate()
                        variant.process.wait(timeout=30)
            templated = all("item_id" in label or label == "/hello" for label in labels)
            if len(labels) > ROUTES + 1 or not templated:
                raise SystemExit(
                    f"{framework}: raw paths became route labels: {sorted(labels)[:5]}"
                )
            added[framework] = (kit - bare) / MIB
            print(f"{framework}: bare {bare / MIB:.1f} MiB, kit {kit / MIB:.1f} MiB after "
                  f"{chunk * CHUNKS} requests each; {len(labels)} route labels")  # fmt: skip
    headline = [f"{fw}_kit_rss_mib_after_100k={mib:.2f}" for fw, mib in added.items()]
    headline.append(f"kit_rss_mib_after_100k={max(added.values()):.2f}")
    print(f"routes={ROUTES} requests={args.requests}")
    print(" ".join(headline))


if __name__ == "__main__":
    main()
