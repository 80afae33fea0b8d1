"""The over-optimization study end to end on a tiny real model: candidates, cached scoring, rules, overopt.json, CLI."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from rewardlab.cli import main
from rewardlab.config import load_config
from rewardlab.errors import ConfigError, DataError
from rewardlab.models import RewardEnsemble
from rewardlab.overopt.candidates import load_candidates, synth_candidates
from rewardlab.overopt.config import OverOptConfig
from rewardlab.overopt.study import run_study
from rewardlab.synth.candidates import AttributePolicy
from serve_support import tiny_reward_model


@pytest.fixture(scope="module")
def proxy_dir(tiny_bert_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_reward_model(tiny_bert_dir).save_pretrained(tmp_path_factory.mktemp("oo") / "proxy")


@pytest.fixture(scope="module")
def ensemble_dir(tiny_bert_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    members = [tiny_reward_model(tiny_bert_dir, seed=s) for s in (1, 2, 3)]
    return RewardEnsemble(members, aggregate="mean").save_pretrained(tmp_path_factory.mktemp("oo") / "ens")


def test_synthetic_candidates_are_fresh_deterministic_and_repeat_texts() -> None:
    a = synth_candidates(n_prompts=6, n=300, seed=3)
    b = synth_candidates(n_prompts=6, n=300, seed=3)
    assert a == b
    assert a.prompts[0].prompt_id == "p100000" and all(p.n == 300 for p in a.prompts)
    assert a.distinct() < 6 * 300 / 2  # repeated draws repeat texts: scoring is paid per distinct text
    assert a.has_gold and all(-2.5 <= g <= 2.8 for p in a.prompts for g in (p.gold or ()))


def test_the_reference_policy_changes_what_is_sampled() -> None:
    clean = synth_candidates(n_prompts=6, n=400, policy=AttributePolicy(filler=(1.0, 0.0, 0.0, 0.0), correct=0.9))
    padded = synth_candidates(n_prompts=6, n=400, policy=AttributePolicy(filler=(0.0, 0.0, 0.0, 1.0), correct=0.9))
    words = [sum(len(r.split()) for p in c.prompts for r in p.responses) for c in (clean, padded)]
    assert words[1] > 1.5 * words[0]


def _study(tmp_path: Path, *sets: str) -> dict:
    cfg = load_config(OverOptConfig, None, [f"cache_dir={tmp_path / 'cache'}", "n_prompts=8", "n=60",
                                            "bootstrap=50", "points=8", "precision=fp32", *sets])
    run_study(cfg, tmp_path / "out", log=lambda _: None, progress=False)
    return json.loads((tmp_path / "out" / "overopt.json").read_text())


def test_the_study_writes_curves_fits_and_a_verdict(proxy_dir: Path, tmp_path: Path) -> None:
    study = _study(tmp_path, f"proxy={proxy_dir}")
    proxy = study["scorers"]["proxy"]
    bon = proxy["best_of_n"]
    assert bon["n"][0] == 1 and bon["n"][-1] == 60 and bon["kl"][0] == 0.0
    assert bon["proxy"] == sorted(bon["proxy"])  # the proxy of the best-of-n pick rises with n
    assert all(lo <= g <= hi for g, (lo, hi) in zip(bon["gold"], bon["gold_band"]))
    assert set(proxy["fits"]) == {"best_of_n", "rl"} and "r2" in proxy["fits"]["best_of_n"]
    tilted = proxy["tilted"]
    assert tilted["kl"] == sorted(tilted["kl"]) and tilted["kl"][-1] <= math.log(60) + 1e-9
    assert study["verdict"]["line"] and study["primary"] == "proxy"
    budget = study["verdict"]["kl_budget"]
    assert budget["line"] and 0 <= budget["kl"] <= math.log(60) + 1e-9
    assert study["candidates"]["prompts"] == 8 and study["rows"][0]["scorer"] == "proxy"


def test_a_rerun_reads_every_score_from_the_cache(proxy_dir: Path, tmp_path: Path) -> None:
    first = _study(tmp_path, f"proxy={proxy_dir}")
    (tmp_path / "out" / "overopt.json").unlink()
    second = _study(tmp_path, f"proxy={proxy_dir}")
    counts = second["scoring"]["per_scorer"]["proxy model"]
    assert counts["scored"] == 0 and counts["cached"] == counts["distinct"] > 0
    assert second["scorers"]["proxy"]["best_of_n"]["gold"] == first["scorers"]["proxy"]["best_of_n"]["gold"]


def test_an_ensemble_is_studied_under_every_conservative_rule(ensemble_dir: Path, tmp_path: Path) -> None:
    study = _study(tmp_path, f"proxy={ensemble_dir}")
    assert set(study["scorers"]) == {"ensemble:mean", "ensemble:min", "ensemble:mean_minus_var", "member-0"}
    assert study["primary"] == "ensemble:mean"
    assert len(study["scoring"]["per_scorer"]) == 3  # each member scored (and cached) on its own


def _write(path: Path, rows: list[object]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_a_user_candidates_file_with_gold_runs_the_same_study(proxy_dir: Path, tmp_path: Path) -> None:
    rows = [{"prompt_id": f"q{i}", "prompt": f"question {i}?", "response": f"answer {j} to {i}", "gold": j / 10}
            for i in range(5) for j in range(12 if i else 9)]
    path = _write(tmp_path / "cands.jsonl", rows)
    study = _study(tmp_path, f"proxy={proxy_dir}", f"candidates={path}", "gold=file")
    assert study["scorers"]["proxy"]["best_of_n"]["n"][-1] == 9  # the smallest N
    assert any("9 to 12 candidates" in n for n in study["candidates"]["notes"])


@pytest.mark.parametrize(("rows", "message"), [
    ([{"prompt": "q", "response": "a"}, {"prompt": "q"}], r"line 2, field 'response': required field is missing"),
    ([{"prompt": "q", "response": "a", "gold": 1}, {"prompt": "q", "response": "b", "gold": float("nan")}],
     r"line 2, field 'gold': gold must be a finite number"),
    ([{"prompt": "q", "response": "a", "gold": 1}, {"prompt": "q", "response": "b"}],
     r"line 2, field 'gold': gold is on some rows but not on this one"),
    ([{"prompt": "q", "response": "a"}, {"prompt": "q", "response": "b"}, {"prompt": "r", "response": "c"}],
     r"prompt 'prompt-1' \(first on line 3\) has only 1 candidate"),
    ([{"prompt": "q", "response": "  "}], r"line 1, field 'response'"),
    ([{"prompt_id": "x", "prompt": "q", "response": "a"}, {"prompt_id": "x", "prompt": "other", "response": "b"}],
     r"line 2, field 'prompt_id'"),
])
def test_bad_candidates_files_are_data_errors_naming_the_line(tmp_path: Path, rows: list[object],
                                                              message: str) -> None:
    with pytest.raises(DataError, match=message):
        load_candidates(_write(tmp_path / "c.jsonl", rows))


def test_gold_file_needs_gold_and_a_candidates_file(proxy_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="gold=file needs a candidates file"):
        load_config(OverOptConfig, None, ["gold=file"])
    path = _write(tmp_path / "c.jsonl", [{"prompt": "q", "response": "a"}, {"prompt": "q", "response": "b"}])
    with pytest.raises(DataError, match="needs gold scores"):
        _study(tmp_path, f"proxy={proxy_dir}", f"candidates={path}", "gold=file")


def test_the_overopt_verb_writes_the_study_and_prints_the_verdict(proxy_dir: Path, tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "study"
    code = main(["overopt", str(proxy_dir), "--out", str(out), "--set", "n_prompts=4", "--set", "n=30",
                 "--set", f"cache_dir={tmp_path / 'cache'}", "--set", "bootstrap=20", "--set", "points=6"])
    assert code == 0
    assert "verdict:" in capsys.readouterr().out
    assert json.loads((out / "overopt.json").read_text())["format_version"] == 1
    assert main(["overopt", str(proxy_dir), "--out", str(out)]) == 2  # a used directory is refused


def test_with_no_proxy_the_lab_trains_its_default_ensemble(tiny_bert_dir: Path, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    study = _study(tmp_path, "train.n_prompts=30", "train.members=2", f"train.backbone={tiny_bert_dir}",
                   "train.epochs=3", "experiments=false")
    assert set(study["scorers"]) == {"ensemble:mean", "ensemble:min", "ensemble:mean_minus_var", "member-0",
                                     "laplace:kappa=1"}
    assert (tmp_path / "out" / "proxy" / "member-1" / "rewardlab.json").is_file()
    assert set(study["scoring"]["per_scorer"]) == {"proxy member-0", "proxy member-1"}


def test_the_demo_runs_a_small_study_and_reports_it(tiny_bert_dir: Path, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    out = tmp_path / "demo"
    code = main(["demo", "--out", str(out), "--overopt-prompts", "3", "--set", "synth.n_prompts=60",
                 "--set", f"model.backbone={tiny_bert_dir}", "--set", "model.max_length=128",
                 "--set", "model.freeze_layers=1",  # the demo freezes 2 of MiniLM's 6; the tiny backbone has 2
                 "--set", "train.progress=false", "--set", "train.precision=fp32", "--set", "audit.probes=false"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "over-optimization" in printed
    for line in ("Verdict", "accuracy vs the gold order", "[95% CI", "plain transformers parity", "total time"):
        assert line in printed, line
    study = json.loads((out / "overopt.json").read_text())
    assert study["candidates"]["prompts"] == 3 and "50" in study["early_stopping"]["budgets"]
    assert 'data-plot="overopt-primary"' in (out / "report.html").read_text()


def test_scaling_and_iterated_updates_run_on_the_lab_s_own_proxies(tiny_bert_dir: Path, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    study = _study(tmp_path, "train.n_prompts=30", "train.members=2", f"train.backbone={tiny_bert_dir}",
                   "train.epochs=3", "scaling.budgets=[40,80]", "scaling.noises=[1.0,2.0]", "iterate.rounds=2",
                   "iterate.prompts=4", "iterate.n=40", "iterate.n_op=16")
    assert [(r["budget"], r["noise"]) for r in study["scaling"]] == [(40, 1.0), (40, 2.0), (80, 1.0), (80, 2.0)]
    assert all("alpha" in r and "peak_n" in r for r in study["scaling"])
    rounds = study["iterate"]
    assert [r["round"] for r in rounds] == [0, 1, 2] and rounds[0]["policy_labels"] == 0
    assert rounds[1]["policy_labels"] > 0 and rounds[2]["policy_labels"] > rounds[1]["policy_labels"]


def test_experiments_are_off_for_a_given_proxy_unless_asked(proxy_dir: Path, tmp_path: Path) -> None:
    study = _study(tmp_path, f"proxy={proxy_dir}")
    assert study["scaling"] == [] and study["iterate"] == []
    with pytest.raises(ConfigError, match="experiments=true needs the synthetic world"):
        load_config(OverOptConfig, None, ["experiments=true", "gold=some/model"])


def test_a_served_proxy_is_studied_through_its_url(proxy_dir: Path, tmp_path: Path) -> None:
    from rewardlab.serve import BackgroundServer, ServeConfig, create_app

    cfg = ServeConfig(precision="fp32", port=0, on_overlong="truncate")  # as local scoring truncates
    with BackgroundServer(create_app(str(proxy_dir), cfg, environ={}), cfg) as server:
        remote = _study(tmp_path / "remote", f"proxy={server.url}")
    local = _study(tmp_path / "local", f"proxy={proxy_dir}")
    assert set(remote["scorers"]) == {"proxy"}
    r, lo = remote["scorers"]["proxy"]["best_of_n"], local["scorers"]["proxy"]["best_of_n"]
    assert r["proxy"] == pytest.approx(lo["proxy"], abs=1e-4) and r["gold"] == pytest.approx(lo["gold"], abs=1e-4)


def test_a_csv_candidates_file_reads_gold_from_text_cells(tmp_path: Path) -> None:
    from filewriters import write_csv

    path = write_csv(tmp_path / "c.csv", ["prompt", "response", "gold"],
                     [["q", "a", "1.5"], ["q", "b", "-0.5"], ["r", "c", "2"], ["r", "d", "0"]])
    cands = load_candidates(path)
    assert [p.gold for p in cands.prompts] == [(1.5, -0.5), (2.0, 0.0)]
    bad = write_csv(tmp_path / "bad.csv", ["prompt", "response", "gold"], [["q", "a", "high"], ["q", "b", "1"]])
    with pytest.raises(DataError, match=r"line 2, field 'gold'"):
        load_candidates(bad)
