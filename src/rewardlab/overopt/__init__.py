"""The over-optimization lab: how hard can a policy push on a reward model before real quality falls?

Pure estimators and fits (``bon.py``: the unbiased best-of-n estimator over all N samples and
its KL; ``tilted.py``: the KL-regularized optimum over the same candidates; ``fits.py``: Gao,
Schulman & Hilton's functional forms with honest peaks), beside the study that runs them.
"""

from rewardlab.overopt.bon import BonCurve, bon_curve, bon_expectation, bon_weights, kl_bon, log_spaced_ns, n_for_kl
from rewardlab.overopt.fits import Fit, fit_bon, fit_rl
from rewardlab.overopt.tilted import TiltedCurve, tilted_curve, tilted_point

__all__ = [
    "BonCurve",
    "Fit",
    "TiltedCurve",
    "bon_curve",
    "bon_expectation",
    "bon_weights",
    "fit_bon",
    "fit_rl",
    "kl_bon",
    "log_spaced_ns",
    "n_for_kl",
    "tilted_curve",
    "tilted_point",
]
