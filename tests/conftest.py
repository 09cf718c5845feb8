"""Shared test set-up: pysc2's import fix, absl flags marked parsed (pysc2 reads them), and a
seeded FullyConv of each test's own."""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import minigames  # noqa: E402,F401  (applies the pysc2 Python 3.11 fix first)
import startup  # noqa: E402

# TensorFlow's CUDA start-up lines (startup.py), which pytest-xdist's main process, importing this
# file outside pytest's capture, would print after the summary.
with startup.stderr_silenced():
    import keras  # noqa: E402
import pytest  # noqa: E402
from absl import flags  # noqa: E402

import network  # noqa: E402
import utils  # noqa: E402

if not flags.FLAGS.is_parsed():
    flags.FLAGS.mark_as_parsed()


@pytest.fixture
def fullyconv():
    """A 16x16 FullyConv network of this test's own, with seeded initial weights."""
    keras.utils.set_random_seed(0)
    return network.make_model("fullyconv", utils.Spec(16, 16))
