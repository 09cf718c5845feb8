"""Shared test set-up: pysc2's import fix, and absl flags marked parsed (pysc2 reads them)."""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import minigames  # noqa: E402,F401  (applies the pysc2 Python 3.11 fix first)
from absl import flags  # noqa: E402

if not flags.FLAGS.is_parsed():
    flags.FLAGS.mark_as_parsed()
