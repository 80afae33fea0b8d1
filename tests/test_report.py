"""The HTML report without a browser: SVG helpers, sections, the summary, the assembled page."""

from __future__ import annotations

import html.parser
import itertools
import json
import math
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import rewardlab.report as report
from rewardlab.errors import DataError
from rewardlab.report import render_report_html, summary_paragraph, write_report
from rewardlab.report.axes import nice_domain, nice_ticks, tick_formatter
from rewardlab.report.checks import suite_section
from rewardlab.report.load import RunFiles
from rewardlab.report.markup import fixed, num, pct, unavailable
from rewardlab.report.page import render_page
from rewardlab.report.sections import ema, training_section
from rewardlab.report.summary import band_range
from rewardlab.report.svg import Series, histogram, line_chart, reliability_diagram, scatter
from test_report_rundir import PROBES, SCRIPT, audit, full_run, metrics, minimal_run, suite

SVG = "{http://www.w3.org/2000/svg}"
FULL_PLOTS = {"training-loss", "training-accuracy", "reward-distributions", "reward-margins", "reliability",
              "reward-vs-length"}
VOID = {"meta", "link", "br", "hr", "img", "input", "wbr", "col", "area", "base", "source", "track", "embed"}


class _Balance(html.parser.HTMLParser):
    """Fails on a closing tag that does not match the innermost open element."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.plots: list[str] = []
        self.tags: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        if tag == "figure":
            self.plots.append(dict(attrs).get("data-plot") or "")
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes <{self.stack[-1] if self.stack else None}>"
        self.stack.pop()


def _parse(page: str) -> _Balance:
    checker = _Balance()
    checker.feed(page)
    checker.close()
    assert checker.stack == []
    return checker


def _svg(markup: str) -> ET.Element:
    return ET.fromstring(markup)  # every chart must be well-formed XML on its own


def test_public_api_is_listed_and_resolves() -> None:
    for name in report.__all__:
        assert getattr(report, name) is not None


def test_nice_ticks_are_round_evenly_spaced_and_inside_the_range() -> None:
    assert nice_ticks(0, 1) == [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    ticks = nice_ticks(3, 97)
    steps = {round(b - a, 9) for a, b in itertools.pairwise(ticks)}
    assert len(steps) == 1 and steps.pop() in {10, 20, 25, 50}
    assert ticks[0] >= 3 and ticks[-1] <= 97
    assert nice_domain(0.13, 0.87) == (0.0, 1.0)
    assert nice_ticks(5, 5) == [5]


def test_tick_formatter_uses_enough_decimals_and_percent() -> None:
    assert tick_formatter([0, 0.2, 0.4], percent=True)(0.4) == "40%"
    assert tick_formatter([0, 0.25, 0.5])(0.25) == "0.25"
    assert tick_formatter([-2, 0, 2])(-2) == "\u22122"


def test_num_treats_none_nan_inf_bool_and_junk_as_missing() -> None:
    for bad in (None, math.nan, math.inf, True, "abc", [1]):
        assert num(bad) is None
    assert num("0.5") == 0.5 and num(3) == 3.0
    assert "n/a" in pct(math.nan) and "n/a" in fixed(None)
    assert pct(0.7245) == "72.5%" and fixed(1234) == "1,234"


def test_line_chart_breaks_the_line_at_nan_and_has_axes_legend_and_tooltips() -> None:
    pts = [(1.0, 0.7), (2.0, 0.6), (3.0, math.nan), (4.0, 0.5), (5.0, 0.45)]
    svg = line_chart("c", "Loss", [Series("train loss", pts), Series("eval loss", [(2, 0.65)], style="markers")],
                     x_label="step", y_label="loss")
    root = _svg(svg)
    train = next(g for g in root.iter(f"{SVG}g") if g.get("data-series") == "train loss")
    paths = list(train.iter(f"{SVG}path"))
    assert len(paths) == 2  # two segments either side of the NaN
    assert {t.text for t in root.iter(f"{SVG}text") if t.get("class") == "axis-label"} == {"step", "loss"}
    assert any(t.text == "eval loss" for t in root.iter(f"{SVG}text") if t.get("class") == "legend-text")
    assert sum(1 for _ in root.iter(f"{SVG}title")) >= 5


def test_line_chart_without_points_says_no_data() -> None:
    root = _svg(line_chart("c", "Empty", [Series("x", [])], x_label="step", y_label="loss"))
    assert any(t.text == "no data" for t in root.iter(f"{SVG}text"))


def test_histogram_counts_every_value_once_including_the_maximum() -> None:
    values = [0.0, 0.1, 0.5, 0.9, 1.0, math.nan]
    root = _svg(histogram("h", "Rewards", [("chosen", values, "#000"), ("rejected", [0.2, 0.3], "#f00")],
                          x_label="reward", bins=4))
    counted = {"chosen": 0, "rejected": 0}
    for g in root.iter(f"{SVG}g"):
        name = g.get("data-series")
        if name in counted:
            for rect in g.iter(f"{SVG}rect"):
                title = rect.find(f"{SVG}title")
                assert title is not None and title.text
                counted[name] += int(title.text.split(": ")[1].split(" of ")[0])
    assert counted == {"chosen": 5, "rejected": 2}  # NaN skipped, 1.0 in the last bin


def test_reliability_diagram_skips_empty_and_nan_bins_and_draws_the_diagonal() -> None:
    bins = [{"lo": 0.5, "hi": 0.6, "count": 10, "confidence": 0.55, "accuracy": 0.5},
            {"lo": 0.6, "hi": 0.7, "count": 0, "confidence": math.nan, "accuracy": math.nan},
            {"lo": 0.7, "hi": 0.8, "count": 4, "confidence": None, "accuracy": None},
            {"lo": 0.9, "hi": 1.0, "count": 7, "confidence": 0.95, "accuracy": 1.0}]
    root = _svg(reliability_diagram("r", "Reliability", bins))
    assert sum(1 for g in root.iter(f"{SVG}g") if g.get("class") == "bin") == 2
    assert any(line.get("class") == "diag" for line in root.iter(f"{SVG}line"))
    assert {t.text for t in root.iter(f"{SVG}text") if t.get("class", "").startswith("count")} == {"10", "7"}


def test_the_reliability_axis_starts_at_50_percent_even_when_a_bin_straddles_it() -> None:
    # 15 equal bins over [0, 1]: the first one in use is 46.7–53.3%, yet confidence is never below 50%
    bins = [{"lo": 7 / 15, "hi": 8 / 15, "count": 30, "confidence": 0.52, "accuracy": 0.55},
            {"lo": 0.8, "hi": 13 / 15, "count": 5, "confidence": 0.83, "accuracy": 0.8}]
    root = _svg(reliability_diagram("r", "Reliability", bins))
    x_ticks = [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "tick" and t.get("text-anchor") == "middle"]
    assert x_ticks[0] == "50%" and x_ticks[-1] == "100%"
    bar = next(r for r in root.iter(f"{SVG}rect") if r.get("class") == "bar")
    assert float(bar.get("x")) >= 66.0  # the straddling bin is drawn from the 50% line


def test_scatter_thins_drawn_points_but_bins_means_over_all_of_them() -> None:
    pts = [(float(i % 100), i / 5000) for i in range(5000)]
    root = _svg(scatter("s", "Reward vs length", [("chosen", pts, "#00f")], x_label="words", y_label="reward",
                        max_points=1500))
    dots = [c for c in root.iter(f"{SVG}circle") if c.get("class") == "pt"]
    assert len(dots) == 1250  # every 4th of 5000
    binned = next(g for g in root.iter(f"{SVG}g") if g.get("class") == "binned")
    ns = [int(re.search(r"n=(\d+)", c.find(f"{SVG}title").text).group(1)) for c in binned.iter(f"{SVG}circle")]
    assert sum(ns) == 5000 and len(ns) == 10


def test_chart_text_from_data_is_escaped() -> None:
    svg = scatter("s", "t", [("<b>x</b>", [(1, 1), (2, 2)], "#000")], x_label="a&b", y_label="y")
    assert "<b>" not in svg and "&lt;b&gt;x&lt;/b&gt;" in svg and "a&amp;b" in svg
    _svg(svg)


def test_ema_is_bias_corrected_and_keeps_gaps() -> None:
    out = ema([1.0, None, 3.0], 0.5)
    assert out[0] == 1.0 and out[1] is None and out[2] == pytest.approx((0.25 * 1 + 0.5 * 3) / 0.75)


def test_training_section_explains_a_missing_or_empty_history() -> None:
    assert "Not available: train_history.jsonl" in training_section(None, "train_history.jsonl is not in r.")
    assert "has no lines" in training_section([], "")
    only_train = training_section([{"step": 5, "loss": 0.7, "accuracy": 0.5}], "")
    assert 'data-plot="training-loss"' in only_train and "eval_every" in only_train


def test_unavailable_note_escapes_text_and_shows_commands_as_code() -> None:
    note = unavailable("x", "run `rewardlab train` <now>")
    assert "<code>rewardlab train</code>" in note and "&lt;now&gt;" in note


def test_many_suite_failures_show_the_first_twelve_and_collapse_the_rest() -> None:
    data = suite()
    data["failures"] = [dict(data["failures"][0], id=f"check-{i}") for i in range(15)]
    html_text = suite_section(data, "")
    shown, hidden = html_text.split('<details class="more-failures">')
    assert shown.count("<code>check-") == 12 and hidden.count("<code>check-") == 3
    assert "3 more failures" in hidden


def test_band_range_names_each_band() -> None:
    assert band_range("excellent") == "≥80%"
    assert band_range("usable") == "70–75%"
    assert band_range("risky") == "<65%"


def test_summary_states_band_gold_ceiling_calibration_probes_length_and_suite() -> None:
    text = summary_paragraph(metrics(), audit(), suite())
    for expected in ("74.2%", "usable band (70–75%)", "gold order it is right 80.1%", "78.1%",
                     "3.9 points below", "overconfident", "1.84", "flagged 2 of 4 probes: flattery (high, rewarded)",
                     "Length bias is medium", "passed 38 of 40 checks", "math-017"):
        assert expected in text, expected
    assert "\n" not in text


def test_a_short_answer_bias_is_named_in_the_summary_and_the_length_badge(tmp_path: Path) -> None:
    short = {**audit(), "length": {**audit()["length"], "severity": "high", "prefers": "shorter",
                                   "acc_chosen_longer": 0.302, "acc_chosen_shorter": 0.915, "spearman": -0.71}}
    text = summary_paragraph(metrics(), short, suite())
    assert "Length bias is high: the reward favours shorter responses" in text
    assert "30.2% when the chosen response is the longer one" in text and "answering tersely" in text
    run = full_run(tmp_path / "run")
    (run / "audit.json").write_text(json.dumps(short))
    assert "high · prefers shorter" in render_report_html(run)


def test_an_uncertain_or_inverted_verdict_is_shown_with_its_interval(tmp_path: Path) -> None:
    m = metrics()
    m["eval"].update(accuracy=0.742, n_pairs=300, verdict="uncertain", accuracy_ci95=[0.69, 0.79])
    text = summary_paragraph(m, audit(), suite())
    assert "(95% CI 69.0–79.0%)" in text and "between the weak and solid bands: 300 pairs are too few" in text
    run = full_run(tmp_path / "run")
    (run / "metrics.json").write_text(json.dumps(m))
    page = render_report_html(run)
    assert 'class="headline verdict-uncertain"' in page and "between weak and solid: too few pairs to tell" in page
    assert "95% CI 69.0–79.0%" in page
    m["eval"].update(accuracy=0.368, verdict="inverted", accuracy_ci95=[0.32, 0.42])
    assert "the model is inverted, it prefers the rejected responses" in summary_paragraph(m, None, None)
    (run / "metrics.json").write_text(json.dumps(m))
    page = render_report_html(run)
    assert 'class="headline verdict-inverted"' in page and "INVERTED" in page


def test_an_uncertain_verdict_without_its_interval_names_no_unknown_band(tmp_path: Path) -> None:
    m = metrics()
    m["eval"].update(verdict="uncertain")  # a hand-edited or partial file: no accuracy_ci95
    assert "not in one band" in summary_paragraph(m, None, None)
    run = full_run(tmp_path / "run")
    (run / "metrics.json").write_text(json.dumps(m))
    page = render_report_html(run)
    assert "not in one band" in page and "unknown band" not in page


def test_summary_without_accuracy_audit_or_suite_says_so() -> None:
    m = metrics()
    m["eval"]["accuracy"] = math.nan
    text = summary_paragraph(m, None, None)
    assert "no verdict" in text and "No audit or behaviour-suite results" in text


def test_full_report_is_balanced_html_with_every_plot_and_nothing_external(tmp_path: Path) -> None:
    page = render_report_html(full_run(tmp_path / "run"), generated="2025-01-01")
    parsed = _parse(page)
    assert set(parsed.plots) == FULL_PLOTS
    assert "script" not in parsed.tags and "iframe" not in parsed.tags
    assert set(re.findall(r"https?://[^\s\"'<>]+", page)) == {"http://www.w3.org/2000/svg"}
    assert not re.search(r"""(?:src|href)=["'](?!#|data:)""", page)
    assert not re.search(r"\bnan\b", page, re.IGNORECASE)
    for name in (*PROBES, "math-017", "refusal-003", "USABLE"):
        assert name in page
    assert "2 flagged" in page  # audit.json's "flagged" also names "length", which is not a probe


