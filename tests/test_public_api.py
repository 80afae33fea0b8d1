import subprocess
import sys

import rewardlab


def test_every_public_name_resolves() -> None:
    for name in rewardlab.__all__:
        assert getattr(rewardlab, name) is not None, name


def test_all_errors_share_one_base() -> None:
    for name in ("ConfigError", "DataError", "ModelError", "CheckpointError", "TrainingError"):
        assert issubclass(getattr(rewardlab, name), rewardlab.RewardLabError)


def test_importing_rewardlab_does_not_load_torch() -> None:
    code = "import sys, rewardlab; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_every_model_kind_and_the_remote_client_satisfy_the_scorer_contract() -> None:
    import inspect

    from rewardlab import RewardScorer
    from rewardlab.models import RewardEnsemble, RewardModel
    from rewardlab.models.embedding_model import EmbeddingRewardModel
    from rewardlab.models.loading import BoundScorer
    from rewardlab.serve import RemoteScorer

    wanted = inspect.signature(RewardScorer.score).parameters
    for cls in (RewardModel, RewardEnsemble, EmbeddingRewardModel, RemoteScorer, BoundScorer):
        have = inspect.signature(cls.score).parameters
        for name in ("prompts", "responses", "batch_size", "precision", "normalize"):
            assert name in have or any(p.kind is p.VAR_KEYWORD for p in have.values()), (cls.__name__, name)
        assert list(have)[:3] == list(wanted)[:3], cls.__name__
