"""Model files, training checkpoints, and the original's save rule.

Model files. `Models/<run>.weights.h5` holds a network's weights and `Models/<run>.json` beside it
says what they are (network, resolutions, map, seed, how they were trained). `--load_model True`
loads the newest model of the map and network at the requested resolution, else the weights
shipped in `weights/`.

Training checkpoints. `checkpoints/<run>/ckpt-<step>` is one `tf.train.Checkpoint` of everything a
run needs to go on exactly where it stopped: the network, the optimiser's state, the random
generator the agent samples actions with, and the training loop's own state (step counts, episode
scores, the save rule's best, the environments' games, the run's name), pickled into one string
variable so that a single checkpoint holds it all. A `tf.train.CheckpointManager` keeps the last
KEEP_CHECKPOINTS; TensorFlow writes a checkpoint under temporary names and lists it in the
`checkpoint` file only once it is whole, so a run killed at any moment leaves the earlier ones
intact.

No save of either kind writes non-finite weights: it raises NonFiniteWeights instead.
"""
import dataclasses
import datetime
import glob
import json
import os
import pickle

import numpy as np
import tensorflow as tf
from absl import logging

from minigames.files import write_atomically, write_json

MODELS_DIR = "Models"
CHECKPOINTS_DIR = "checkpoints"
KEEP_CHECKPOINTS = 3
# Trained weights that come with the code (tools/ship_weights.py writes them).
SHIPPED_WEIGHTS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "weights")
SAVE_THRESHOLD = 5.0
# Model descriptions written before utils.player_thresholds existed name no non_spatial_size.
NON_SPATIAL_SIZE_BEFORE_THRESHOLDS = 1218
MEAN_WINDOW = 100
_TRUE = ("true", "t", "1")
_FALSE = ("false", "f", "0", "")


class CheckpointError(Exception):
    """A model file or checkpoint that cannot be used; the message names the fix."""


class NonFiniteWeights(CheckpointError):
    """Weights with NaN or infinite values, which are never saved."""


def all_finite(variables):
    return all(np.isfinite(variable.numpy()).all() for variable in variables)


def _check_finite(model, what):
    if not all_finite(model.weights):
        raise NonFiniteWeights(f"the {model.name} network's weights are not finite; {what} is "
                               "not written (the previous one is kept)")


# ------------------------------------------------------------------------------ model files
def models_dir(workspace):
    return os.path.join(workspace, MODELS_DIR)


def description_path(weights_path):
    return weights_path[:-len(".weights.h5")] + ".json"


def model_description(model_name, environment, spec, seed, **details):
    """The JSON description saved beside a model: what load_model checks (network, resolutions
    and the length of the non-spatial input), where and how it was trained, and any `details`."""
    return {"model_name": model_name, "environment": environment,
            "screen_size": spec.screen_size, "minimap_size": spec.minimap_size,
            "non_spatial_size": spec.input_shapes()["non_spatial"][0], "seed": seed, **details}


def save_model(model, path, metadata):
    """Write weights and a JSON description next to them (with the time of saving), each
    through a temporary file; NonFiniteWeights (and nothing written) if a weight is not finite."""
    _check_finite(model, path)
    write_atomically(path, model.save_weights)
    write_json(description_path(path), {
        **metadata, "saved": datetime.datetime.now().isoformat(timespec="seconds")})


def _resolution(path):
    """(screen, minimap) sizes a model file's description gives; None without a description."""
    try:
        with open(description_path(path)) as f:
            saved = json.load(f)
    except (OSError, json.JSONDecodeError):
        return None
    return saved.get("screen_size"), saved.get("minimap_size")