def test_script_in_data_is_escaped_everywhere(tmp_path: Path) -> None:
    run = full_run(tmp_path / "run")
    (run / "config.yaml").write_text(f"model:\n  backbone: '</pre>{SCRIPT}'\n")
    page = render_report_html(run)
    assert "<script" not in page
    assert page.count("&lt;script&gt;document.title=&quot;pwned&quot;&lt;/script&gt;") >= 3


def test_minimal_report_explains_every_missing_file(tmp_path: Path) -> None:
    page = render_report_html(minimal_run(tmp_path / "run"))
    parsed = _parse(page)
    assert parsed.plots == []
    for name in ("train_history.jsonl", "eval_scores.jsonl", "audit.json", "suite.json", "config.yaml",
                 "data_report.json"):
        assert f"{name} is not in" in page, name
    assert "RISKY" in page and "reliability bins" in page


def test_report_handles_nan_where_numbers_are_expected(tmp_path: Path) -> None:
    m = metrics()
    m["eval"].update(ece=math.nan, temperature=math.nan, reward={"chosen_mean": math.nan})
    m["eval"]["by_subset"]["arithmetic"]["accuracy"] = math.nan
    (tmp_path / "metrics.json").write_text(json.dumps(m))
    page = render_report_html(tmp_path)
    _parse(page)
    assert not re.search(r"\bnan\b", page, re.IGNORECASE)


