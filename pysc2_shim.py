"""Python 3.11 fix for pysc2 4.0.0; import this module before anything from pysc2.lib.features.

pysc2's `colors.shuffled_hue` calls `random.shuffle(palette, random_fn)`, and Python 3.11 removed that
second argument, so `pysc2.lib.features` (and everything that imports it) fails at import time. The
replacement below reproduces pysc2's old deterministic shuffle, where the random function always
returned 0.5, so feature-layer palettes are unchanged.
"""
import os

import numpy as np

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

from pysc2.lib import colors  # noqa: E402  (the environment variable must be set first)


def _shuffled_hue(scale):
    palette = list(colors.smooth_hue_palette(scale))
    for i in reversed(range(1, len(palette))):
        j = int(0.5 * (i + 1))
        palette[i], palette[j] = palette[j], palette[i]
    return np.array(palette)


colors.shuffled_hue = _shuffled_hue