def newest_model(workspace, environment, model_name, spec, shipped_dir=SHIPPED_WEIGHTS_DIR):
    """The newest saved model of this map and network at spec's resolution; else the weights
    shipped with the code (at that resolution)."""
    wanted = (spec.screen_size, spec.minimap_size)
    pattern = os.path.join(models_dir(workspace), f"{environment}_{model_name}_*.weights.h5")
    saved = glob.glob(pattern)
    matching = [path for path in saved if _resolution(path) == wanted]
    if matching:
        return max(matching, key=lambda p: (os.path.getmtime(p), p))
    shipped = os.path.join(shipped_dir, f"{environment}_{model_name}.weights.h5")
    if os.path.isfile(shipped) and _resolution(shipped) == wanted:
        logging.info("No saved %s model for %s at %dx%d in %s; using the shipped weights %s",
                     model_name, environment, *wanted, models_dir(workspace), shipped)
        return shipped
    available = saved + ([shipped] if os.path.isfile(shipped) else [])
    others = sorted({_resolution(path) for path in available} - {wanted, None})
    elsewhere = (f" (there are models for screen/minimap {', '.join(f'{s}/{m}' for s, m in others)}"
                 ": pass those --screen_size and --minimap_size)" if others else "")
    raise CheckpointError(
        f"No saved {model_name} model for {environment} with a {wanted[0]} screen and "
        f"{wanted[1]} minimap in {models_dir(workspace)}{elsewhere}; train one with --training "
        "True --save_model True, or pass --load_model <path>.")


def resolve_load_path(load_model, workspace, environment, model_name, spec,
                      shipped_dir=SHIPPED_WEIGHTS_DIR):
    """--load_model value -> weights path, or None when nothing is to be loaded."""
    if load_model is None or load_model.lower() in _FALSE:
        return None
    if load_model.lower() in _TRUE:
        return newest_model(workspace, environment, model_name, spec, shipped_dir)
    if not os.path.isfile(load_model):
        raise CheckpointError(f"--load_model {load_model}: no such file.")
    return load_model


def load_model(model, path, spec):
    """Load a model file into `model`, checking its description and that every weight is
    finite."""
    description = description_path(path)
    if os.path.isfile(description):
        with open(description) as f:
            saved = json.load(f)
        wanted = (saved.get("model_name"), saved.get("screen_size"), saved.get("minimap_size"))
        if wanted != (model.name, spec.screen_size, spec.minimap_size):
            raise CheckpointError(
                f"{path} holds a {wanted[0]} network for a {wanted[1]} screen and {wanted[2]} "
                f"minimap; pass --model_name {wanted[0]} --screen_size {wanted[1]} "
                f"--minimap_size {wanted[2]}.")
        non_spatial_size = spec.input_shapes()["non_spatial"][0]
        saved_size = saved.get("non_spatial_size", NON_SPATIAL_SIZE_BEFORE_THRESHOLDS)
        if saved_size != non_spatial_size:
            raise CheckpointError(
                f"{path} was trained on a non-spatial input of {saved_size} values; this code's "
                f"networks read {non_spatial_size} (the player thresholds were added after "
                f"{NON_SPATIAL_SIZE_BEFORE_THRESHOLDS}): `python tools/widen_non_spatial.py "
                f"{path}` gives it zero weights for them, after which it plays as it did.")
    try:
        model.load_weights(path)
    except ValueError as error:
        raise CheckpointError(f"Cannot load {path} into the {model.name} network: "
                              f"{error}") from None
    if not all_finite(model.weights):
        raise CheckpointError(f"{path} holds non-finite weights (a diverged run); load another "
                              "model.")
    logging.info("Loaded %s", path)


class SaveRule:
    """The original's rule: save when the 100-episode mean is above 5.0 and above the mean at the
    previous save. The mean only counts once 100 episodes have ended."""

    def __init__(self, threshold=SAVE_THRESHOLD):
        self.best = threshold

    def should_save(self, finished_episodes):
        if len(finished_episodes) < MEAN_WINDOW:
            return False
        mean = float(np.mean(finished_episodes[-MEAN_WINDOW:]))
        if mean <= self.best:
            return False
        self.best = mean
        return True


# ---------------------------------------------------------------------- training checkpoints
def checkpoints_dir(workspace):
    return os.path.join(workspace, CHECKPOINTS_DIR)


_LOOP_STATE_KEY = "loop_state/.ATTRIBUTES/VARIABLE_VALUE"


@dataclasses.dataclass(frozen=True)
class Checkpointing:
    """How a training loop writes (and resumes from) training checkpoints.

    directory: the run's checkpoint folder. interval: agent steps (supervised learning: training
    examples) between checkpoints; one is written at the end and when stopped too (0: only
    then). run_info: stored in every checkpoint (the run's name, flags and configuration).
    resume_from: a checkpoint to go on from.
    """
    directory: str
    interval: int
    run_info: dict
    resume_from: str = None


