"""Load benchmark of the scoring server on loopback: dynamic batching vs one request per forward.

    python benchmarks/bench_serve.py --out benchmarks/results/serve.json --markdown benchmarks/results/serve.md

Starts real server processes on 127.0.0.1 ephemeral ports, one at a time (they would share
the CPU otherwise): the batched server (``ServeConfig()`` defaults) and a baseline that is the
same app and model with batching off (each forward holds one request). At each concurrency
level (1, 8, 32, 64 closed-loop clients) it sends a bounded number of requests, stopping
early at a time cap, and records throughput (responses/s), p50/p99 latency and errors. It
also times offline ``RewardModel.score`` over the same inputs (the ceiling), and ends with an
overload phase: many more clients than the batched server's ``max_queue`` admits, without
retries, to show clean 503s, no other errors, a live server afterwards and bounded RSS.

The default model is the real MiniLM backbone (``resolve_backbone("default")``) made into a
reward model directory (random head; speed does not depend on the head). Only loopback is
ever contacted; every loop is bounded in count and time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

GOAL_SPEEDUP, GOAL_OFFLINE = 3.0, 0.8


# ------------------------------------------------------------------------------- the server process
def _child(model_dir: str, batching: bool, overrides: list[str]) -> None:
    """Run one server (in a subprocess): print its URL, serve until stdin closes."""
    from rewardlab.config import load_config
    from rewardlab.serve import BackgroundServer, ServeConfig, create_app

    cfg = load_config(ServeConfig, None, [*overrides, "port=0", f"batching={str(batching).lower()}"])
    with BackgroundServer(create_app(model_dir, cfg, environ={}, wait_for_model=True), cfg) as server:
        print(server.url, flush=True)
        sys.stdin.read()  # the parent closes stdin to stop us (graceful: in-flight work finishes)


class ServerProcess:
    """A server subprocess; ``rss_mb`` samples its resident memory."""

    def __init__(self, model_dir: str, *, batching: bool, overrides: list[str]) -> None:
        cmd = [sys.executable, __file__, "--_child", model_dir, "--_batching", str(int(batching)),
               *[a for o in overrides for a in ("--set", o)]]
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().strip()
        if not line.startswith("http://127.0.0.1:"):
            self.stop()
            raise SystemExit(f"the server did not start (got {line!r})")
        self.url = line

    def rss_mb(self) -> float:
        import psutil

        return float(psutil.Process(self.proc.pid).memory_info().rss) / 2**20

    def stop(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()


# ------------------------------------------------------------------------------- the load generator
class _Connection:
    """A minimal keep-alive HTTP/1.1 client over asyncio streams.

    A full client library spends more CPU per request than the server does; on a small machine
    that would measure the load generator, not the server.
    """

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, payload: bytes) -> int:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        head = (f"POST {path} HTTP/1.1\r\nHost: {self.host}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(payload)}\r\n\r\n").encode()
        self.writer.write(head + payload)
        await self.writer.drain()
        status_line = await self.reader.readline()
        if not status_line:
            raise ConnectionError("the server closed the connection")
        length, close = 0, False
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            if name.lower() == "content-length":
                length = int(value)
            elif name.lower() == "connection" and "close" in value.lower():
                close = True
        await self.reader.readexactly(length)
        if close:
            await self.aclose()
        return int(status_line.split()[1])

    async def aclose(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer, self.reader = None, None


async def _load(url: str, bodies: list[dict[str, Any]], concurrency: int, time_cap: float) -> dict[str, Any]:
    """Closed loop: ``concurrency`` clients, each sending the next body when its last one is answered."""
    host, port = url.removeprefix("http://").rsplit(":", 1)
    payloads = [json.dumps(b).encode() for b in bodies]
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    sent = 0
    deadline = time.perf_counter() + time_cap

    async def worker() -> None:
        nonlocal sent
        conn = _Connection(host, int(port))
        while sent < len(payloads) and time.perf_counter() < deadline:
            payload = payloads[sent]
            sent += 1
            t0 = time.perf_counter()
            try:
                key = str(await conn.post("/v1/score", payload))
            except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                key = type(exc).__name__
                await conn.aclose()
            statuses[key] = statuses.get(key, 0) + 1
            if key == "200":
                latencies.append(time.perf_counter() - t0)
        await conn.aclose()

    cpu0, t0 = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    wall, client_cpu = time.perf_counter() - t0, time.process_time() - cpu0
    per_request = len(bodies[0]["responses"])
    ok = statuses.get("200", 0)
    lat = sorted(latencies) or [float("nan")]
    return {"concurrency": concurrency, "requests": sum(statuses.values()), "ok": ok,
            "errors": sum(statuses.values()) - ok, "statuses": statuses, "seconds": wall,
            "responses_per_s": ok * per_request / wall, "p50_ms": 1000 * statistics.median(lat),
            "p99_ms": 1000 * lat[min(len(lat) - 1, int(0.99 * len(lat)))],
            "client_cpu_share": client_cpu / wall / (os.cpu_count() or 1)}


def _bodies(n: int, per_request: int, workload: str, seed: int = 0) -> list[dict[str, Any]]:
    """Synthetic-world prompts and responses; ``short`` keeps the first 8 words of each."""
    from rewardlab.synth import SynthConfig, generate_world

    world = generate_world(SynthConfig(n_prompts=max(50, n // 2), seed=seed))

    def cut(text: str) -> str:
        return " ".join(text.split()[:8]) if workload == "short" else text

    pairs = [(cut(c.prompt if isinstance(c.prompt, str) else c.prompt[-1].content), cut(r))
             for c in world.comparisons() for r in (c.chosen, c.rejected)]
    return [{"prompt": pairs[k % len(pairs)][0],
             "responses": [pairs[(k + j) % len(pairs)][1] for j in range(per_request)]} for k in range(n)]


def _levels(server: ServerProcess, bodies: list[dict[str, Any]], args: argparse.Namespace) -> list[dict[str, Any]]:
    rows = []
    asyncio.run(_load(server.url, bodies[:8], 2, 30))  # warm up
    for c in args.concurrency:
        n = min(len(bodies), max(args.requests, 4 * c))
        row = asyncio.run(_load(server.url, bodies[:n], c, args.time_cap))
        row["rss_mb"] = server.rss_mb()
        print(json.dumps(row), flush=True)
        rows.append(row)
    return rows


def _offline(model_dir: str, bodies: list[dict[str, Any]], batch_sizes: tuple[int, ...],
             overrides: list[str]) -> dict[str, Any]:
    """``RewardModel.score`` on the same inputs in this process (sorted by length, the best batch size),
    at the precision and on the device the servers resolve from the same config, with the same
    bf16 weights (as ``rewardlab score`` loads a model at bf16)."""
    import torch

    from rewardlab.config import load_config
    from rewardlab.models.precision import resolve_precision, store_bf16_weights
    from rewardlab.serve import ServeConfig
    from rewardlab.serve.backend import resolve_device
    from rewardlab.serve.runtime import load_for_serving

    cfg = load_config(ServeConfig, None, overrides)
    device = resolve_device(cfg.device)
    precision = resolve_precision(cfg.precision, device)
    model = load_for_serving(model_dir)
    if isinstance(model, torch.nn.Module):  # a RewardModel; other kinds are timed where they load (CPU)
        model.to(device)
    if precision == "bf16":
        store_bf16_weights(model)
    prompts = [b["prompt"] for b in bodies for _ in b["responses"]]
    responses = [r for b in bodies for r in b["responses"]]
    per_size = {}
    for bs in batch_sizes:
        model.score(prompts[:bs], responses[:bs], batch_size=bs, precision=precision)  # warm up
        t0 = time.perf_counter()
        model.score(prompts, responses, batch_size=bs, precision=precision)
        per_size[bs] = len(responses) / (time.perf_counter() - t0)
    best = max(per_size, key=lambda k: per_size[k])
    tokens = [len(ids) for ids in model.encode(prompts, responses)]
    return {"responses": len(responses), "responses_per_s": per_size[best], "batch_size": best,
            "precision": precision, "device": str(device),
            "per_batch_size": per_size, "mean_tokens": statistics.fmean(tokens), "max_tokens": max(tokens)}


def _overload(model_dir: str, bodies: list[dict[str, Any]], args: argparse.Namespace,
              overrides: list[str]) -> dict[str, Any]:
    """Far more concurrent clients than max_queue admits: only 200s and 503s, bounded RSS, still alive."""
    import httpx

    queue = args.overload_queue
    limits = [f"max_queue={queue}", f"max_responses_per_request={min(queue, 256)}"]
    server = ServerProcess(model_dir, batching=True, overrides=[*overrides, *limits])
    try:
        idle = server.rss_mb()
        peak = [idle]
        done = threading.Event()

        def sample() -> None:
            while not done.wait(0.05):
                peak.append(server.rss_mb())

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        row = asyncio.run(_load(server.url, bodies[: args.overload_requests], args.overload_clients, args.time_cap))
        done.set()
        sampler.join()
        alive = httpx.get(f"{server.url}/healthz", timeout=10).status_code == 200
        metrics = httpx.get(f"{server.url}/metrics", timeout=10).text
    finally:
        server.stop()
    others = {k: v for k, v in row["statuses"].items() if k not in ("200", "503")}
    return {**row, "max_queue": args.overload_queue, "rss_idle_mb": idle, "rss_peak_mb": max(peak),
            "rejected_503": row["statuses"].get("503", 0), "other_errors": others, "alive_after": alive,
            "clean": alive and not others and row["statuses"].get("503", 0) > 0,
            "rejected_metric": [ln for ln in metrics.splitlines() if ln.startswith("rewardlab_rejected_total")]}


def _markdown(result: dict[str, Any]) -> str:
    off = result["offline"]
    lines = [f"Model: `{result['model']}` · workload `{result['workload']}` (mean {off['mean_tokens']:.0f}, max "
             f"{off['max_tokens']} tokens) · {result['responses_per_request']} response(s) per request · "
             f"{result['cpus']} CPUs · {off.get('precision', 'fp32')} on {off.get('device', 'cpu')} · offline "
             f"`RewardModel.score` (best of batch {'/'.join(map(str, off['per_batch_size']))}: {off['batch_size']}): "
             f"**{result['offline']['responses_per_s']:.1f} responses/s**", "",
             "| clients | server | responses/s | p50 ms | p99 ms | errors | vs baseline | vs offline |",
             "|---:|---|---:|---:|---:|---:|---:|---:|"]
    offline = result["offline"]["responses_per_s"]
    for b, s in zip(result["baseline"], result["batched"]):
        for name, row in (("one at a time", b), ("batched", s)):
            ratio = row["responses_per_s"] / b["responses_per_s"] if b["responses_per_s"] else float("nan")
            lines.append(f"| {row['concurrency']} | {name} | {row['responses_per_s']:.1f} | {row['p50_ms']:.0f} | "
                         f"{row['p99_ms']:.0f} | {row['errors']} | {ratio:.2f}x | "
                         f"{row['responses_per_s'] / offline:.0%} |")
    o = result["overload"]
    lines += ["", f"Overload: {o['concurrency']} clients against max_queue={o['max_queue']}: {o['ok']} answered, "
              f"{o['rejected_503']} clean 503s, other errors {o['other_errors'] or 'none'}, alive afterwards: "
              f"{o['alive_after']}, RSS {o['rss_idle_mb']:.0f} -> peak {o['rss_peak_mb']:.0f} MiB."]
    g = result["goal_at_32"]
    if g:
        lines.append(f"At 32 clients: {g['speedup']:.2f}x the baseline (goal {GOAL_SPEEDUP}x), "
                     f"{g['of_offline']:.0%} of offline (goal {GOAL_OFFLINE:.0%}), errors {g['errors']}.")
    return "\n".join(lines) + "\n"


def _default_model(tmp: str) -> str:
    from rewardlab.models import RewardModel
    from rewardlab.models.local import resolve_backbone

    path, gguf = resolve_backbone("default")
    return str(RewardModel.from_backbone(path, gguf_file=gguf, max_length=256).save_pretrained(Path(tmp) / "rm"))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", help="reward model directory (default: MiniLM made into one)")
    p.add_argument("--concurrency", type=lambda s: [int(x) for x in s.split(",")], default=[1, 8, 32, 64])
    p.add_argument("--requests", type=int, default=1200, help="requests per level (at least 4 per client)")
    p.add_argument("--responses-per-request", type=int, default=1)
    p.add_argument("--workload", choices=["synth", "short"], default="synth",
                   help="synthetic-world texts as they are, or cut to their first 8 words")
    p.add_argument("--time-cap", type=float, default=60.0, help="seconds per level at most")
    p.add_argument("--overload-clients", type=int, default=256)
    p.add_argument("--overload-requests", type=int, default=1024)
    p.add_argument("--overload-queue", type=int, default=64)
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="ServeConfig override")
    p.add_argument("--out", help="write the JSON result here")
    p.add_argument("--markdown", help="write the markdown table here")
    p.add_argument("--_child", help=argparse.SUPPRESS)
    p.add_argument("--_batching", type=int, default=1, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args._child:
        _child(args._child, bool(args._batching), args.set)
        return
    with tempfile.TemporaryDirectory() as tmp:
        model_dir = args.model or _default_model(tmp)
        n = max(args.requests, 4 * max(args.concurrency), args.overload_requests)
        bodies = _bodies(n, args.responses_per_request, args.workload)
        result: dict[str, Any] = {"model": args.model or "MiniLM-L6 (default backbone), max_length 256",
                                  "responses_per_request": args.responses_per_request, "overrides": args.set,
                                  "workload": args.workload,
                                  "cpus": os.cpu_count(), "requests_per_level": args.requests,
                                  "time_cap_s": args.time_cap}
        result["offline"] = _offline(model_dir, bodies[: args.requests], (16, 32, 64), args.set)
        print(json.dumps(result["offline"]), flush=True)
        for name, batching in (("batched", True), ("baseline", False)):
            server = ServerProcess(model_dir, batching=batching, overrides=args.set)
            try:
                result[name] = _levels(server, bodies, args)
            finally:
                server.stop()
        result["overload"] = _overload(model_dir, bodies, args, args.set)
        print(json.dumps(result["overload"]), flush=True)
    at32 = [(b, s) for b, s in zip(result["baseline"], result["batched"]) if s["concurrency"] == 32]
    result["goal_at_32"] = {
        "speedup": at32[0][1]["responses_per_s"] / at32[0][0]["responses_per_s"],
        "of_offline": at32[0][1]["responses_per_s"] / result["offline"]["responses_per_s"],
        "errors": at32[0][1]["errors"],
    } if at32 else None
    table = _markdown(result)
    print(table)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    if args.markdown:
        Path(args.markdown).write_text(table)


if __name__ == "__main__":
    main()
