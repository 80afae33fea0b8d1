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
