"""What a training run writes to TensorBoard besides its scalars: its settings, the screen policy
picture, an episode's frames, and each episode's score.

- `write_settings`: the run's flags and hyperparameters through TensorBoard's HParams plugin (the
  HPARAMS tab: runs that differ only in learning rate are told apart, and can be sorted by their
  final scores) and as a text summary ("settings", a table in the TEXT tab).
- `write_episode_scores`: `episode_reward_sum` with one point per episode, its step the episode's
  number (1, 2, ...), so N environments ending games at the same agent step do not stack N
  points at one x.
- `write_screen_policy`: the picture of where a Move_screen would click, with a description of
  its colours.
- `write_episode_strip`: frames of one game as one image, side by side.
"""
import numpy as np
import tensorflow as tf
from tensorboard.plugins.hparams import api as hparams_api

SCREEN_POLICY_DESCRIPTION = (
    "Environment 0's screen now. Green: the probability that a Move_screen would click each "
    "point, relative to the most likely point (bright green = most likely). Grey: the units "
    "(any pixel whose player_relative is not empty). A trained MoveToBeacon agent shows its "
    "green on the beacon.")
EPISODE_SCORE_DESCRIPTION = ("The score of each episode; the step axis counts episodes (1, 2, "
                             "...), not agent steps.")
EPISODE_STRIP_DESCRIPTION = ("{frames} frames of one game (evaluation seed, as --visualize "
                             "plays it), left to right from its start; it scored {score:g}.")


def hparam_value(value):
    """HParams accept bool, int, float and str; anything else (None, lists) is shown as text."""
    return value if isinstance(value, (bool, int, float, str)) else str(value)


def settings_table(settings):
    rows = [f"| {name} | {value} |" for name, value in sorted(settings.items())]
    return "\n".join(["| setting | value |", "|---|---|", *rows])


def write_settings(writer, run_name, settings):
    """The run's settings (a dict of flags and hyperparameters) as HParams and as text."""
    with writer.as_default():
        hparams_api.hparams({name: hparam_value(value) for name, value in settings.items()},
                            trial_id=run_name)
        tf.summary.text("settings", settings_table(settings), step=0)
    writer.flush()


def write_episode_scores(writer, scores, first_number):
    """`scores` of the episodes numbered first_number, first_number + 1, ..."""
    with writer.as_default():
        for number, score in enumerate(scores, first_number):
            tf.summary.scalar("episode_reward_sum", score, step=number,
                              description=EPISODE_SCORE_DESCRIPTION)


def write_screen_policy(writer, image, step):
    with writer.as_default():
        tf.summary.image("screen_policy", image, step=step, description=SCREEN_POLICY_DESCRIPTION)


def episode_strip(frames, count=8):
    """`count` frames spread evenly over the game (first and last included), side by side:
    [1, H, count * W, 3] uint8."""
    chosen = np.linspace(0, len(frames) - 1, min(count, len(frames))).round().astype(int)
    return np.concatenate([np.asarray(frames[i], np.uint8) for i in chosen], axis=1)[None]


def write_episode_strip(writer, frames, score, step):
    strip = episode_strip(frames)
    with writer.as_default():
        tf.summary.image("episode", strip, step=step, description=EPISODE_STRIP_DESCRIPTION.format(
            frames=min(8, len(frames)), score=score))
