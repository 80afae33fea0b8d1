"""How much forward work ``train.group_by_prompt`` saves on the demo's world (issue 23).

Counts, for one epoch's batch plan of the demo's training split, the rows of the forward passes
(after identical sequences of a batch share one row) and the padded tokens, with and without
grouping, at 3 and at 6 labelled pairs per prompt. No training: the plan and the collation are
the ones the training loop runs, so the counts are exact; the wall-time effect is measured by
running the demo itself (BENCHMARKS.md).

    python benchmarks/bench_grouped_rows.py
"""

from __future__ import annotations

from rewardlab.config import apply_overrides, config_from_dict
from rewardlab.pipeline.demo import demo_defaults
from rewardlab.train import RunConfig
from rewardlab.train.batching import epoch_batches
from rewardlab.train.data import load_run_data
from rewardlab.train.examples import Batch, build_examples
from rewardlab.train.run import apply_lengths, build_model


def main() -> None:
    print("| pairs per prompt | batch_size | grouped | train pairs | batches | forward rows | padded tokens |")
    print("|---:|---:|---|---:|---:|---:|---:|")
    for pairs, batch_size in ((3, 16), (6, 16), (6, 18)):
        raw = apply_overrides(demo_defaults(), [f"synth.pairs_per_prompt={pairs}"])
        cfg = config_from_dict(RunConfig, raw)
        data = load_run_data(cfg)
        model = build_model(cfg)
        train, _ = apply_lengths(model, data.train, cfg.data.overlong)
        examples = build_examples(model, train, cfg.loss)
        for grouped in (False, True):
            plan = epoch_batches(examples.lengths(), batch_size, seed=0, epoch=0,
                                 groups=examples.groups if grouped else None)
            rows = tokens = 0
            for indices in plan:
                batch = Batch.collate(examples, indices, model.pad_id)
                rows += batch.input_ids.shape[0]
                tokens += batch.input_ids.numel()
            print(f"| {pairs} | {batch_size} | {'yes' if grouped else 'no'} | {len(examples):,} | {len(plan):,} "
                  f"| {rows:,} | {tokens:,} |")


if __name__ == "__main__":
    main()
