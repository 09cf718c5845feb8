"""Supervised learning (imitation) from `.hkl` trajectories: `run.py --sl_training True`.

    python run.py --sl_training True --replay_hkl_file_path hkl/ [--model_name alphastar]

Data. The `.hkl` files of one folder (written by trajectory_generator.py) are split by game: the
files of one game (`<replay>_player1.hkl` and `<replay>_player2.hkl` of one .SC2Replay) form one
group, and every 10th group in name order is held out (at least one when there are two or more),
so no game is in both parts. A `tf.data` pipeline streams the training files: a Python generator
reads one file at a time in a shuffled order (reshuffled on every pass over the files), pairs each
observation an agent acting every `step_mul` game loops would see with the action that follows it
(`trajectory_generator.training_pairs`), turns the observations into network inputs
(`utils.preprocess`) and hands them over. Nothing is kept beyond one file and the shuffle buffer,
so memory does not grow with the data set. A file that cannot be read (corrupt, truncated, another
format) is skipped with a warning and counted; the count is reported at the end.
- FullyConv (no memory): single pairs go through a shuffle buffer and are batched.
- AlphaStar (LSTM core): `lanes` trajectories are walked side by side in chunks of
  `sequence_length` (8) steps. A chunk is one time-major batch (row t * lanes + n is lane n at step
  t); the LSTM state a lane ends a chunk with starts its next chunk (truncated back-propagation
  through time over 8 steps), and it is zeroed where a trajectory starts. A lane that finishes a
  file goes on with the next file within the same chunk.

Loss. The cross-entropy of the labelled function over the logits with unavailable functions masked
out, as the agent acts (the label itself always counts as available, so that a label the paired
observation marks unavailable cannot make the loss infinite), plus, for each argument type, the
cross-entropy of its label averaged over the examples whose labelled function takes that
argument. Examples whose function does not take an argument do not count for that argument at
all (the replicated code gave them all-zero targets, which still counted them in the mean). The
argument heads are conditioned on the labelled function (teacher forcing). Adam; the gradient of
the whole batch is clipped to a global norm.

Evaluation and checkpoints. Every `eval_interval` training examples and at the end, the held-out
files are played through the network (in lanes, the LSTM state carried, as in training) and each
head's accuracy is measured: the function id (most likely available function = label) over every
example, each argument over the examples whose labelled function takes it, the screen point also
within one pixel, and the whole action (function and every argument it takes). The checkpoint is
saved whenever the held-out action accuracy is at least as good as at the previous save. The whole
action is the criterion because on MoveToBeacon the function accuracy is near 100% after a few
dozen updates, long before the network clicks well. Without a held-out file, the checkpoint is
saved at every evaluation.

Training checkpoints and divergence. With `checkpointing` (checkpoints.Checkpointing), a training
checkpoint (the network, Adam's state, the example and update counts, the held-out results and
the run's name) is written every `interval` training examples, at the end and when
`should_stop()` turns true; a run resumed from one continues the counts, the save rule and
TensorBoard, with the training files streamed in a new order (seeded by the example count: the
stream's position inside tf.data cannot be saved). An update whose loss or gradient norm is not
finite is skipped, counted and logged; five in a row, or half of the last 20, stop the run
(agent.DivergenceError).

TensorBoard scalars (x axis: training examples): total_loss, loss/<head> and accuracy/<head> over
the last log interval, held_out/accuracy/<head>, held_out/loss/<head>, grad_norm,
examples_per_second.

Budget. `max_examples` training examples (observation/action pairs), counted over all replicas.

Distribution. The model, the optimiser and the train step are built under a `tf.distribute`
strategy: the default one (one device), `MirroredStrategy` (every local GPU, or several logical
CPU devices) or `MultiWorkerMirroredStrategy` (hosts described by TF_CONFIG). Each input pipeline
(one per worker) reads its own share of the training files and produces one batch per local
replica in turn; the LSTM state lives in per-replica variables. Each replica's loss is divided by
the global example counts, so the gradients the optimiser sums over replicas are those of the
global batch.
"""
import dataclasses
import datetime
import glob
import math
import os
import re
import shutil
import tempfile
import threading
import time

import keras
import numpy as np
import tensorflow as tf
from absl import logging
from pysc2.lib import actions

