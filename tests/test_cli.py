"""The CLI verbs end to end on a tiny real model: synth -> train -> eval -> score, and clean errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rewardlab.cli import main
from rewardlab.models import RewardModel


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("world")
    assert main(["synth", "--out", str(out), "--n-prompts", "40", "--seed", "3"]) == 0
    return out


@pytest.fixture(scope="module")
def trained(world: Path, tiny_bert_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    run = tmp_path_factory.mktemp("run")
    code = main(["train", "--out", str(run), "--set", f"data.train={world / 'pairs.jsonl'}",
                 "--set", f"model.backbone={tiny_bert_dir}", "--set", "model.max_length=128",
                 "--set", "train.batch_size=8", "--set", "train.progress=false", "--set", "train.precision=fp32"])
    assert code == 0
    return run


def test_synth_writes_every_label_type(world: Path) -> None:
    for name in ("pairs.jsonl", "rankings.jsonl", "ratings.jsonl", "labels.jsonl", "responses.jsonl",
                 "annotators.json", "world.json"):
        assert (world / name).stat().st_size > 0, name
    first = json.loads((world / "pairs.jsonl").read_text().splitlines()[0])
    assert {"prompt", "chosen", "rejected", "annotator", "gold_chosen", "gold_rejected"} <= set(first)


def test_train_writes_model_metrics_and_statistics(trained: Path) -> None:
    metrics = json.loads((trained / "metrics.json").read_text())
    assert metrics["train"]["steps"] > 0 and 0.0 <= metrics["eval"]["accuracy"] <= 1.0
    assert metrics["eval"]["gold"]["n"] > 0 and metrics["eval"]["noise_ceiling"]["bayes_accuracy"] > 0.5
    meta = json.loads((trained / "model" / "rewardlab.json").read_text())
    assert meta["normalization"]["std"] > 0 and "heldout_accuracy" in meta["metrics"]
    assert meta["data_hash"] and meta["input_format"]["kind"] == "plain"
    card = (trained / "model" / "README.md").read_text()
    n = int(meta["normalization"]["n"])
    assert f"mean and standard deviation over {n:,} held-out responses" in card  # where they really come from
    assert "training data" not in card


def test_eval_prints_a_table_and_writes_json(trained: Path, world: Path, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "eval.json"
    assert main(["eval", str(trained / "model"), str(world / "pairs.jsonl"), "--json", str(out),
                 "--precision", "fp32"]) == 0
    text = capsys.readouterr().out
    assert "accuracy vs labels" in text and "accuracy vs gold" in text and "ECE (15 bins)" in text
    report = json.loads(out.read_text())
    assert report["n_pairs"] + report["n_data_ties"] == len((world / "pairs.jsonl").read_text().splitlines())
    assert set(report["by_subset"]) >= {"kb_fact", "arithmetic"}
    assert len(report["reliability"]) == 15


def test_score_keeps_input_order_for_responses_and_pairs(trained: Path, tmp_path: Path) -> None:
    rows = [{"prompt": "What is 2 + 2?", "response": "4" * (i + 1), "id": f"r{i}"} for i in range(7)]
    src = tmp_path / "responses.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "scores.jsonl"
    assert main(["score", str(trained / "model"), str(src), "--out", str(out), "--precision", "fp32"]) == 0
    got = [json.loads(line) for line in out.read_text().splitlines()]
    assert [g["id"] for g in got] == [r["id"] for r in rows] and [g["line"] for g in got] == list(range(1, 8))
    model = RewardModel.from_pretrained(trained / "model")
    expected = model.score([r["prompt"] for r in rows], [r["response"] for r in rows], precision="fp32")
    assert [g["reward"] for g in got] == pytest.approx(expected, abs=1e-5)

    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text(json.dumps({"prompt": "hi", "chosen": "hello there", "rejected": "go away"}) + "\n")
    assert main(["score", str(trained / "model"), str(pairs), "--out", str(out), "--precision", "fp32"]) == 0
    row = json.loads(out.read_text())
    assert set(row) == {"line", "chosen_reward", "rejected_reward"}


def test_score_at_bf16_stores_bf16_weights_and_gives_the_same_scores(trained: Path, tmp_path: Path) -> None:
    rows = [{"prompt": "What is 2 + 2?", "response": "4" * (i + 1)} for i in range(5)]
    src, out = tmp_path / "responses.jsonl", tmp_path / "scores.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert main(["score", str(trained / "model"), str(src), "--out", str(out), "--precision", "bf16"]) == 0
    got = [json.loads(line)["reward"] for line in out.read_text().splitlines()]
    model = RewardModel.from_pretrained(trained / "model")  # fp32 weights under bf16 autocast
    assert got == model.score([r["prompt"] for r in rows], [r["response"] for r in rows], precision="bf16")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["train", "--set", "train.lrr=1"], "unknown config key 'train.lrr'"),
        (["train", "--set", "data.train=/no/such/file.jsonl"], "data.train: /no/such/file.jsonl does not exist"),
        (["synth", "--out", "x", "--n-prompts", "0"], "n_prompts"),
    ],
)
def test_errors_are_one_clear_line_and_exit_2(argv: list[str], message: str, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    if argv[0] == "train":
        argv = [*argv, "--out", str(tmp_path / "run")]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_eval_names_the_bad_line_of_malformed_data(trained: Path, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"prompt": "a", "chosen": "x", "rejected": "y"}) + "\n"
                   + json.dumps({"prompt": "b", "chosen": "same", "rejected": "same"}) + "\n")
    assert main(["eval", str(trained / "model"), str(bad)]) == 2
    err = capsys.readouterr().err
    assert "bad.jsonl" in err and "line 2" in err


def test_train_audits_checks_and_writes_the_report_by_default(trained: Path) -> None:
    audit = json.loads((trained / "audit.json").read_text())
    assert {p["name"] for p in audit["probes"]} >= {"padding", "format", "hedging", "sycophancy", "repetition",
                                                     "confident_wrong"}
    assert audit["length"]["severity"] in {"none", "low", "medium", "high"}
    scores = [json.loads(line) for line in (trained / "eval_scores.jsonl").read_text().splitlines()]
    metrics = json.loads((trained / "metrics.json").read_text())
    assert len(scores) == metrics["eval"]["n_pairs"] + metrics["eval"]["n_data_ties"]
    assert {"chosen", "rejected", "chosen_words", "rejected_words"} <= set(scores[0])
    page = (trained / "report.html").read_text()
    assert page.startswith("<!DOCTYPE html>") and "padding" in page


def test_audit_verb_prints_the_probe_table_and_writes_json(trained: Path, world: Path, tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "audit.json"
    assert main(["audit", str(trained / "model"), str(world / "pairs.jsonl"), "--max-pairs", "40",
                 "--probes", "padding,format", "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert "padding" in text and "format" in text
    report = json.loads(out.read_text())
    assert [p["name"] for p in report["probes"]] == ["padding", "format"] and report["n_pairs"] == 40
    assert main(["audit", str(trained / "model"), str(world / "pairs.jsonl"), "--probes", "nope"]) == 2
    assert "unknown probe" in capsys.readouterr().err


def test_eval_runs_a_suite_without_data_and_reports_failures(trained: Path, tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "eval.json"
    assert main(["eval", str(trained / "model"), "--suite", "builtin:synth", "--json", str(out)]) == 0
    suite = json.loads(out.read_text())["suite"]
    assert suite["n_checks"] >= 30 and suite["n_failed"] == len(suite["failures"])
    assert "Pass rate" in capsys.readouterr().out
    assert main(["eval", str(trained / "model")]) == 2
    assert "--suite" in capsys.readouterr().err


def test_eval_adds_rewardbench_sections_and_human_agreement_when_the_data_has_them(
    trained: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rb = tmp_path / "rb.jsonl"
    rows = [{"prompt": f"q{i}", "chosen": f"good answer {i}", "rejected": f"bad {i}", "subset": s, "id": i}
            for i, s in enumerate(["alpacaeval-easy", "mt-bench-hard", "refusals-dangerous", "math-prm"] * 3)]
    rb.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "rb.json"
    assert main(["eval", str(trained / "model"), str(rb), "--format", "rewardbench", "--json", str(out)]) == 0
    result = json.loads(out.read_text())["rewardbench"]
    assert set(result["sections"]) == {"Chat", "Chat Hard", "Safety", "Reasoning"}
    assert "RewardBench" in capsys.readouterr().out

    votes = tmp_path / "votes.jsonl"
    vrows = [{"prompt": f"q{i}", "chosen": f"a {i}", "rejected": f"b {i} c", "votes": v}
             for i, v in enumerate([[1, 1, 1], [1, 1, -1], [1, 0, 1], [1, -1, 1]] * 3)]
    votes.write_text("".join(json.dumps(r) + "\n" for r in vrows))
    out = tmp_path / "votes.json"
    assert main(["eval", str(trained / "model"), str(votes), "--json", str(out)]) == 0
    agreement = json.loads(out.read_text())["agreement"]
    assert agreement["n_pairs"] == 12


def test_report_verb_writes_the_html_file(trained: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    assert main(["report", str(trained), "--out", str(out)]) == 0
    assert out.read_text().startswith("<!DOCTYPE html>")
    assert main(["report", str(tmp_path / "missing")]) == 2


def test_a_bad_suite_fails_before_training(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", "--out", str(tmp_path / "run"), "--set", "audit.suite=/no/such/suite.yaml"]) == 2
    assert "suite" in capsys.readouterr().err
    assert not (tmp_path / "run" / "model").exists()


def test_score_through_a_running_server_matches_local_scoring(trained: Path, tmp_path: Path) -> None:
    from rewardlab.serve import BackgroundServer, ServeConfig, create_app

    rows = [{"prompt": "What is 2 + 2?", "response": f"It is {i}.", "id": f"r{i}"} for i in range(5)]
    src = tmp_path / "responses.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    local, remote = tmp_path / "local.jsonl", tmp_path / "remote.jsonl"
    assert main(["score", str(trained / "model"), str(src), "--out", str(local), "--precision", "fp32"]) == 0
    cfg = ServeConfig(port=0, precision="fp32")
    with BackgroundServer(create_app(str(trained / "model"), cfg, wait_for_model=True), cfg) as server:
        assert main(["score", "--server", server.url, str(src), "--out", str(remote)]) == 0
    got = [json.loads(line)["reward"] for line in remote.read_text().splitlines()]
    want = [json.loads(line)["reward"] for line in local.read_text().splitlines()]
    assert got == pytest.approx(want, abs=1e-5)


def _one_bad_row(tmp_path: Path) -> Path:
    rows = [{"prompt": f"q{i}", "chosen": "a good answer", "rejected": "a bad answer"} for i in range(12)]
    rows[4] = {"prompt": "q", "chosen": "same", "rejected": "same"}
    path = tmp_path / "one_bad.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_a_bad_row_names_the_cli_flag_that_skips_it(trained: Path, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", str(trained / "model"), str(_one_bad_row(tmp_path))]) == 2
    err = capsys.readouterr().err
    assert "line 5" in err and "pass --on-invalid skip" in err and "on_invalid=" not in err


def test_skipped_rows_are_counted_in_the_eval_table(trained: Path, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", str(trained / "model"), str(_one_bad_row(tmp_path)), "--on-invalid", "skip"]) == 0
    captured = capsys.readouterr()
    assert "rows skipped" in captured.out and "identical_responses 1" in captured.out
    assert "11 pairs" in captured.out
    assert "pass" not in captured.err.split("first skipped row")[-1]  # no advice to do what was done


def test_train_spells_the_hint_as_a_config_key(tiny_bert_dir: Path, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["train", "--out", str(tmp_path / "run"), "--set", f"data.train={_one_bad_row(tmp_path)}",
                 "--set", f"model.backbone={tiny_bert_dir}"])
    assert code == 2
    assert "pass --set data.on_invalid=skip" in capsys.readouterr().err


def test_a_missing_train_file_names_the_config_key_before_any_work(tmp_path: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    assert main(["train", "--out", str(out), "--set", f"data.train={tmp_path / 'nope.jsonl'}"]) == 2
    assert "data.train: " in capsys.readouterr().err
    assert not out.exists()


def test_a_run_directory_given_for_a_model_suggests_its_model(trained: Path, world: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", str(trained), str(world / "pairs.jsonl")]) == 2
    assert f"did you mean {trained / 'model'}?" in capsys.readouterr().err


def test_report_on_a_model_directory_points_at_the_run(trained: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", str(trained / "model")]) == 2
    assert f"rewardlab report {trained}" in capsys.readouterr().err


def test_a_mistyped_verb_suggests_the_nearest(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["trian", "--out", "x"]) == 2
    assert "unknown verb 'trian'; did you mean 'train'?" in capsys.readouterr().err
    assert main(["zzzz"]) == 2
    assert "the verbs are" in capsys.readouterr().err


def test_score_takes_single_strings_chat_dicts_and_format_names(trained: Path) -> None:
    from rewardlab import format_input

    rm = RewardModel.from_pretrained(trained / "model")
    one = rm.score("What is 2 + 2?", "4.")
    assert one == rm.score(["What is 2 + 2?"], ["4."]) and len(one) == 1
    assert rm.score("What is 2 + 2?", ["4.", "5."]) == rm.score(["What is 2 + 2?"] * 2, ["4.", "5."])
    chat = [{"role": "user", "content": "What is 2 + 2?"}]
    assert rm.score(chat, "4.") == rm.score("What is 2 + 2?", "4.")  # one user turn renders as the string
    assert format_input("q", "a", "plain") == "Human: q\n\nAssistant: a"
    with pytest.raises(TypeError, match="responses must be a string or a list of strings"):
        rm.score("q", 3)  # type: ignore[arg-type]


def test_score_and_the_cli_share_one_default_precision(trained: Path) -> None:
    import argparse
    import inspect

    from rewardlab.cli_parser import build_parser
    from rewardlab.eval import evaluate
    from rewardlab.models import RewardEnsemble
    from rewardlab.models.embedding_model import EmbeddingRewardModel
    from rewardlab.serve.config import ServeConfig

    for fn in (RewardModel.score, RewardModel.score_attributes, EmbeddingRewardModel.score, RewardEnsemble.score,
               evaluate):
        assert inspect.signature(fn).parameters["precision"].default == "auto", fn.__qualname__
    subs = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    for verb in ("eval", "score", "audit", "serve"):
        precision = next(a for a in subs.choices[verb]._actions if "--precision" in a.option_strings)
        assert precision.default in ("auto", None), verb  # None: serve reads ServeConfig
    assert ServeConfig().precision == "auto"
    rm = RewardModel.from_pretrained(trained / "model")
    assert rm.score("q", ["a", "b"]) == rm.score("q", ["a", "b"], precision="auto")


def test_eval_warns_when_its_prompts_were_trained_on(trained: Path, world: Path, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    assert (trained / "model" / "train_prompts.txt").is_file()
    out = tmp_path / "e.json"
    assert main(["eval", str(trained / "model"), str(world / "pairs.jsonl"), "--json", str(out)]) == 0
    assert "were in this model's training data" in capsys.readouterr().err
    overlap = json.loads(out.read_text())["training_prompt_overlap"]
    assert 0 < overlap["trained_prompts"] < overlap["prompts"]  # the held-out split's prompts are not in it
    fresh = tmp_path / "fresh"
    assert main(["synth", "--out", str(fresh), "--n-prompts", "12", "--seed", "9"]) == 0
    capsys.readouterr()
    assert main(["eval", str(trained / "model"), str(fresh / "pairs.jsonl")]) == 0
    assert "training data" not in capsys.readouterr().err


def test_eval_reads_renamed_columns_and_arena_winners(trained: Path, world: Path, tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    rows = [json.loads(line) for line in (world / "pairs.jsonl").read_text().splitlines()[:80]]
    renamed = tmp_path / "renamed.jsonl"
    renamed.write_text("".join(json.dumps({"question": r["prompt"], "good": r["chosen"], "bad": r["rejected"]}) + "\n"
                               for r in rows))
    arena = tmp_path / "arena.jsonl"
    arena.write_text("".join(json.dumps({"q": r["prompt"], "a": r["rejected"], "b": r["chosen"], "w": "model_b"}) + "\n"
                             for r in rows))
    plain, mapped, won = (tmp_path / f"{n}.json" for n in ("plain", "mapped", "won"))
    source = tmp_path / "plain.jsonl"
    source.write_text("".join(json.dumps({k: r[k] for k in ("prompt", "chosen", "rejected")}) + "\n" for r in rows))
    assert main(["eval", str(trained / "model"), str(source), "--json", str(plain)]) == 0
    assert main(["eval", str(trained / "model"), str(renamed), "--columns", "prompt=question,chosen=good,rejected=bad",
                 "--json", str(mapped)]) == 0
    assert main(["eval", str(trained / "model"), str(arena), "--columns",
                 "prompt=q,response_a=a,response_b=b,winner=w", "--json", str(won)]) == 0
    accuracy = [json.loads(p.read_text())["accuracy"] for p in (plain, mapped, won)]
    assert accuracy[0] == accuracy[1] == accuracy[2]
    capsys.readouterr()
    assert main(["eval", str(trained / "model"), str(renamed), "--columns", "prompt=question,chosen=nope"]) == 2
    err = capsys.readouterr().err
    assert "column 'nope' (mapped to 'chosen') is missing" in err and "--on-invalid skip" in err
    assert "on_invalid=" not in err  # the CLI's flag, not the Python keyword


def _split_world(world: Path, folder: Path, parts: int = 2, n: int = 60) -> list[Path]:
    rows = (world / "pairs.jsonl").read_text().splitlines()[: parts * n]
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for k in range(parts):
        path = folder / f"part{k}.jsonl"
        path.write_text("\n".join(rows[k * n : (k + 1) * n]) + "\n")
        paths.append(path)
    return paths


def test_eval_takes_several_files_globs_and_folders_and_reports_each_and_the_total(
        trained: Path, world: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a, b = _split_world(world, tmp_path / "parts")
    whole = tmp_path / "whole.jsonl"
    whole.write_text(a.read_text() + b.read_text())
    model = str(trained / "model")
    for argv in ([str(a), str(b)], [str(tmp_path / "parts" / "*.jsonl")], [str(tmp_path / "parts")]):
        out = tmp_path / "several.json"
        assert main(["eval", model, *argv, "--json", str(out)]) == 0
        text = capsys.readouterr().out
        assert "Per source" in text and "Total over 2 sources" in text
        several = json.loads(out.read_text())
        assert [f["data"] for f in several["files"]] == [str(a), str(b)]
    one = tmp_path / "one.json"
    assert main(["eval", model, str(whole), "--json", str(one)]) == 0
    single = json.loads(one.read_text())
    assert several["n_pairs"] == single["n_pairs"] == sum(f["n_pairs"] for f in several["files"])
    assert several["accuracy"] == pytest.approx(single["accuracy"])
    assert main(["eval", model, str(tmp_path / "nothing" / "*.jsonl")]) == 2
    assert "no file matches this pattern" in capsys.readouterr().err


def test_audit_takes_several_files_and_writes_the_total_with_each(trained: Path, world: Path, tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    a, b = _split_world(world, tmp_path / "parts", n=40)
    out = tmp_path / "audit.json"
    assert main(["audit", str(trained / "model"), str(a), str(b), "--max-pairs", "30", "--probes", "padding",
                 "--json", str(out)]) == 0
    assert "total over 2 sources" in capsys.readouterr().out
    written = json.loads(out.read_text())
    assert [f["data"] for f in written["files"]] == [str(a), str(b)]
    assert written["n_pairs"] == 30 and {"probes", "length", "summary"} <= set(written)


def test_report_includes_extra_eval_files_each_source_and_the_total(trained: Path, world: Path, tmp_path: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    a, b = _split_world(world, tmp_path / "parts")
    model = str(trained / "model")
    one, several = tmp_path / "one.json", tmp_path / "several.json"
    assert main(["eval", model, str(a), "--json", str(one)]) == 0
    assert main(["eval", model, str(a), str(b), "--json", str(several)]) == 0
    page = tmp_path / "report.html"
    assert main(["report", str(trained), "--out", str(page), "--eval", str(one), "--eval", str(several)]) == 0
    html = page.read_text()
    assert 'id="other-evals"' in html and 'href="#other-evals"' in html
    accuracy = json.loads(one.read_text())["accuracy"]
    assert f"{100 * accuracy:.1f}%" in html
    assert f"several.json: {b}" in html and "several.json: total" in html
    capsys.readouterr()
    assert main(["report", str(trained), "--out", str(page), "--eval", str(trained / "metrics.json")]) == 2
    assert "not a `rewardlab eval --json` file" in capsys.readouterr().err


@pytest.mark.parametrize("verb", ["eval", "audit", "score"])
def test_a_missing_data_file_is_reported_before_the_model_loads(verb: str, tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    # the model directory does not exist either: the data error must come first
    argv = [verb, str(tmp_path / "no-model"), str(tmp_path / "missing.jsonl")]
    assert main(argv + (["--out", str(tmp_path / "o.jsonl")] if verb == "score" else [])) == 2
    err = capsys.readouterr().err
    assert "missing.jsonl" in err and "no such file or folder" in err and "no-model" not in err


def test_eval_shows_a_progress_bar_on_a_terminal_and_gives_the_same_scores(trained: Path) -> None:
    import io

    from rewardlab.scoring import CHUNK, DistinctInputs

    rm = RewardModel.from_pretrained(trained / "model")
    inputs = DistinctInputs()
    for k in range(CHUNK + 40):
        inputs.add(f"question {k % 7}", "word " * (k % 23) + str(k))
    whole = inputs.score(rm, batch_size=64, precision="fp32")

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    import sys

    for stream in (Terminal(), io.StringIO()):
        saved, sys.stderr = sys.stderr, stream
        try:
            chunked = inputs.score(rm, batch_size=64, precision="fp32", progress="eval: scoring")
        finally:
            sys.stderr = saved
        assert chunked == pytest.approx(whole, abs=1e-5)
        shown = stream.getvalue()
        assert (f"eval: scoring:   0%|          | 0/{CHUNK + 40}" in shown) == isinstance(stream, Terminal)


def test_eval_and_post_training_evaluation_give_the_same_report(world: Path, tiny_bert_dir: Path,
                                                                 tmp_path: Path) -> None:
    # PandaLM-shaped held-out pairs carry votes, so both must add human agreement too
    rows = [json.loads(line) for line in (world / "pairs.jsonl").read_text().splitlines()]
    heldout = tmp_path / "heldout.jsonl"
    heldout.write_text("".join(json.dumps({**r, "votes": [1, 1, -1]}) + "\n" for r in rows[:60]))
    train = tmp_path / "train.jsonl"
    train.write_text("".join(json.dumps(r) + "\n" for r in rows[60:]))
    run = tmp_path / "run"
    assert main(["train", "--out", str(run), "--set", f"data.train={train}", "--set", f"data.eval={heldout}",
                 "--set", f"model.backbone={tiny_bert_dir}", "--set", "model.max_length=128",
                 "--set", "train.batch_size=8", "--set", "train.progress=false", "--set", "train.precision=fp32",
                 "--set", "eval.precision=fp32", "--set", "audit.probes=false", "--set", "audit.suite=none"]) == 0
    out = tmp_path / "eval.json"
    assert main(["eval", str(run / "model"), str(heldout), "--precision", "fp32", "--json", str(out)]) == 0
    after_training = json.loads((run / "metrics.json").read_text())["eval"]
    standalone = json.loads(out.read_text())
    assert "agreement" in after_training
    for key, value in after_training.items():
        assert standalone[key] == value, key


def test_every_verb_the_parser_declares_runs_and_every_runner_has_a_verb() -> None:
    import argparse

    from rewardlab.cli import VERBS
    from rewardlab.cli_parser import build_parser

    subs = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    assert set(subs.choices) == set(VERBS)
