"""The scoring server in-process (fastapi TestClient, no ports, no sleeps): every endpoint and error path."""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from fastapi.testclient import TestClient
from transformers import AutoModelForSequenceClassification, AutoTokenizer

from rewardlab.config import load_config
from rewardlab.data.records import Message
from rewardlab.errors import ConfigError, ModelError
from rewardlab.models import RewardModel, load_model
from rewardlab.serve import ServeConfig, create_app
from rewardlab.serve.backend import ModelBackend
from rewardlab.serve.config import resolve_api_keys
from serve_support import PROMPTS, RESPONSES, GatedBackend, save_ensemble, save_reward_model

STATS = {"mean": 0.25, "std": 2.0}


@pytest.fixture(scope="module")
def rm_dir(tiny_bert_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_reward_model(tiny_bert_dir, tmp_path_factory.mktemp("serve") / "rm", statistics=STATS)


@pytest.fixture(scope="module")
def rm(rm_dir: Path) -> RewardModel:
    return RewardModel.from_pretrained(rm_dir)


@pytest.fixture(scope="module")
def client(rm: RewardModel) -> Iterator[TestClient]:
    cfg = ServeConfig(precision="fp32", max_responses_per_request=8, max_text_chars=400)
    with TestClient(create_app(rm, cfg)) as c:
        yield c


def _error(resp: object) -> dict[str, str]:
    body = resp.json()  # type: ignore[attr-defined]
    return dict(body["error"])


# ---------------------------------------------------------------------------------------- scoring
def test_score_one_prompt_many_responses_equals_reward_model_score(client: TestClient, rm: RewardModel) -> None:
    resp = client.post("/v1/score", json={"prompt": PROMPTS[0], "responses": RESPONSES})
    assert resp.status_code == 200
    result = resp.json()["results"][0]
    expected = rm.score([PROMPTS[0]] * 3, RESPONSES, precision="fp32")
    assert result["rewards"] == pytest.approx(expected, abs=1e-5)
    assert len(set(result["rewards"])) == 3
    assert result["truncated"] == [False] * 3 and result["spread"] is None
    assert result["tokens"] == [len(s) for s in rm.encode([PROMPTS[0]] * 3, RESPONSES)]
    assert resp.json()["usage"]["responses"] == 3


def test_items_keep_their_order_and_chat_prompts_use_the_saved_format(client: TestClient, rm: RewardModel) -> None:
    chat = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hello world"}]
    body = {"items": [{"prompt": PROMPTS[1], "response": RESPONSES[1]},
                      {"prompt": chat, "responses": RESPONSES[:2]}]}
    results = client.post("/v1/score", json=body).json()["results"]
    convo = (Message("system", "be brief"), Message("user", "hello world"))
    assert results[0]["rewards"] == pytest.approx(rm.score([PROMPTS[1]], [RESPONSES[1]], precision="fp32"), abs=1e-5)
    assert results[1]["rewards"] == pytest.approx(rm.score([convo, convo], RESPONSES[:2], precision="fp32"), abs=1e-5)


def test_scores_equal_plain_transformers_on_the_saved_directory(client: TestClient, rm_dir: Path) -> None:
    tokenizer = AutoTokenizer.from_pretrained(rm_dir)
    hf = AutoModelForSequenceClassification.from_pretrained(rm_dir).eval()
    body = {"items": [{"prompt": p, "response": r} for p, r in zip(PROMPTS, RESPONSES)]}
    served = [r["rewards"][0] for r in client.post("/v1/score", json=body).json()["results"]]
    for prompt, response, got in zip(PROMPTS, RESPONSES, served):
        enc = tokenizer(f"Human: {prompt}\n\nAssistant: {response}", return_tensors="pt", truncation=True,
                        max_length=64)
        with torch.no_grad():
            assert got == pytest.approx(hf(**enc).logits[0, 0].item(), abs=1e-5)


def test_batch_composition_does_not_change_scores(client: TestClient) -> None:
    together = client.post("/v1/score", json={"items": [{"prompt": p, "response": r}
                                                        for p, r in zip(PROMPTS, RESPONSES)]}).json()
    alone = [client.post("/v1/score", json={"prompt": p, "response": r}).json()["results"][0]["rewards"][0]
             for p, r in zip(PROMPTS, RESPONSES)]
    assert [r["rewards"][0] for r in together["results"]] == pytest.approx(alone, abs=1e-5)


def test_normalized_rewards_use_the_saved_statistics(client: TestClient, rm: RewardModel) -> None:
    result = client.post("/v1/score", json={"prompt": PROMPTS[0], "responses": RESPONSES}).json()["results"][0]
    assert result["normalized_rewards"] == pytest.approx([(r - 0.25) / 2.0 for r in result["rewards"]])
    want = rm.score([PROMPTS[0]] * 3, RESPONSES, normalize=True, precision="fp32")
    assert result["normalized_rewards"] == pytest.approx(want, abs=1e-5)


def test_a_model_without_statistics_returns_null_normalized_rewards(tiny_bert_dir: Path, tmp_path: Path) -> None:
    model = load_model(save_reward_model(tiny_bert_dir, tmp_path / "plain"))
    with TestClient(create_app(model, ServeConfig(precision="fp32"))) as c:
        result = c.post("/v1/score", json={"prompt": "hi", "response": "hello"}).json()["results"][0]
    assert result["normalized_rewards"] is None


def test_ensembles_return_the_aggregate_and_the_spread(tiny_bert_dir: Path, tmp_path: Path) -> None:
    ensemble = load_model(save_ensemble(tiny_bert_dir, tmp_path / "ens"))
    with TestClient(create_app(ensemble, ServeConfig(precision="fp32"))) as c:
        result = c.post("/v1/score", json={"prompt": PROMPTS[0], "responses": RESPONSES}).json()["results"][0]
        info = c.get("/v1/model").json()["model"]
        openrlhf = c.post("/get_reward", json={"query": [ensemble.format(PROMPTS[0], r) for r in RESPONSES]}).json()
    rewards, spread = ensemble.score_with_uncertainty([PROMPTS[0]] * 3, RESPONSES, precision="fp32")
    assert result["rewards"] == pytest.approx(rewards, abs=1e-5)
    assert result["spread"] == pytest.approx(spread, abs=1e-5) and min(spread) > 0
    assert openrlhf["spread"] == pytest.approx(spread, abs=1e-5)
    assert info["kind"] == "ensemble" and info["members"] == 3 and info["aggregate"] == "mean_minus_std"


def test_a_decoder_reward_model_serves_the_same_scores(tiny_decoder_dir: Path) -> None:
    from serve_support import tiny_reward_model

    model = tiny_reward_model(tiny_decoder_dir)
    with TestClient(create_app(model, ServeConfig(precision="fp32"))) as c:
        body = {"items": [{"prompt": p, "response": r} for p, r in zip(PROMPTS, RESPONSES)]}
        served = [r["rewards"][0] for r in c.post("/v1/score", json=body).json()["results"]]
    assert served == pytest.approx(model.score(PROMPTS, RESPONSES, precision="fp32"), abs=1e-5)


def test_multi_head_models_return_every_named_output(tiny_bert_dir: Path) -> None:
    from serve_support import tiny_reward_model

    model = tiny_reward_model(tiny_bert_dir)
    model.set_heads(["helpfulness", "correctness"], combine=[0.7, 0.3], seed=3)
    with TestClient(create_app(model, ServeConfig(precision="fp32"))) as c:
        result = c.post("/v1/score", json={"prompt": PROMPTS[0], "responses": RESPONSES}).json()["results"][0]
    assert result["rewards"] == pytest.approx(model.score([PROMPTS[0]] * 3, RESPONSES, precision="fp32"), abs=1e-5)
    expected = model.score_attributes([PROMPTS[0]] * 3, RESPONSES, precision="fp32")
    for got, want in zip(result["attributes"], expected):
        assert got.keys() == want.keys() and list(got.values()) == pytest.approx(list(want.values()), abs=1e-5)


def test_embedding_head_models_are_served_without_a_disk_cache(tiny_bert_dir: Path, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from rewardlab.models.embedding_model import EmbeddingRewardModel
    from rewardlab.synth import SynthConfig, generate_world
    from rewardlab.train.config import EmbeddingConfig
    from rewardlab.train.embedding import train_embedding_head

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    pairs = [c for c in generate_world(SynthConfig(n_prompts=8, pairs_per_prompt=2, seed=0)).comparisons()
             if not c.tie]
    trained, _ = train_embedding_head(pairs, EmbeddingConfig(cache_dir=str(tmp_path / "train-cache"), epochs=2),
                                      backbone=str(tiny_bert_dir), max_length=64, seed=0, log=lambda _: None)
    trained.save_pretrained(tmp_path / "emb")
    app = create_app(tmp_path / "emb", ServeConfig(precision="fp32"))
    with TestClient(app) as c:
        c.portal.call(app.state.runtime.wait_loaded)
        result = c.post("/v1/score", json={"prompt": PROMPTS[0], "responses": RESPONSES}).json()["results"][0]
        assert c.get("/v1/model").json()["model"]["kind"] == "embedding_head"
    reference = EmbeddingRewardModel.from_pretrained(tmp_path / "emb", cache=None)
    assert result["rewards"] == pytest.approx(reference.score([PROMPTS[0]] * 3, RESPONSES, precision="fp32"), abs=1e-5)
    assert not (tmp_path / "xdg").exists()  # nothing users send is written to disk


def test_server_tokenization_is_reward_model_encode(rm: RewardModel) -> None:
    texts = [rm.format(p, r) for p, r in zip(PROMPTS, RESPONSES)]
    for truncate in (True, False):
        assert ModelBackend(rm).tokenize(texts, truncate=truncate) == rm.encode(PROMPTS, RESPONSES, truncate=truncate)


# ---------------------------------------------------------------------------------------- OpenRLHF
def test_get_reward_scores_preformatted_queries_like_openrlhf_expects(client: TestClient, rm: RewardModel) -> None:
    pad = rm.tokenizer.pad_token
    queries = [rm.format(p, r) + pad * k for k, (p, r) in enumerate(zip(PROMPTS, RESPONSES))]
    resp = client.post("/get_reward", json={"query": queries, "prompts": PROMPTS, "labels": [None] * 3,
                                            "templates": "chatml"})
    assert resp.status_code == 200
    body = resp.json()
    assert body["rewards"] == pytest.approx(rm.score(PROMPTS, RESPONSES, precision="fp32"), abs=1e-5)
    assert body["scores"] == body["rewards"] and body["truncated"] == [False] * 3 and "spread" not in body
    assert client.post("/get_reward", json={"query": []}).json()["rewards"] == []


def test_get_reward_can_return_normalized_rewards(rm: RewardModel) -> None:
    with TestClient(create_app(rm, ServeConfig(precision="fp32", openrlhf_normalize=True))) as c:
        got = c.post("/get_reward", json={"query": [rm.format(PROMPTS[0], RESPONSES[0])]}).json()["rewards"]
    assert got == pytest.approx(rm.score(PROMPTS[:1], RESPONSES[:1], normalize=True, precision="fp32"), abs=1e-5)


def test_openrlhf_normalize_without_statistics_fails_readiness(tiny_bert_dir: Path, tmp_path: Path) -> None:
    model = load_model(save_reward_model(tiny_bert_dir, tmp_path / "plain"))
    with TestClient(create_app(model, ServeConfig(precision="fp32", openrlhf_normalize=True))) as c:
        ready = c.get("/readyz")
        assert ready.status_code == 503 and "no reward statistics" in ready.json()["error"]
        assert c.post("/get_reward", json={"query": ["x"]}).status_code == 503


# ---------------------------------------------------------------------------------------- 400 / 413 / 422
def test_malformed_json_is_400(client: TestClient) -> None:
    resp = client.post("/v1/score", content=b'{"prompt": ', headers={"content-type": "application/json"})
    assert resp.status_code == 400 and _error(resp)["type"] == "invalid_json"
    resp = client.post("/get_reward", content=b"query=x", headers={"content-type": "application/x-www-form-urlencoded"})
    assert resp.status_code == 400 and "Content-Type: application/json" in _error(resp)["message"]


def test_bodies_over_the_limit_are_413_by_header_or_while_streaming(rm: RewardModel) -> None:
    with TestClient(create_app(rm, ServeConfig(precision="fp32", max_body_bytes=1000))) as c:
        big = json.dumps({"prompt": "x", "response": "y" * 2000})
        resp = c.post("/v1/score", content=big, headers={"content-type": "application/json"})
        assert resp.status_code == 413 and _error(resp)["type"] == "body_too_large"
        streamed = c.post("/v1/score", content=iter([big[:600].encode(), big[600:].encode()]),
                          headers={"content-type": "application/json"})
        assert streamed.status_code == 413
        assert c.post("/v1/score", json={"prompt": "x", "response": "y"}).status_code == 200


@pytest.mark.parametrize(("body", "needle"), [
    ({"prompt": "x", "responses": []}, "responses must not be empty"),
    ({"prompt": "x"}, "exactly one of 'response'"),
    ({"prompt": "x", "response": "a", "responses": ["b"]}, "exactly one of 'response'"),
    ({"response": "a"}, "prompt is required"),
    ({"prompt": [], "response": "a"}, "at least one chat message"),
    ({"prompt": [{"role": "tool", "content": "x"}], "response": "a"}, "prompt"),
    ({"items": []}, "items must not be empty"),
    ({"items": [{"prompt": "x", "response": "y"}], "prompt": "x"}, "not both"),
    ({"prompt": "x", "response": 3}, "response"),
    ({"prompt": "x", "response": "y", "extra": 1}, "extra"),
])
def test_schema_violations_are_422_with_a_clear_message(client: TestClient, body: dict[str, object],
                                                         needle: str) -> None:
    resp = client.post("/v1/score", json=body)
    assert resp.status_code == 422
    assert _error(resp)["type"] == "invalid_input" and needle in _error(resp)["message"]


def test_limits_are_422_naming_the_field(client: TestClient) -> None:
    too_many = client.post("/v1/score", json={"prompt": "x", "responses": ["y"] * 9})
    assert too_many.status_code == 422 and "at most 8" in _error(too_many)["message"]
    long_text = client.post("/v1/score", json={"items": [{"prompt": "x", "response": "y"},
                                                         {"prompt": "x", "responses": ["ok", "z" * 401]}]})
    assert long_text.status_code == 422
    assert "items[1].responses[1] (401 characters)" in _error(long_text)["message"]
    long_query = client.post("/get_reward", json={"query": ["q" * 401]})
    assert long_query.status_code == 422 and "query[0]" in _error(long_query)["message"]


def test_overlong_inputs_are_422_with_on_overlong_error(rm: RewardModel) -> None:
    with TestClient(create_app(rm, ServeConfig(precision="fp32", on_overlong="error"))) as c:
        resp = c.post("/v1/score", json={"prompt": "x", "responses": ["fine", "word " * 80]})
    assert resp.status_code == 422
    message = _error(resp)["message"]
    assert "responses[1]" in message and "max_length of 64" in message and "on_overlong=truncate" in message


def test_truncation_is_the_default_as_in_train_and_eval_and_is_reported_per_response(rm: RewardModel) -> None:
    assert ServeConfig().on_overlong == "truncate"
    long = "the dog is bad . " * 40
    with TestClient(create_app(rm, ServeConfig(precision="fp32"))) as c:
        body = c.post("/v1/score", json={"prompt": "x", "responses": ["short", long]}).json()
        rl = c.post("/get_reward", json={"query": [rm.format("x", "short"), rm.format("x", long)]}).json()
    assert rl["truncated"] == [False, True]
    result = body["results"][0]
    assert result["truncated"] == [False, True] and result["tokens"][1] == 64 and body["usage"]["truncated"] == 1
    assert result["rewards"] == pytest.approx(rm.score(["x", "x"], ["short", long], precision="fp32"), abs=1e-5)


# ---------------------------------------------------------------------------------------- 401
def test_api_keys_are_required_when_configured(rm: RewardModel) -> None:
    cfg = ServeConfig(precision="fp32", api_keys=("k1",), api_keys_env="TEST_SERVE_KEYS")
    with TestClient(create_app(rm, cfg, environ={"TEST_SERVE_KEYS": "k2, k3"})) as c:
        body = {"prompt": "x", "response": "y"}
        missing = c.post("/v1/score", json=body)
        assert missing.status_code == 401 and missing.headers["www-authenticate"] == "Bearer"
        assert _error(missing)["type"] == "unauthorized"
        assert c.post("/v1/score", json=body, headers={"Authorization": "Bearer nope"}).status_code == 401
        assert c.post("/get_reward", json={"query": ["x"]}).status_code == 401
        assert c.get("/v1/model").status_code == 401
        assert c.post("/v1/score", json=body, headers={"Authorization": "Bearer k1"}).status_code == 200
        assert c.post("/v1/score", json=body, headers={"X-API-Key": "k3"}).status_code == 200
        assert c.get("/healthz").status_code == 200 and c.get("/readyz").status_code == 200


def test_api_keys_come_from_the_environment_at_app_creation() -> None:
    cfg = ServeConfig(precision="fp32")
    assert resolve_api_keys(cfg, {"REWARDLAB_API_KEYS": "a,b,,"}) == {"a", "b"}
    assert resolve_api_keys(cfg, {}) == frozenset()


# ---------------------------------------------------------------------------------------- 503 / 504
def test_a_full_queue_answers_503_with_retry_after(rm: RewardModel) -> None:
    gated = GatedBackend(rm)
    app = create_app(gated, ServeConfig(precision="fp32", max_queue=2, max_responses_per_request=2, retry_after_s=3))
    with TestClient(app) as c:
        batcher = app.state.runtime.batcher

        async def fill() -> None:  # two responses admitted and held by the closed gate
            batcher.enqueue([[101, 102], [101, 102]], [2, 2])

        c.portal.call(fill)
        resp = c.post("/v1/score", json={"prompt": "x", "response": "y"})
        assert resp.status_code == 503 and resp.headers["retry-after"] == "3"
        assert _error(resp)["type"] == "queue_full"
        gated.gate.set()
        metrics = c.get("/metrics").text
    assert 'rewardlab_rejected_total{reason="queue_full"} 1.0' in metrics


def test_a_request_not_answered_in_time_is_504(rm: RewardModel) -> None:
    gated = GatedBackend(rm)
    with TestClient(create_app(gated, ServeConfig(precision="fp32", request_timeout_s=0.2))) as c:
        resp = c.post("/v1/score", json={"prompt": "x", "response": "y"})
        gated.gate.set()
        assert resp.status_code == 504 and _error(resp)["type"] == "timeout"
        assert c.post("/v1/score", json={"prompt": "x", "response": "y"}).status_code == 200


def test_readyz_is_503_until_the_model_is_loaded(rm: RewardModel) -> None:
    release = threading.Event()

    def slow_loader() -> RewardModel:
        release.wait(30)
        return rm

    app = create_app(slow_loader, ServeConfig(precision="fp32"))
    with TestClient(app) as c:
        assert c.get("/healthz").status_code == 200
        ready = c.get("/readyz")
        assert ready.status_code == 503 and ready.json()["status"] == "loading" and "retry-after" in ready.headers
        loading = c.post("/v1/score", json={"prompt": "x", "response": "y"})
        assert loading.status_code == 503 and _error(loading)["type"] == "not_ready"
        release.set()
        c.portal.call(app.state.runtime.wait_loaded)
        assert c.get("/readyz").status_code == 200
        assert c.post("/v1/score", json={"prompt": "x", "response": "y"}).status_code == 200


def test_a_model_that_fails_to_load_keeps_readyz_503_with_the_reason(tmp_path: Path) -> None:
    app = create_app(tmp_path / "missing", ServeConfig(precision="fp32"))
    with TestClient(app) as c:
        c.portal.call(app.state.runtime.wait_loaded)
        ready = c.get("/readyz").json()
        assert ready["status"] == "failed" and ready["error"]
        assert "failed to load" in _error(c.post("/v1/score", json={"prompt": "x", "response": "y"}))["message"]


def test_a_failing_input_fails_only_its_own_request(rm: RewardModel) -> None:
    gated = GatedBackend(rm, fail_on="poison")
    gated.gate.set()
    app = create_app(gated, ServeConfig(precision="fp32", max_wait_ms=50))
    with TestClient(app, raise_server_exceptions=False) as c:
        results: dict[str, int] = {}

        def post(name: str, text: str) -> None:
            results[name] = c.post("/v1/score", json={"prompt": "x", "response": text}).status_code

        threads = [threading.Thread(target=post, args=(n, t)) for n, t in
                   (("good1", "hello"), ("bad", "poison"), ("good2", "the cat"))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
    assert results == {"good1": 200, "bad": 500, "good2": 200}
    with TestClient(app) as c:  # a model failure is an answer, not an unhandled exception
        failed = c.post("/v1/score", json={"prompt": "x", "response": "poison"})
    assert failed.status_code == 500 and _error(failed)["type"] == "model_error"


# ---------------------------------------------------------------------------------------- ops endpoints
def test_health_ready_model_metrics_and_docs(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json() == {"status": "ready"}
    info = client.get("/v1/model").json()
    assert info["model"]["kind"] == "reward_model" and info["model"]["input_format"] == "plain"
    assert info["model"]["normalization"] is True and info["limits"]["max_responses_per_request"] == 8
    client.post("/v1/score", json={"prompt": "x", "responses": ["a", "b"]})
    metrics = client.get("/metrics")
    assert metrics.headers["content-type"].startswith("text/plain")
    for name in ('rewardlab_requests_total{endpoint="/v1/score",status="200"}', "rewardlab_request_latency_seconds",
                 "rewardlab_batch_size_bucket", "rewardlab_queue_depth", "rewardlab_responses_scored_total",
                 "rewardlab_ready 1.0"):
        assert name in metrics.text
    assert client.get("/docs").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/v1/score", "/get_reward", "/healthz", "/readyz", "/metrics"} <= set(paths)
    assert client.get("/nowhere").status_code == 404 and _error(client.get("/nowhere"))["type"] == "http_error"


def test_docs_can_be_turned_off(rm: RewardModel) -> None:
    with TestClient(create_app(rm, ServeConfig(precision="fp32", docs=False))) as c:
        assert c.get("/docs").status_code == 404 and c.get("/openapi.json").status_code == 404
        assert c.get("/docs/assets/swagger-ui.css").status_code == 404


def test_the_docs_pages_load_every_asset_from_the_server_itself(client: TestClient) -> None:
    for page in ("/docs",):
        html = client.get(page).text
        urls = re.findall(r'(?:src|href)=["\']([^"\']+)["\']', html) + re.findall(r"url: *'([^']+)'", html)
        assert urls, page
        assert not [u for u in urls if "//" in u], f"{page} loads from another host: {urls}"
        for url in urls:
            resp = client.get(url)
            assert resp.status_code == 200 and len(resp.content) > 100, url
    js = client.get("/docs/assets/swagger-ui-bundle.js")
    assert "javascript" in js.headers["content-type"] and len(js.content) > 500_000  # the real bundle
    assert client.get("/docs/assets/../app.py").status_code == 404


def test_no_cors_headers_unless_origins_are_configured(client: TestClient, rm: RewardModel) -> None:
    preflight = {"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}
    assert "access-control-allow-origin" not in client.options("/v1/score", headers=preflight).headers
    with TestClient(create_app(rm, ServeConfig(precision="fp32", cors_origins=("https://ui.example",)))) as c:
        ok = c.options("/v1/score", headers={**preflight, "Origin": "https://ui.example"})
        assert ok.headers["access-control-allow-origin"] == "https://ui.example"
        other = c.post("/v1/score", json={"prompt": "x", "response": "y"}, headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers


def test_request_text_never_reaches_the_logs(rm: RewardModel, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="rewardlab.serve")
    secret = "zebra-secret-7"
    gated = GatedBackend(rm, fail_on=secret)
    gated.gate.set()
    with TestClient(create_app(gated, ServeConfig(max_text_chars=100)), raise_server_exceptions=False) as c:
        assert c.post("/v1/score", json={"prompt": secret, "response": secret}).status_code == 500
        assert c.post("/v1/score", json={"prompt": secret * 10, "response": "x"}).status_code == 422
        assert c.post("/get_reward", json={"query": [secret]}).status_code == 500
    assert caplog.records and secret not in caplog.text


# ---------------------------------------------------------------------------------------- config
def test_serve_config_rejects_bad_values_and_unknown_keys(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="max_queue"):
        ServeConfig(max_queue=0)
    with pytest.raises(ConfigError, match="could never be admitted"):
        ServeConfig(max_queue=4, max_responses_per_request=8)
    with pytest.raises(ConfigError, match="on_overlong"):
        ServeConfig(on_overlong="drop")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="did you mean 'max_queue'"):
        load_config(ServeConfig, None, ["max_queu=3"])
    cfg = load_config(ServeConfig, None, ["max_wait_ms=2", "api_keys=[a]", "on_overlong=truncate"])
    assert cfg.max_wait_ms == 2.0 and cfg.api_keys == ("a",) and cfg.host == "127.0.0.1"


def test_max_batch_tokens_below_max_length_fails_readiness(rm: RewardModel) -> None:
    with TestClient(create_app(rm, ServeConfig(precision="fp32", max_batch_tokens=32))) as c:
        assert "max_batch_tokens" in c.get("/readyz").json()["error"]


def test_unsupported_objects_are_refused() -> None:
    with pytest.raises(ModelError, match="cannot serve"):
        ModelBackend(object())


def test_waiting_for_a_model_that_cannot_load_stops_the_startup(tmp_path: Path) -> None:
    from rewardlab.serve import serve

    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelError, match="failed to load"), TestClient(create_app(tmp_path / "empty",
                                                                                 wait_for_model=True)):
        pass
    with pytest.raises(ModelError, match="not a model directory"):
        serve(tmp_path / "missing")


def test_a_model_directory_loads_before_the_server_opens_when_asked(rm_dir: Path) -> None:
    app = create_app(rm_dir, ServeConfig(precision="fp32"), wait_for_model=True)
    with TestClient(app) as c:
        assert c.get("/readyz").status_code == 200  # no waiting: startup finished loading


# ---------------------------------------------------------------------------------------- precision
def test_a_loaded_directory_at_bf16_stores_linear_weights_in_bf16_with_the_same_scores(rm_dir: Path) -> None:
    app = create_app(rm_dir, ServeConfig(precision="bf16", device="cpu"), wait_for_model=True)
    with TestClient(app) as c:
        info = c.get("/v1/model").json()["model"]
        served = c.post("/v1/score", json={"prompt": PROMPTS[0], "responses": RESPONSES}).json()
    assert info["precision"] == "bf16" and info["bf16_weights"] is True
    offline = RewardModel.from_pretrained(rm_dir)
    assert served["results"][0]["rewards"] == offline.score([PROMPTS[0]] * 3, RESPONSES, precision="bf16")
    fp32 = offline.score([PROMPTS[0]] * 3, RESPONSES, precision="fp32")
    assert served["results"][0]["rewards"] != pytest.approx(fp32, abs=1e-6)


def test_a_model_handed_in_is_never_changed_and_auto_precision_is_resolved(rm: RewardModel) -> None:
    from rewardlab.models.precision import resolve_precision

    before = {n: p.detach().clone() for n, p in rm.named_parameters()}
    for source in (rm, lambda: rm):  # a model object, and a loader returning a model the caller shares
        with TestClient(create_app(source, ServeConfig(precision="bf16", device="cpu"))) as c:
            c.portal.call(c.app.state.runtime.wait_loaded)  # type: ignore[attr-defined]
            assert c.get("/v1/model").json()["model"]["bf16_weights"] is False
            assert c.post("/v1/score", json={"prompt": PROMPTS[0], "responses": RESPONSES}).status_code == 200
        assert all(p.dtype == torch.float32 and torch.equal(p, before[n]) for n, p in rm.named_parameters())
    with TestClient(create_app(rm, ServeConfig(device="cpu"))) as c:  # the default, auto: bf16 where it is native
        assert c.get("/v1/model").json()["model"]["precision"] == resolve_precision("auto", torch.device("cpu"))


# ---------------------------------------------------------------------------------------- hostile requests
def test_a_huge_chat_request_is_refused_before_any_formatting(rm: RewardModel) -> None:
    from serve_support import SlowTokenizeBackend

    backend = SlowTokenizeBackend(rm, marker="never")
    messages = [{"role": "user" if k % 2 == 0 else "assistant", "content": "w" * 31_000} for k in range(4)]
    body = {"prompt": messages, "responses": [f"r{k}" for k in range(256)]}  # ~125 KB, 31.7 M formatted chars
    calls: list[int] = []
    original = backend.format
    backend.format = lambda p, r: calls.append(1) or original(p, r)  # type: ignore[method-assign]
    with TestClient(create_app(backend, ServeConfig(precision="fp32"))) as c:
        resp = c.post("/v1/score", json=body)
        assert resp.status_code == 422
        assert "total 31744" in _error(resp)["message"] and "at most 4000000" in _error(resp)["message"]
        assert not calls  # refused before a single input was formatted
        many = c.post("/v1/score", json={"prompt": [{"role": "user", "content": "x"}] * 257, "response": "y"})
        assert many.status_code == 422 and "257 chat messages" in _error(many)["message"]


@pytest.mark.parametrize("path,body", [
    ("/v1/score", '{"prompt": "x", "response": "bad \\ud800 text"}'),
    ("/v1/score", '{"prompt": [{"role": "user", "content": "\\udfff"}], "response": "y"}'),
    ("/get_reward", '{"query": ["Human: x\\n\\nAssistant: \\ud83d"]}'),
])
def test_a_lone_surrogate_is_422_and_logs_nothing(client: TestClient, path: str, body: str,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        resp = client.post(path, content=body.encode(), headers={"content-type": "application/json"})
    assert resp.status_code == 422 and "surrogate" in _error(resp)["message"]
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_the_api_key_is_checked_before_the_body_is_read(rm: RewardModel) -> None:
    cfg = ServeConfig(precision="fp32", api_keys=("k1",), max_body_bytes=1000)
    with TestClient(create_app(rm, cfg, environ={})) as c:
        bad_json = c.post("/v1/score", content=b'{"prompt": ', headers={"content-type": "application/json"})
        assert bad_json.status_code == 401 and bad_json.headers["www-authenticate"] == "Bearer"
        too_big = c.post("/v1/score", content=b"x" * 5000, headers={"content-type": "application/json"})
        assert too_big.status_code == 401
        wrong = c.post("/get_reward", content=b"{", headers={"X-API-Key": "k2", "content-type": "application/json"})
        assert wrong.status_code == 401
        ok = {"Authorization": "Bearer k1", "content-type": "application/json"}
        assert c.post("/v1/score", content=b'{"prompt": ', headers=ok).status_code == 400
        assert c.post("/v1/score", content=b"x" * 5000, headers=ok).status_code == 413


def test_openrlhf_queries_lose_their_decoded_pads_at_both_ends_only() -> None:
    from rewardlab.rl import openrlhf_texts

    assert openrlhf_texts(["<pad><pad>Human: hi<pad>x<pad>", "plain"], "<pad>") == ["Human: hi<pad>x", "plain"]
    assert openrlhf_texts(["<pad>a"], None) == ["<pad>a"]