import agent as agent_lib
import checkpoints
import hyperparameters
import network
import trajectory_generator
import utils

HEADS = ("function",) + tuple(arg_type.name for arg_type in actions.TYPES)
class DataError(Exception):
    """A folder of trajectories that cannot be trained on; the message names the fix."""


@dataclasses.dataclass
class SLResult:
    examples: int  # training examples used
    updates: int
    seconds: float
    train_files: int
    held_out_files: int
    skipped_files: dict  # path -> why it was skipped
    held_out: dict  # the last held-out evaluation: {"accuracy/<head>": ..., "loss/<head>": ...}
    saved: dict  # the held-out evaluation of the saved checkpoint, and its "examples"


# ------------------------------------------------------------------------------------ files
def find_trajectories(folder):
    """The .hkl files of `folder` (searched recursively), sorted by name."""
    if not os.path.isdir(folder):
        raise DataError(f"--replay_hkl_file_path {folder}: no such folder; convert replays into "
                        "it with trajectory_generator.py --saving_path.")
    paths = sorted(glob.glob(os.path.join(folder, "**", "*.hkl"), recursive=True))
    if not paths:
        raise DataError(f"--replay_hkl_file_path {folder}: no .hkl files; convert replays into "
                        "it with trajectory_generator.py --saving_path.")
    return paths


def game_of(path):
    """The game a trajectory file belongs to: its name without `.hkl` and without the
    `_player<id>` that trajectory_generator adds for each side of an .SC2Replay."""
    return re.sub(r"_player\d+$", "", os.path.basename(path)[:-len(".hkl")])


def split_by_game(paths, every):
    """(training files, held-out files): the files of every `every`-th game (in name order) are
    held out, those of at least one game when there are two or more."""
    games = sorted({game_of(path) for path in paths})
    held_out_games = set(games[every - 1::every])
    if not held_out_games and len(games) >= 2:
        held_out_games = {games[-1]}
    held_out = [path for path in paths if game_of(path) in held_out_games]
    return [path for path in paths if game_of(path) not in held_out_games], held_out


class TrajectoryReader:
    """Reads .hkl files into training pairs (network inputs and labels); counts what it skips."""

    def __init__(self, spec, step_mul, map_name=None):
        self.spec = spec
        self.step_mul = step_mul
        self.map_name = map_name  # None: files of any map
        self.skipped = {}  # path -> reason; written from tf.data's generator threads
        self.files_read = 0
        self.pairs_per_pass = None  # training pairs in one pass over the files, once known

    def read(self, path, rng=None):
        """A dict of arrays, one row per pair (rng draws among simultaneous actions, the first
        when None); None, with a warning, for a file to skip."""
        if path in self.skipped:
            return None
        try:
            data = trajectory_generator.read_trajectory(path)
            recorded = data.get("map_name")  # None in files of the original project
            if self.map_name and recorded and recorded != self.map_name:
                raise trajectory_generator.TrajectoryError(
                    f"{path}: recorded on {recorded}, but the network is for {self.map_name} "
                    f"(pass --environment {recorded}, or convert replays of {self.map_name})")
            size = data["home_feature_screen"].shape[-1], data["home_feature_minimap"].shape[-1]
            if size != (self.spec.screen_size, self.spec.minimap_size):
                raise trajectory_generator.TrajectoryError(
                    f"{path}: {size[0]}x{size[0]} screen and {size[1]}x{size[1]} minimap, but "
                    f"the network is for {self.spec.screen_size} and {self.spec.minimap_size} "
                    f"(pass --screen_size {size[0]} --minimap_size {size[1]})")
            observations, function_id, arg_indices = trajectory_generator.training_pairs(
                data, self.step_mul, rng)
            if not len(function_id):
                raise trajectory_generator.TrajectoryError(
                    f"{path}: no training pairs (the game is shorter than {self.step_mul} loops)")
        except (trajectory_generator.TrajectoryError, KeyError, ValueError) as error:
            self.skipped[path] = str(error)
            logging.warning("skipped %s (%d skipped so far)", error, len(self.skipped))
            return None
        self.files_read += 1
        rows = len(function_id)
        reset = np.zeros(rows, np.float32)
        reset[0] = 1.0
        return {"inputs": utils.preprocess(observations, self.spec), "reset": reset,
                "function_id": function_id.astype(np.int32),
                "arg_indices": arg_indices.astype(np.int32),
                "weight": np.ones(rows, np.float32)}

    def check(self, paths):
        """The number of training pairs of the first file that has some; DataError if none has
        (a file of another resolution has none)."""
        for path in paths:
            pairs = self.read(path)
            if pairs is not None:
                return len(pairs["weight"])
        reasons = "; ".join(list(self.skipped.values())[:3])
        raise DataError(f"none of the {len(paths)} training .hkl files gives training pairs "
                        f"({len(self.skipped)} skipped: {reasons})")

    def trajectories(self, paths, repeat, seed=0, stop=None):
        """Pairs of each file in turn: shuffled, endless and with random picks among
        simultaneous actions if `repeat`; else once, in order, the first action.

        An endless stream stops after a pass that gave no pairs (every file skipped), and any
        stream before its next file once `stop` (a threading.Event) is set."""
        rng = np.random.default_rng(seed) if repeat else None
        while True:
            pairs_in_pass = 0
            for path in (rng.permutation(paths) if repeat else paths):
                if stop is not None and stop.is_set():
                    return
                pairs = self.read(str(path), rng)
                if pairs is not None:
                    pairs_in_pass += len(pairs["weight"])
                    yield pairs
            if not (repeat and pairs_in_pass):
                return
            self.pairs_per_pass = self.pairs_per_pass or pairs_in_pass