def test_write_report_defaults_to_run_dir_and_accepts_out(tmp_path: Path) -> None:
    run = minimal_run(tmp_path / "run")
    assert write_report(run) == run / "report.html" and (run / "report.html").read_text().startswith("<!DOCTYPE")
    out = write_report(run, tmp_path / "elsewhere" / "r.html")
    assert out.is_file()


def test_write_report_to_an_unwritable_path_raises_data_error(tmp_path: Path) -> None:
    run = minimal_run(tmp_path / "run")
    (tmp_path / "file").write_text("x")
    with pytest.raises(DataError, match="cannot write the report"):
        write_report(run, tmp_path / "file" / "r.html")


def _paths(value: object, prefix: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    """Every key path into ``value``'s objects, and into the first element of each array."""
    out: list[tuple[object, ...]] = []
    if isinstance(value, dict):
        for key, item in value.items():
            out += [(*prefix, key), *_paths(item, (*prefix, key))]
    elif isinstance(value, list) and value:
        out += _paths(value[0], (*prefix, 0))
    return out


def _with(value: object, path: tuple[object, ...], new: object) -> object:
    copy = json.loads(json.dumps(value))
    target = copy
    for key in path[:-1]:
        target = target[key]  # type: ignore[index]
    target[path[-1]] = new  # type: ignore[index]
    return copy


def test_every_entry_of_the_wrong_type_reads_as_absent_and_never_breaks_the_page() -> None:
    files = {"metrics": metrics(), "audit": audit(), "suite": suite()}
    for name, value in files.items():
        for path in _paths(value):
            for bad in (7, "text", [1, "x"], {"z": 1}):
                parts = {**files, name: _with(value, path, bad)}
                run = RunFiles(run_dir=Path("run"), metrics=parts["metrics"], audit=parts["audit"],  # type: ignore[arg-type]
                               suite=parts["suite"])  # type: ignore[arg-type]
                try:
                    render_page(run, generated="2025-01-01")
                except Exception as err:
                    raise AssertionError(f"{name}.json {path} = {bad!r}: {type(err).__name__}: {err}") from err


def test_hand_edited_audit_length_that_is_not_an_object_is_said_to_be_absent(tmp_path: Path) -> None:
    run = full_run(tmp_path / "run")
    (run / "audit.json").write_text(json.dumps({**audit(), "length": "medium"}))
    page = render_report_html(run)
    assert "audit.json has no length entry" in page and "Length bias is" not in page


def test_a_null_interval_bound_shows_as_unbounded(tmp_path: Path) -> None:
    row = audit()
    row["n_prompts"] = 1
    row["probes"][0]["ci95"] = [None, None]
    run = full_run(tmp_path / "run")
    (run / "audit.json").write_text(json.dumps(row))
    page = render_report_html(run)
    assert "[\u2212∞, +∞]" in page and "1,200 pairs of 1 prompt probed" in page
    assert "The audit saw only 1 distinct prompt, too few for any verdict (it needs 10)." in page


@pytest.mark.parametrize(("normalized", "said"), [(False, True), (True, False), (None, False), ("no", False)])
def test_suite_section_says_when_thresholds_compared_raw_rewards(normalized: object, said: bool) -> None:
    row = suite()
    if normalized is not None:
        row["normalized"] = normalized
    html_text = suite_section(row, "")
    assert ("Threshold checks compared raw rewards: the model has no saved normalization statistics."
            in html_text) is said



def test_raw_reward_note_is_left_out_when_the_suite_lists_only_pair_checks() -> None:
    row = {**suite(), "normalized": False}
    row["checks"] = [f for f in row["failures"] if f["kind"] == "pair"]
    assert "compared raw rewards" not in suite_section(row, "")
    row["checks"] = row["failures"]
    assert "compared raw rewards" in suite_section(row, "")


def test_a_worse_calibration_is_not_drawn_as_an_improvement(tmp_path: Path) -> None:
    run = full_run(tmp_path / "run")
    m = json.loads((run / "metrics.json").read_text())
    m["eval"].update(ece=0.117, ece_calibrated=0.145, temperature=1.7)
    (run / "metrics.json").write_text(json.dumps(m))
    page = render_report_html(run)
    assert "0.117 → 0.145" not in page and "temperature scaling does not help" in page
    assert "does not lower the ECE here" in page


def test_reward_numbers_share_the_decimals_of_the_reward_scale(tmp_path: Path) -> None:
    from rewardlab.digits import decimals_for

    assert [decimals_for(x) for x in (1.34, 0.2976, 0.02067, 134.0, 0.0)] == [2, 3, 4, 0, 3]
    small = {**audit(), "reward_std": 0.02067}
    small["probes"] = [{**p, "mean_delta": 0.00125, "ci95": [0.000102, 0.0024]} for p in small["probes"]]
    run = full_run(tmp_path / "run")
    (run / "audit.json").write_text(json.dumps(small))
    page = render_report_html(run)
    assert "reward std 0.0207" in page
    assert "+0.0013 <small" in page and "[+0.0001, +0.0024]" in page  # one format for Δ and its interval
