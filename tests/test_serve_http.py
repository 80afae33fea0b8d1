"""The real server (uvicorn on an ephemeral loopback port, in a thread) and the Python client against it."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from rewardlab.data.records import Message
from rewardlab.models import RewardModel
from rewardlab.serve import BackgroundServer, RemoteScorer, ServeClient, ServeConfig, ServeError, create_app
from serve_support import PROMPTS, RESPONSES, GatedBackend, save_reward_model


@pytest.fixture(scope="module")
def rm(tiny_bert_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> RewardModel:
    path = save_reward_model(tiny_bert_dir, tmp_path_factory.mktemp("http") / "rm", statistics={"mean": 0, "std": 1})
    return RewardModel.from_pretrained(path)


@pytest.fixture(scope="module")
def server(rm: RewardModel) -> Iterator[BackgroundServer]:
    cfg = ServeConfig(precision="fp32", port=0, api_keys=("secret",), max_responses_per_request=16)
    with BackgroundServer(create_app(rm, cfg, environ={}), cfg) as s:
        yield s


def test_the_server_binds_loopback_and_speaks_http(server: BackgroundServer, rm: RewardModel) -> None:
    assert server.url.startswith("http://127.0.0.1:")
    resp = httpx.post(f"{server.url}/v1/score", json={"prompt": PROMPTS[0], "responses": RESPONSES},
                      headers={"Authorization": "Bearer secret"})
    assert resp.status_code == 200
    want = rm.score([PROMPTS[0]] * 3, RESPONSES, precision="fp32")
    assert resp.json()["results"][0]["rewards"] == pytest.approx(want, abs=1e-5)
    assert httpx.post(f"{server.url}/v1/score", json={"prompt": "x", "response": "y"}).status_code == 401
    assert httpx.get(f"{server.url}/readyz").status_code == 200
    assert "server" not in resp.headers  # no version banner


def test_the_client_scores_reuses_one_connection_and_batches(server: BackgroundServer, rm: RewardModel) -> None:
    with ServeClient(server.url, api_key="secret") as client:
        one = client.score(PROMPTS[0], RESPONSES)
        assert one.rewards == pytest.approx(rm.score([PROMPTS[0]] * 3, RESPONSES, precision="fp32"), abs=1e-5)
        assert one.normalized_rewards == pytest.approx(one.rewards)
        convo = (Message("user", "hello world"),)
        items = [(PROMPTS[k % 3], RESPONSES) for k in range(5)] + [(convo, "hello")]
        batched = client.score_batch(items, chunk=4, concurrency=3)  # items split across requests
        assert [len(r.rewards) for r in batched] == [3, 3, 3, 3, 3, 1]
        assert batched[4].rewards == pytest.approx(rm.score([PROMPTS[1]] * 3, RESPONSES, precision="fp32"), abs=1e-5)
        assert batched[5].rewards == pytest.approx(rm.score([convo], ["hello"], precision="fp32"), abs=1e-5)
        assert client.get_reward([rm.format(PROMPTS[2], RESPONSES[2])]) == pytest.approx(
            rm.score(PROMPTS[2:], RESPONSES[2:], precision="fp32"), abs=1e-5)
        assert client.model_info()["model"]["max_length"] == 64 and client.ready() and client.health()
    with ServeClient(server.url, api_key="secret") as sequential:
        for _ in range(3):
            sequential.score("x", "y")
        assert len(sequential._http._transport._pool.connections) == 1  # keep-alive: one connection


def test_remote_scorer_is_a_drop_in_for_model_score(server: BackgroundServer, rm: RewardModel) -> None:
    scorer = RemoteScorer(ServeClient(server.url, api_key="secret"), concurrency=2)
    prompts, responses = PROMPTS * 4, RESPONSES * 4
    want = rm.score(prompts, responses, precision="fp32")
    assert scorer.score(prompts, responses, batch_size=5) == pytest.approx(want, abs=1e-5)
    assert scorer.score(prompts, responses, normalize=True) == pytest.approx(
        rm.score(prompts, responses, normalize=True, precision="fp32"), abs=1e-5)


def test_client_errors_carry_the_status_and_the_server_message(server: BackgroundServer) -> None:
    with ServeClient(server.url) as anonymous, pytest.raises(ServeError, match="api_key") as err:
        anonymous.score("x", "y")
    assert err.value.status == 401
    with ServeClient(server.url, api_key="secret") as client, pytest.raises(ServeError, match="at most 16") as err:
        client.score("x", ["y"] * 17)
    assert err.value.status == 422


def test_the_client_retries_503_honouring_retry_after(rm: RewardModel) -> None:
    gated = GatedBackend(rm)
    cfg = ServeConfig(precision="fp32", port=0, max_queue=1, max_responses_per_request=1, retry_after_s=2)
    with BackgroundServer(create_app(gated, cfg, environ={}), cfg) as srv:
        holder = threading.Thread(target=lambda: httpx.post(f"{srv.url}/v1/score",
                                                            json={"prompt": "x", "response": "first"}, timeout=60))
        holder.start()
        assert gated.entered.wait(30)  # the only slot is taken
        waits: list[float] = []

        def fake_sleep(seconds: float) -> None:  # no real waiting: free the slot instead
            waits.append(seconds)
            gated.gate.set()
            holder.join(30)

        with ServeClient(srv.url, sleep=fake_sleep, backoff_s=0.01) as client:
            result = client.score("x", "second")
        assert len(result.rewards) == 1 and waits and waits[0] >= 2.0


def test_the_client_gives_up_after_its_retries_on_connection_errors() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again at once: nothing listens there
    waits: list[float] = []
    with ServeClient(f"http://127.0.0.1:{port}", retries=3, backoff_s=0.1, sleep=waits.append) as client, \
            pytest.raises(ServeError, match="after 4 attempts") as err:
        client.score("x", "y")
    assert err.value.status is None and len(waits) == 3
    assert waits[0] < waits[2] <= 0.4  # exponential, jittered within [step/2, step]


def test_stopping_the_server_finishes_in_flight_requests(rm: RewardModel) -> None:
    gated = GatedBackend(rm)
    cfg = ServeConfig(precision="fp32", port=0)
    srv = BackgroundServer(create_app(gated, cfg, environ={}), cfg).start()
    status: list[int] = []
    inflight = threading.Thread(target=lambda: status.append(
        httpx.post(f"{srv.url}/v1/score", json={"prompt": "x", "response": "y"}, timeout=60).status_code))
    inflight.start()
    assert gated.entered.wait(30)
    srv.server.should_exit = True  # what SIGTERM does
    gated.gate.set()
    inflight.join(30)
    srv.stop()
    assert status == [200]
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{srv.url}/healthz")


def test_the_client_imports_neither_torch_nor_the_server_stack() -> None:
    import subprocess
    import sys

    code = ("import sys; from rewardlab.serve import ServeClient, ServeConfig, ServeError; "
            "print(any(m in sys.modules for m in ('torch', 'fastapi', 'uvicorn', 'transformers')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_public_names_of_the_serve_package_resolve() -> None:
    import rewardlab.serve

    for name in rewardlab.serve.__all__:
        assert getattr(rewardlab.serve, name) is not None, name


def test_the_rewardlab_serve_command_serves_and_stops_cleanly_on_sigterm(tiny_bert_dir: Path, tmp_path: Path) -> None:
    import os
    import queue
    import re
    import signal
    import subprocess
    import sys
    import time

    model_dir = save_reward_model(tiny_bert_dir, tmp_path / "rm")
    cmd = [sys.executable, "-c", "import sys; from rewardlab.cli import main; sys.exit(main(sys.argv[1:]))",
           "serve", str(model_dir), "--port", "0", "--precision", "fp32"]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "REWARDLAB_API_KEYS": ""}
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=env)
    lines: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(target=lambda: [lines.put(line) for line in proc.stderr or []], daemon=True)
    reader.start()
    try:
        url, deadline = None, time.monotonic() + 120
        while url is None and time.monotonic() < deadline:
            try:
                found = re.search(r"running on (http://127\.0\.0\.1:\d+)", lines.get(timeout=1))
            except queue.Empty:
                assert proc.poll() is None, "rewardlab serve exited before listening"
                continue
            url = found.group(1) if found else None
        assert url is not None, "rewardlab serve never said where it listens"
        while httpx.get(f"{url}/readyz").status_code != 200:
            assert time.monotonic() < deadline, "the model never became ready"
            time.sleep(0.1)
        assert httpx.get(f"{url}/v1/model").json()["model"]["precision"] == "fp32"
        got = httpx.post(f"{url}/v1/score", json={"prompt": PROMPTS[0], "responses": RESPONSES}).json()
        want = RewardModel.from_pretrained(model_dir).score([PROMPTS[0]] * 3, RESPONSES, precision="fp32")
        assert got["results"][0]["rewards"] == pytest.approx(want, abs=1e-5)
        proc.send_signal(signal.SIGTERM)  # what a process manager sends; uvicorn re-raises it once drained
        assert proc.wait(timeout=60) in (0, -signal.SIGTERM, 128 + signal.SIGTERM)
        reader.join(timeout=10)  # stderr closed: every line is queued
        rest = []
        while not lines.empty():
            rest.append(lines.get())
        assert any("Finished server process" in line for line in rest), rest
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_rewardlab_serve_on_a_broken_directory_is_one_line_and_exit_2(tiny_bert_dir: Path, tmp_path: Path) -> None:
    import json
    import os
    import subprocess
    import sys

    path = save_reward_model(tiny_bert_dir, tmp_path / "rm")
    meta = json.loads((path / "rewardlab.json").read_text())
    meta["max_length"] = 64.5
    (path / "rewardlab.json").write_text(json.dumps(meta))
    done = subprocess.run([sys.executable, "-m", "rewardlab.cli", "serve", str(path), "--port", "0"],
                          capture_output=True, text=True, timeout=120, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert done.returncode == 2
    assert "rewardlab serve: error:" in done.stderr and "max_length must be a whole number" in done.stderr
    assert "Traceback" not in done.stderr and "Application startup" not in done.stderr


def test_preparation_counts_against_the_timeout_stops_and_never_blocks_small_requests(rm: RewardModel) -> None:
    import time

    from serve_support import SlowTokenizeBackend

    backend = SlowTokenizeBackend(rm, marker="zebra")
    cfg = ServeConfig(precision="fp32", port=0, request_timeout_s=1.0, max_responses_per_request=64)
    huge = {"prompt": "x", "responses": [f"zebra {k} " + "y" * 3000 for k in range(64)]}  # 64 x 3 KB: bulk
    with BackgroundServer(create_app(backend, cfg, environ={}), cfg) as server:
        result: dict[str, httpx.Response] = {}
        worker = threading.Thread(target=lambda: result.setdefault(
            "huge", httpx.post(f"{server.url}/v1/score", json=huge, timeout=30)))
        worker.start()
        deadline = time.monotonic() + 10
        while backend.slow_calls == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        small = httpx.post(f"{server.url}/v1/score", json={"prompt": "x", "response": "y"}, timeout=30)
        assert small.status_code == 200  # prepared on the other thread while the huge one is stuck
        worker.join(30)
        assert result["huge"].status_code == 504 and result["huge"].json()["error"]["type"] == "timeout"
        backend.release.set()
        time.sleep(0.3)
        assert backend.slow_calls == 1  # the expired request stopped at its next chunk (4 chunks of 16)