def close_stream(iterator, stop):
    """Close an iterator of a tf.data pipeline whose Python generator checks `stop` (a
    threading.Event): ask the generator to end, then take what is left of the stream.

    Deleting such an iterator while a tf.data thread runs the generator deadlocks: the deleting
    thread holds the GIL the generator waits for (seen with TensorFlow 2.19). Once the stream has
    ended, no thread runs the generator."""
    stop.set()
    for _ in iterator:
        pass


def padding_row(template):
    """A row that changes nothing: zero inputs, weight 0, a fresh state (reset 1)."""
    return {"inputs": {name: np.zeros_like(value[0])
                       for name, value in template["inputs"].items()},
            "reset": np.float32(1.0), "function_id": np.int32(0),
            "arg_indices": np.full_like(template["arg_indices"][0], -1),
            "weight": np.float32(0.0)}


def lane_blocks(trajectories, lanes, length, groups=1):
    """Trajectories -> time-major blocks of `length` steps of `lanes` trajectories side by side.

    Row t * lanes + n of a block is lane n's step t; a lane takes the next trajectory as soon as
    its own ends (reset 1 on that row). `groups` independent sets of lanes take turns, one block
    each: tf.distribute hands a pipeline's consecutive batches to its replicas in turn, so each
    replica always sees the same lanes. When the trajectories run out, lanes are padded with
    weight-0 rows until every lane of every group is dry.
    """
    source = iter(trajectories)
    current = [[None, 0] for _ in range(groups * lanes)]  # [trajectory, next row] per lane
    template = None

    def next_row(lane):
        nonlocal template
        while lane[0] is None or lane[1] >= len(lane[0]["weight"]):
            lane[0], lane[1] = next(source, None), 0
            if lane[0] is None:
                return None
            template = lane[0]
        lane[1] += 1
        return lane[0], lane[1] - 1

    while True:
        blocks = []
        for group in range(groups):
            rows = [next_row(current[group * lanes + n])
                    for _ in range(length) for n in range(lanes)]
            blocks.append(rows)
        if template is None or all(row is None for rows in blocks for row in rows):
            return
        padding = padding_row(template)
        for rows in blocks:
            picked = [padding if row is None else take_row(*row) for row in rows]
            yield {"inputs": {name: np.stack([r["inputs"][name] for r in picked])
                              for name in picked[0]["inputs"]},
                   **{key: np.stack([r[key] for r in picked])
                      for key in ("reset", "function_id", "arg_indices", "weight")}}


def take_row(trajectory, index):
    return {"inputs": {name: value[index] for name, value in trajectory["inputs"].items()},
            **{key: trajectory[key][index]
               for key in ("reset", "function_id", "arg_indices", "weight")}}