class TrainingCheckpoint:
    """The checkpoints of one run (see the module docstring).

    Args:
      directory: the run's checkpoint folder.
      model, optimizer: what is trained.
      **trackables: more TensorFlow state to save with them (e.g. a tf.random.Generator).
    """

    def __init__(self, directory, model, optimizer, **trackables):
        self.model = model
        self._loop_state = tf.Variable(b"", dtype=tf.string, trainable=False)
        self.checkpoint = tf.train.Checkpoint(model=model, optimizer=optimizer,
                                              loop_state=self._loop_state, **trackables)
        self.manager = tf.train.CheckpointManager(self.checkpoint, directory,
                                                  max_to_keep=KEEP_CHECKPOINTS)

    @property
    def latest(self):
        return self.manager.latest_checkpoint

    def save(self, loop_state, step):
        """Write a checkpoint numbered `step` holding `loop_state` (a picklable dict); returns its
        path. NonFiniteWeights, and nothing written, if a weight is not finite."""
        _check_finite(self.model, "the training checkpoint")
        self._loop_state.assign(pickle.dumps(loop_state))
        path = self.manager.save(checkpoint_number=step)
        logging.info("Wrote the training checkpoint %s", path)
        return path

    def restore(self, path):
        """Load checkpoint `path` into the model, optimiser and trackables; returns its loop
        state."""
        try:
            self.checkpoint.restore(path).assert_existing_objects_matched()
        except (AssertionError, ValueError, tf.errors.OpError) as error:
            raise CheckpointError(f"{path} does not fit this run's network and optimiser "
                                  f"({str(error).splitlines()[0]}); resume with the flags it "
                                  "was trained with.") from None
        return pickle.loads(self._loop_state.numpy())


def read_loop_state(path):
    """The loop state of checkpoint `path`, read without building anything."""
    try:
        return pickle.loads(tf.train.load_checkpoint(path).get_tensor(_LOOP_STATE_KEY))
    except (tf.errors.OpError, ValueError) as error:
        raise CheckpointError(f"{path} is not a readable training checkpoint "
                              f"({str(error).splitlines()[0]}).") from None


def is_supervised(path):
    """Whether a run's checkpoint folder, or one checkpoint in it, is of supervised learning
    (run.py names those runs <map>_<network>_sl_seed<seed>_<time>)."""
    folder = path if os.path.isdir(path) else os.path.dirname(path)
    return "_sl_" in os.path.basename(os.path.normpath(folder))


def find_checkpoint(resume, workspace, environment, model_name, supervised):
    """--resume value -> checkpoint path (None when not resuming).

    True: the latest checkpoint of the newest run of this map and network in the workspace
    (supervised runs when `supervised` is True, A2C runs when False, either when None); a path:
    a run's checkpoint folder (its latest checkpoint) or one checkpoint (`.../ckpt-N`).
    """
    if resume is None or resume.lower() in _FALSE:
        return None
    if resume.lower() not in _TRUE:
        if os.path.isdir(resume):
            latest = tf.train.latest_checkpoint(resume)
            if latest:
                return latest
            raise CheckpointError(f"--resume {resume}: the folder holds no training checkpoint.")
        if os.path.isfile(resume + ".index"):
            return resume
        raise CheckpointError(f"--resume {resume}: no such checkpoint folder or checkpoint.")
    runs = []
    for folder in glob.glob(os.path.join(checkpoints_dir(workspace),
                                         f"{environment}_{model_name}_*")):
        latest = tf.train.latest_checkpoint(folder)
        if latest and supervised in (None, is_supervised(folder)):
            runs.append((os.path.getmtime(os.path.join(folder, "checkpoint")), latest))
    if not runs:
        kind = {True: "supervised ", False: "A2C ", None: ""}[supervised]
        raise CheckpointError(f"--resume True: no {kind}training checkpoint of {model_name} on "
                              f"{environment} in {checkpoints_dir(workspace)}; start a run "
                              "without --resume.")
    return max(runs)[1]
