"""Reward-hacking audit: bias probes, length-controlled accuracy and their severity verdicts.

``run_probes(scorer, pairs)`` scores held-out comparisons and transformed copies of their
responses (padding, markdown, hedging, sycophancy, repetition, confident-wrong vs
hedged-right) and returns an :class:`AuditReport`; see ``docs/audit.md``.
"""

from rewardlab.audit.claims import extract_claim
from rewardlab.audit.length import (
    LengthBias,
    length_bias,
    length_controlled_accuracy,
    length_direction,
    length_severity,
)
from rewardlab.audit.probes import DEFAULT_PROBES, Example, Probe, ProbeResult, Transform, probe_severity
from rewardlab.audit.report import AuditReport, render_audit
from rewardlab.audit.run import SupportsScore, run_probes
from rewardlab.audit.severity import MIN_CLUSTERS, SEVERITIES, SIGNIFICANCE_Z, Severity
from rewardlab.audit.stats import MeanEstimate, mean_estimate, pearson, spearman
from rewardlab.audit.text import sentences, word_count
from rewardlab.audit.transforms import confident, dehedge, hedge, markdown, pad, repeat, sycophancy

__all__ = [
    "DEFAULT_PROBES",
    "MIN_CLUSTERS",
    "SEVERITIES",
    "SIGNIFICANCE_Z",
    "AuditReport",
    "Example",
    "LengthBias",
    "MeanEstimate",
    "Probe",
    "ProbeResult",
    "Severity",
    "SupportsScore",
    "Transform",
    "confident",
    "dehedge",
    "extract_claim",
    "hedge",
    "length_bias",
    "length_controlled_accuracy",
    "length_direction",
    "length_severity",
    "markdown",
    "mean_estimate",
    "pad",
    "pearson",
    "probe_severity",
    "render_audit",
    "repeat",
    "run_probes",
    "sentences",
    "spearman",
    "sycophancy",
    "word_count",
]