def batch_signature(spec, rows=None):
    """tf.TensorSpecs of a batch of `rows` pairs (None: any number)."""
    inputs = {name: tf.TensorSpec((rows,) + shape,
                                  tf.int32 if name == "entity_count" else tf.float32)
              for name, shape in spec.input_shapes().items()}
    return {"inputs": inputs, "reset": tf.TensorSpec((rows,), tf.float32),
            "function_id": tf.TensorSpec((rows,), tf.int32),
            "arg_indices": tf.TensorSpec((rows, utils.NUM_ARG_TYPES), tf.int32),
            "weight": tf.TensorSpec((rows,), tf.float32)}


# ------------------------------------------------------------------------------ loss, metrics
def head_statistics(outputs, batch, screen_size):
    """Sums over a batch, per head: "<head>/loss_sum" (weighted cross-entropy),
    "<head>/count" (examples that count) and "<head>/right" (of those, predicted right).

    The function counts on every example, an argument on the examples whose labelled function
    takes it; "screen_within_1px" is the screen point within one pixel of the label's, "action"
    the function and every argument it takes right. Rows of weight 0 never count.
    """
    weight = batch["weight"]
    function_id = batch["function_id"]
    available = batch["inputs"]["available_actions"]
    labelled = tf.one_hot(function_id, utils.NUM_FUNCTIONS)
    stats = {}

    def add(head, counted, right, cross_entropy=None):
        stats[f"{head}/count"] = tf.reduce_sum(counted)
        stats[f"{head}/right"] = tf.reduce_sum(counted * tf.cast(right, tf.float32))
        if cross_entropy is not None:
            stats[f"{head}/loss_sum"] = tf.reduce_sum(counted * cross_entropy)

    function_logits = outputs["function"]
    trained = agent_lib.mask_unavailable(function_logits, tf.maximum(available, labelled))
    acting = agent_lib.mask_unavailable(function_logits, available)
    function_right = tf.equal(tf.argmax(acting, -1, output_type=tf.int32), function_id)
    add("function", weight, function_right, -agent_lib.log_prob(trained, function_id))
    action_right = function_right
    used = agent_lib.arguments_used(function_id) * weight[:, None]
    for arg_type in actions.TYPES:
        logits = outputs["arguments"][arg_type.name]
        label = batch["arg_indices"][:, arg_type.id]
        predicted = tf.argmax(logits, -1, output_type=tf.int32)
        right = tf.equal(predicted, label)
        add(arg_type.name, used[:, arg_type.id], right, -agent_lib.log_prob(logits, label))
        action_right &= right | (used[:, arg_type.id] == 0)
        if arg_type.name == "screen":
            near = ((tf.abs(predicted % screen_size - label % screen_size) <= 1)
                    & (tf.abs(predicted // screen_size - label // screen_size) <= 1))
            add("screen_within_1px", used[:, arg_type.id], near)
    add("action", weight, action_right)
    return stats


def loss_from_statistics(stats, global_counts):
    """The training loss: each head's cross-entropy sum over its count in the global batch."""
    return tf.add_n([stats[f"{head}/loss_sum"] / tf.maximum(global_counts[head], 1.0)
                     for head in HEADS])


def summarise(totals):
    """Summed statistics -> {"loss/<head>", "accuracy/<head>"} for heads that counted, and
    "total_loss" (the sum of the per-head losses, the training objective)."""
    summary = {}
    for key, count in totals.items():
        if not key.endswith("/count") or count <= 0:
            continue
        head = key[:-len("/count")]
        summary[f"accuracy/{head}"] = totals[f"{head}/right"] / count
        if f"{head}/loss_sum" in totals:
            summary[f"loss/{head}"] = totals[f"{head}/loss_sum"] / count
    summary["total_loss"] = sum(value for key, value in summary.items()
                                if key.startswith("loss/"))
    return summary


# ---------------------------------------------------------------------------------- trainer
def make_strategy(distribution):
    """The tf.distribute strategy of `distribution` (one of DISTRIBUTIONS)."""
    if distribution == "default":
        return tf.distribute.get_strategy()
    if distribution == "mirrored":
        # Every local GPU; without one, every logical CPU device (one, unless configured).
        devices = tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")
        return tf.distribute.MirroredStrategy([device.name for device in devices])
    if distribution == "multi_worker":
        return tf.distribute.MultiWorkerMirroredStrategy()
    raise ValueError(f"Unknown distribution {distribution!r}; choose one of "
                     f"{', '.join(hyperparameters.DISTRIBUTIONS)}.")


class Trainer:
    """A network, its optimiser and the supervised train and evaluation steps, built under a
    tf.distribute strategy.

    Args:
      model_name, spec: the network (`network.make_model`).
      config: SLConfig.
      strategy: a tf.distribute.Strategy (make_strategy).
      initialize: optional function called with the new model (to load weights into it).
    """

    def __init__(self, model_name, spec, config, strategy, initialize=None):
        self.spec = spec
        self.config = config
        self.strategy = strategy
        replicas = strategy.num_replicas_in_sync
        self.recurrent = network.MODELS[model_name].state_size > 0
        self.length = config.sequence_length if self.recurrent else 1
        rows = config.lanes if self.recurrent else config.batch_size
        if rows % replicas:
            raise ValueError(f"{'lanes' if self.recurrent else 'batch_size'} {rows} does not "
                             f"divide among {replicas} replicas")
        self.lanes_per_replica = rows // replicas
        self.examples_per_update = rows * self.length
        with strategy.scope():
            self.model = network.make_model(model_name, spec)
            if initialize:
                initialize(self.model)
            self.optimizer = keras.optimizers.Adam(config.learning_rate)
            self.optimizer.build(self.model.trainable_variables)
            # Each replica's own LSTM state, carried from one chunk to the next.
            self.state = {name: tf.Variable(
                tf.zeros((self.lanes_per_replica, self.model.state_size)), trainable=False,
                synchronization=tf.VariableSynchronization.ON_READ,
                aggregation=tf.VariableAggregation.NONE, name=name)
                for name in ("state_h", "state_c")}
        state_spec = {name: tf.TensorSpec((None, self.model.state_size), tf.float32)
                      for name in ("state_h", "state_c")}
        self._evaluate_step = tf.function(self._evaluate_graph,
                                          input_signature=[batch_signature(spec), state_spec])
        self._train_step = None  # made by training_iterator, for its batches
        self._training_iterator = None
        self._training_stop = threading.Event()
        self.input_pipelines = 1

    # ------------------------------------------------------------------------------ data
    def training_iterator(self, reader, paths, pairs_per_file=None, seed=None):
        """An iterator over distributed training batches (endless); `train_step` takes them.
        `close()` ends it (call it when done: see close_stream).

        pairs_per_file (an estimate) keeps FullyConv's shuffle buffer within one pass over the
        files: a larger buffer would only hold copies of the same pairs, and take long to fill.
        seed: of the file order and the shuffle (default: config.seed)."""
        first_seed = self.config.seed if seed is None else seed
        stop = self._training_stop

        def make(context):
            self.input_pipelines = context.num_input_pipelines
            shard = paths[context.input_pipeline_id::context.num_input_pipelines]
            if not shard:
                raise DataError(f"{len(paths)} training files cannot be shared among "
                                f"{context.num_input_pipelines} workers")
            replicas = context.num_replicas_in_sync // context.num_input_pipelines
            seed = first_seed + context.input_pipeline_id
            buffer = min(self.config.shuffle_buffer, (pairs_per_file or np.inf) * len(shard))
            if self.recurrent:
                rows = self.lanes_per_replica * self.length
                return tf.data.Dataset.from_generator(
                    lambda: lane_blocks(reader.trajectories(shard, True, seed, stop),
                                        self.lanes_per_replica, self.length, groups=replicas),
                    output_signature=batch_signature(self.spec, rows)).prefetch(2)
            return (tf.data.Dataset.from_generator(
                        lambda: reader.trajectories(shard, True, seed, stop),
                        output_signature=batch_signature(self.spec))
                    .unbatch()
                    .shuffle(int(buffer), seed=seed)
                    .batch(self.lanes_per_replica, drop_remainder=True)
                    .prefetch(2))

        dataset = self.strategy.distribute_datasets_from_function(make)
        self._train_step = tf.function(self._distributed_train_graph,
                                       input_signature=[dataset.element_spec])
        self._training_iterator = iter(dataset)
        return self._training_iterator

    def close(self):
        """End the training iterator's stream (see close_stream)."""
        if self._training_iterator is not None:
            close_stream(self._training_iterator, self._training_stop)
            self._training_iterator = None

    def evaluation_dataset(self, reader, paths, stop=None):
        """Held-out batches in lanes, in file order, ending with weight-0 padding (earlier once
        `stop` is set)."""
        lanes = self.lanes_per_replica * self.strategy.num_replicas_in_sync
        return tf.data.Dataset.from_generator(
            lambda: lane_blocks(reader.trajectories(paths, False, stop=stop), lanes,
                                self.length),
            output_signature=batch_signature(self.spec, lanes * self.length)).prefetch(2)

    # ----------------------------------------------------------------------------- steps
    def train_step(self, batch):
        """One update on a batch of training_iterator; returns the summed statistics, grad_norm
        and "applied" (0.0 when the update was skipped for a non-finite loss or gradient)."""
        return {name: float(value) for name, value in self._train_step(batch).items()}

    def _distributed_train_graph(self, batch):
        logging.info("Tracing the supervised train step")
        stats, grad_norm, applied = self.strategy.run(self._replica_train_graph, args=(batch,))
        totals = {key: self.strategy.reduce(tf.distribute.ReduceOp.SUM, value, axis=None)
                  for key, value in stats.items()}
        for name, value in (("grad_norm", grad_norm), ("applied", applied)):
            totals[name] = self.strategy.reduce(tf.distribute.ReduceOp.MEAN, value, axis=None)
        return totals

    def _replica_train_graph(self, batch):
        context = tf.distribute.get_replica_context()
        state = {name: variable.read_value() for name, variable in self.state.items()}
        with tf.GradientTape() as tape:
            outputs = self.model({**batch["inputs"], "reset": batch["reset"],
                                  "function_id": batch["function_id"], **state}, training=True)
            stats = head_statistics(outputs, batch, self.spec.screen_size)
            counts = context.all_reduce(tf.distribute.ReduceOp.SUM,
                                        {head: stats[f"{head}/count"] for head in HEADS})
            loss = loss_from_statistics(stats, counts)
        global_loss = context.all_reduce(tf.distribute.ReduceOp.SUM, loss)
        # The value head is not trained by imitation: it has no gradient.
        pairs = [(gradient, variable) for gradient, variable in
                 zip(tape.gradient(loss, self.model.trainable_variables),
                     self.model.trainable_variables) if gradient is not None]
        gradients = [gradient for gradient, _ in pairs]
        # Clip by the norm of the global batch's gradient (the optimiser sums the replicas').
        grad_norm = tf.linalg.global_norm(
            context.all_reduce(tf.distribute.ReduceOp.SUM, gradients))
        scale = tf.minimum(1.0, self.config.gradient_clipping / tf.maximum(grad_norm, 1e-12))
        # Every replica sees the same global loss and norm, so all apply or all skip.
        finite = tf.math.is_finite(global_loss) & tf.math.is_finite(grad_norm)
        applied = agent_lib.apply_if_finite(
            self.optimizer, [gradient * scale for gradient in gradients],
            [variable for _, variable in pairs], finite)
        for name, variable in self.state.items():
            # A non-finite state would poison every later chunk of its lane: start it afresh.
            variable.assign(tf.where(finite, outputs[name], tf.zeros_like(outputs[name])))
        return stats, grad_norm, tf.cast(applied, tf.float32)

    def _evaluate_graph(self, batch, state):
        logging.info("Tracing the supervised evaluation step")
        outputs = self.model({**batch["inputs"], "reset": batch["reset"],
                              "function_id": batch["function_id"], **state})
        return (head_statistics(outputs, batch, self.spec.screen_size),
                {name: outputs[name] for name in ("state_h", "state_c")})

    def evaluate(self, reader, paths):
        """Summed head statistics over (at most max_eval_examples of) the held-out files."""
        lanes = self.lanes_per_replica * self.strategy.num_replicas_in_sync
        state = self.model.initial_state(lanes)
        totals = {}
        stop = threading.Event()
        batches = iter(self.evaluation_dataset(reader, paths, stop))
        for batch in batches:
            stats, state = self._evaluate_step(batch, state)
            for key, value in stats.items():
                totals[key] = totals.get(key, 0.0) + float(value)
            if totals["function/count"] >= self.config.max_eval_examples:
                close_stream(batches, stop)
                break
        return totals


# ------------------------------------------------------------------------------- training
def train(folder, model_name, spec, config=hyperparameters.SLConfig(), strategy=None,
          log_dir=None, save=None, initialize=None, checkpointing=None, should_stop=None, map_name=None):
    """Supervised learning on the .hkl files of `folder`, as the module docstring describes.

    Args:
      folder: folder of .hkl trajectories.
      model_name, spec: the network to train.
      config: SLConfig.
      strategy: a tf.distribute.Strategy (make_strategy); None: the default strategy. One
        process should make one (TensorFlow's collective operations are keyed per strategy).
      log_dir: TensorBoard folder (None: no TensorBoard).
      save: called as save(model, progress) to write the model file; progress is a dict of JSON
        values (examples, held-out accuracies). None: nothing is saved.
      initialize: called with the new model before training (e.g. to load weights).
      checkpointing: checkpoints.Checkpointing (None: no training checkpoints).
      should_stop: called after every update; True stops training (after a checkpoint).
      map_name: the map the network is for; a file recorded on another map is skipped (a
        DataError when no file is left). None: any map.
    Returns:
      SLResult.
    Raises:
      DataError: no usable training data. agent.DivergenceError: training diverged.
    """
    paths = find_trajectories(folder)
    train_paths, held_out_paths = split_by_game(paths, config.held_out_every)
    reader = TrajectoryReader(spec, config.step_mul, map_name)
    pairs_per_file = reader.check(train_paths)
    strategy = strategy or tf.distribute.get_strategy()
    trainer = Trainer(model_name, spec, config, strategy, initialize)
    chief = strategy.extended.should_checkpoint
    progress = {"examples": 0, "updates": 0, "held_out": {}, "saved": {}, "skipped_updates": 0}
    checkpoint = None
    if checkpointing:
        # Every worker saves (the documented multi-worker pattern); only the chief's are kept.
        directory = checkpointing.directory if chief else tempfile.mkdtemp()
        checkpoint = checkpoints.TrainingCheckpoint(directory, trainer.model, trainer.optimizer)
        if checkpointing.resume_from:
            progress = checkpoint.restore(checkpointing.resume_from)["progress"]
            trainer.optimizer.learning_rate = config.learning_rate
            logging.info("Resumed %s at %d examples", checkpointing.resume_from,
                         progress["examples"])
    writer = tf.summary.create_file_writer(log_dir) if log_dir and chief else None
    logging.info(
        "Supervised learning of %s from %s: %d training and %d held-out files; %d examples per "
        "update on %d replica(s) (%s); budget %d examples; TensorBoard: %s", model_name, folder,
        len(train_paths), len(held_out_paths), trainer.examples_per_update,
        strategy.num_replicas_in_sync, type(strategy).__name__, config.max_examples, log_dir)
    if not held_out_paths:
        logging.warning("Only one game: nothing is held out, and the checkpoint is simply the "
                        "latest weights.")

    # A resumed run streams the files in a new order (its position in the old one is lost).
    iterator = trainer.training_iterator(reader, train_paths, pairs_per_file,
                                         seed=config.seed + progress["examples"])
    updates = math.ceil(config.max_examples / trainer.examples_per_update)
    skipped = agent_lib.SkippedUpdates(config.learning_rate, total=progress["skipped_updates"])
    totals, grad_norms = {}, []  # over the current log interval
    start = interval_start = time.time()
    interval_examples = progress["examples"]

    def save_checkpoint():
        if checkpoint and skipped.checkpoint_allowed():
            progress["skipped_updates"] = skipped.total
            checkpoint.save({**checkpointing.run_info, "progress": progress},
                            progress["examples"])

    try:
        for update in range(progress["updates"] + 1, updates + 1):
            try:
                batch = next(iterator)
            except StopIteration:
                raise DataError(f"the training files of {folder} give no training pairs "
                                f"({len(reader.skipped)} skipped)") from None
            stats = trainer.train_step(batch)
            grad_norm, applied = stats.pop("grad_norm"), stats.pop("applied") > 0.5
            previous = progress["examples"]
            examples = progress["examples"] = previous + int(stats["function/count"])
            progress["updates"] = update
            skipped.record(applied, examples)
            if applied:
                grad_norms.append(grad_norm)
                for key, value in stats.items():
                    totals[key] = totals.get(key, 0.0) + value
            stop = bool(should_stop and should_stop())
            last = update == updates or stop
            if last or examples // config.log_interval > previous // config.log_interval:
                now = time.time()
                summary = {**summarise(totals),
                           "grad_norm": float(np.mean(grad_norms)) if grad_norms else np.nan,
                           "skipped_updates": skipped.total,
                           "examples_per_second": (examples - interval_examples)
                           / max(now - interval_start, 1e-9)}
                log_progress(examples, summary, reader, trainer.input_pipelines, now - start)
                write_scalars(writer, examples, summary)
                totals, grad_norms, interval_start, interval_examples = {}, [], now, examples
            if last or examples // config.eval_interval > previous // config.eval_interval:
                evaluate_and_save(trainer, reader, held_out_paths, progress, writer,
                                  save if chief else None)
            interval = checkpointing.interval if checkpointing else 0
            if last or (interval and examples // interval > previous // interval):
                save_checkpoint()
            if stop:
                break
    except (agent_lib.DivergenceError, checkpoints.NonFiniteWeights) as error:
        raise agent_lib.divergence(error, config.learning_rate,
                                   f"{progress['examples']:,} training examples",
                                   checkpoint.latest if checkpoint else None) from None
    finally:
        trainer.close()
        if writer:
            writer.close()
        if checkpoint and not chief:
            shutil.rmtree(checkpoint.manager.directory, ignore_errors=True)
    seconds = time.time() - start
    logging.info("Supervised learning %s: %d examples, %d updates (%d skipped) in %s; %d file(s) "
                 "skipped as unreadable or unusable%s",
                 "stopped" if progress["updates"] < updates else "done", progress["examples"],
                 progress["updates"], skipped.total, datetime.timedelta(seconds=int(seconds)),
                 len(reader.skipped),
                 "".join(f"\n  {reason}" for reason in reader.skipped.values()))
    return SLResult(examples=progress["examples"], updates=progress["updates"], seconds=seconds,
                    train_files=len(train_paths), held_out_files=len(held_out_paths),
                    skipped_files=dict(reader.skipped), held_out=progress["held_out"],
                    saved=progress["saved"])


def evaluate_and_save(trainer, reader, held_out_paths, progress, writer, save):
    """Evaluate the held-out files (into progress["held_out"]) and save the model file when the
    held-out action accuracy is at least that of the previous save (progress["saved"])."""
    examples = progress["examples"]
    if held_out_paths:
        held_out = progress["held_out"] = summarise(trainer.evaluate(reader, held_out_paths))
        write_scalars(writer, examples, {f"held_out/{k}": v for k, v in held_out.items()})
        logging.info("held out at %d examples: %s", examples, format_accuracies(held_out))
    held_out = progress["held_out"]
    if held_out.get("accuracy/action", 0.0) < progress["saved"].get("accuracy/action", -1.0):
        return
    progress["saved"] = {**held_out, "examples": examples}
    if save:
        save(trainer.model, {"examples": examples, **{
            f"held_out_{key.replace('/', '_')}": round(value, 4)
            for key, value in held_out.items() if key.startswith("accuracy/")}})
        logging.info("Saved the model (held-out action accuracy %.4f)",
                     progress["saved"].get("accuracy/action", float("nan")))


def format_accuracies(summary):
    return ", ".join(f"{key[len('accuracy/'):]} {value:.3f}" for key, value in summary.items()
                     if key.startswith("accuracy/"))


def log_progress(examples, summary, reader, input_pipelines, elapsed):
    losses = " ".join(f"{key[len('loss/'):]} {value:.3f}" for key, value in summary.items()
                      if key.startswith("loss/"))
    # Each input pipeline (worker) reads its own share of the files.
    epoch = (f"{examples / (reader.pairs_per_pass * input_pipelines):.2f}"
             if reader.pairs_per_pass else "<1")
    logging.info(
        "examples %9d | epoch %s | loss %.3f (%s) | accuracy %s | grad %.2f | %4.0f examples/s | "
        "files read %d, skipped %d | %s", examples, epoch, summary["total_loss"],
        losses, format_accuracies(summary), summary["grad_norm"],
        summary["examples_per_second"], reader.files_read,
        len(reader.skipped), datetime.timedelta(seconds=int(elapsed)))


def write_scalars(writer, step, scalars):
    if writer is None:
        return
    with writer.as_default(step=step):
        for name, value in scalars.items():
            tf.summary.scalar(name, value)
    writer.flush()
