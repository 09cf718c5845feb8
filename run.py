"""Train an agent with A2C or supervised learning, or evaluate a saved one, on a PySC2 map.

    python run.py --training True --save_model True                  # FullyConv on MoveToBeacon
    python run.py --training True --model_name alphastar --save_model True
    python run.py --training True --resume True                      # continue the latest run
    python run.py --load_model True --visualize True                 # evaluate the latest model
    python run.py --load_model Models/<file>.weights.h5 --eval_episodes 100 --greedy
    python run.py --sl_training True --replay_hkl_file_path hkl/      # supervised learning
    python run.py --sl_training True --training True --replay_hkl_file_path hkl/   # SL, then A2C

Boolean flags accept `--flag`, `--noflag`, `--flag=False` and, as the replicated project's
commands write them, `--flag True` / `--flag False`. A bad flag value, or a folder that cannot be
written, is one line and a non-zero exit before anything starts.

Training steps N environments at once (`--num_envs`): the embedded engine's `BatchEnv`, or N
StarCraft II games with `--backend sc2`. Every `--n_steps` steps the agent makes one A2C update.
Outputs go under `--workspace_path` (never into the repository's image/):
  tensorboard/<run>/        episode_reward_sum, episode_reward_mean_100, losses, grad_norm,
                            learning_rate, steps_per_second, skipped_updates; the run's settings
                            (HParams and text), screen_policy and episode images (summaries.py);
                            learning_curve.png (rewritten at every checkpoint and at the end)
  checkpoints/<run>/        training checkpoints every --checkpoint_interval agent steps and when
                            stopped by SIGINT/SIGTERM (checkpoints.py); --resume continues the run
                            in the same folders
  Models/<run>.weights.h5 (+ .json)   with --save_model: rewritten whenever the 100-episode
                            mean is above 5.0 and better than at the previous save (the original's
                            rule); `--load_model True` loads the newest one of this map, network
                            and resolution
  replays/                  with --save_replay_episodes k: every k-th game of each environment
  gifs/<run>.gif            with --visualize, a GIF of one game (embedded engine); an
                            evaluation's is gifs/<model>_eval_seed<seed>.gif

Supervised learning (`--sl_training`, supervised.py) trains on the .hkl files of
--replay_hkl_file_path for --max_agent_steps training examples and writes
Models/<map>_<network>_sl_seed<seed>_<time>.weights.h5 (the weights with the best held-out action
accuracy), tensorboard/<same name>/ and checkpoints/<same name>/; with --training too, A2C then
starts from that model.
"""
import dataclasses
import datetime
import os
import signal
import sys
import time

import startup

if __name__ == "__main__":
    startup.prepare()  # before TensorFlow: a quiet start, or a hint when outside the environment

import keras
import numpy as np
import tensorflow as tf
import tqdm
from absl import app, flags, logging

import minigames  # first: it applies pysc2's Python 3.11 fix
from minigames import batch_format, pysc2_batch_env, render
from minigames.files import write_atomically
from pysc2 import maps as pysc2_maps
from pysc2.env import sc2_env
from pysc2.lib import actions

import agent as agent_lib
import checkpoints
import finetune
import network
import summaries
import supervised
import utils

FLAGS = flags.FLAGS
MEAN_WINDOW = checkpoints.MEAN_WINDOW
# Evaluation plays the games of --seed + EVAL_SEED_OFFSET unless --eval_seed is given, so that it
# does not replay the first games training played (environment i of a run plays seed + i's).
EVAL_SEED_OFFSET = 1_000_000
GIFS_DIR = "gifs"  # in the workspace: --visualize's GIFs, named after their run or model
_BOOLEAN_VALUES = {"true", "false", "t", "f", "1", "0"}
# Flags a checkpoint records; a resumed run takes their saved values unless given again. Those of
# RESUME_FIXED cannot change within a run.
RUN_FLAGS = ("environment", "model_name", "screen_size", "minimap_size", "num_envs", "step_mul",
             "backend", "seed", "max_agent_steps", "save_model", "log_interval",
             "checkpoint_interval", "player_1", "player_2", "difficulty", "replay_dir",
             "save_replay_episodes", "replay_hkl_file_path", "distribution", "target_mean",
             "episode_summary_interval")
RESUME_FIXED = ("environment", "model_name", "screen_size", "minimap_size", "num_envs",
                "step_mul")


class UserError(Exception):
    """A problem the user can fix; reported as one line and a non-zero exit."""


# ---------------------------------------------------------------------------------- flags
def define_flags():
    """Define run.py's flags (benchmarks that take them call this too); a second call does
    nothing."""
    if "workspace_path" in FLAGS:
        return
    defaults = agent_lib.A2CConfig()
    alphastar = agent_lib.NETWORK_DEFAULTS["alphastar"]
    flags.DEFINE_string("workspace_path", ".", "Folder for Models/, tensorboard/, checkpoints/, "
                        "replays/ and gifs/.")
    flags.DEFINE_string("environment", "MoveToBeacon", "pysc2 map name.")
    flags.DEFINE_enum("model_name", "fullyconv", list(network.MODELS), "Network to train or load.")
    flags.DEFINE_bool("training", False, "Train the network with A2C (after supervised learning "
                      "when --sl_training is given too).")
    flags.DEFINE_bool("sl_training", False, "Supervised learning from the .hkl trajectories of "
                      "--replay_hkl_file_path (supervised.py; its SLConfig defaults hold unless "
                      "--learning_rate, --gradient_clipping, --max_agent_steps, --step_mul, "
                      "--log_interval or --seed is given).")
    flags.DEFINE_enum("distribution", "default", list(supervised.DISTRIBUTIONS),
                      "tf.distribute strategy of supervised learning: one device, "
                      "MirroredStrategy (local GPUs or CPU devices), or "
                      "MultiWorkerMirroredStrategy (TF_CONFIG).")
    flags.DEFINE_bool("gpu_use", False, "Use the GPU (with memory growth) if there is one.")
    flags.DEFINE_bool("save_model", False, "Save the model when the 100-episode mean is above 5.0 "
                      "and improving.")
    flags.DEFINE_string("load_model", None, "True: load the newest saved model of this map, "
                        "network and resolution; or the path of a .weights.h5 file.")
    flags.DEFINE_alias("load", "load_model")  # the original README's spelling
    flags.DEFINE_string("resume", None, "Continue a training run where it stopped: True for the "
                        "newest run of this map and network in the workspace, or a run's "
                        "checkpoint folder (checkpoints/<run>) or one checkpoint of it.")
    flags.DEFINE_integer("checkpoint_interval", 50_000, "Agent steps (supervised learning: "
                         "training examples) between training checkpoints; 0: only at the end "
                         "and when stopped by SIGINT or SIGTERM.", lower_bound=0)
    flags.DEFINE_bool("visualize", False, "Write a GIF of one episode to <workspace>/gifs/ "
                      "(embedded engine); with --backend sc2, show the game.")
    flags.DEFINE_float("learning_rate", defaults.learning_rate, "Optimiser learning rate "
                       f"(alphastar: {alphastar['learning_rate']}; A2C from a loaded model: "
                       f"{finetune.FINETUNE_DEFAULTS['learning_rate']}).")
    flags.DEFINE_float("gradient_clipping", defaults.gradient_clipping,
                       "Clip gradients to this global norm (alphastar: "
                       f"{alphastar['gradient_clipping']}).")
    flags.DEFINE_enum("optimizer", defaults.optimizer, ["rmsprop", "adam"], "Optimiser.")
    flags.DEFINE_float("optimizer_epsilon", defaults.optimizer_epsilon,
                       "Epsilon of the optimiser's gradient normalisation (alphastar: "
                       f"{alphastar['optimizer_epsilon']}).")
    flags.DEFINE_float("discount", defaults.discount, "Reward discount per agent step.",
                       lower_bound=0.0, upper_bound=1.0)
    flags.DEFINE_float("gae_lambda", defaults.gae_lambda, "GAE lambda of the advantages (1: the "
                       "n-step returns of plain A2C).", lower_bound=0.0, upper_bound=1.0)
    flags.DEFINE_integer("n_steps", defaults.n_steps, "Agent steps per environment per update.",
                         lower_bound=1)
    flags.DEFINE_float("value_loss_weight", defaults.value_loss_weight,
                       "Weight of the value loss.", lower_bound=0.0)
    flags.DEFINE_float("entropy_weight", defaults.entropy_weight, "Weight of the entropy bonus.",
                       lower_bound=0.0)
    flags.DEFINE_bool("normalize_advantages", defaults.normalize_advantages,
                      "Standardise advantages over each update's batch.")
    flags.DEFINE_float("kl_weight", defaults.kl_weight, "Weight of a KL penalty toward the "
                       "loaded policy when A2C starts from a model (finetune.py; default then "
                       f"{finetune.FINETUNE_DEFAULTS['kl_weight']}).", lower_bound=0.0)
    flags.DEFINE_integer("critic_warmup_steps", defaults.critic_warmup_steps,
                         "Agent steps at the start of A2C that train only the value head "
                         "(finetune.py; when A2C starts from a model, default "
                         f"{finetune.FINETUNE_DEFAULTS['critic_warmup_steps']:,}).",
                         lower_bound=0)
    flags.DEFINE_integer("seed", 42, "Seed of Python, numpy, TensorFlow, the action sampling and "
                         "the environments.", lower_bound=0)
    flags.DEFINE_integer("eval_seed", None, "Seed of evaluation's games and action sampling "
                         f"(default: --seed + {EVAL_SEED_OFFSET:,}, games training did not "
                         "play).", lower_bound=0)
    flags.DEFINE_integer("screen_size", 16, "Feature screen resolution (square); 16 is enough for "
                         "MoveToBeacon and 4x cheaper than the original's 32.", lower_bound=1)
    flags.DEFINE_integer("minimap_size", 16, "Feature minimap resolution (square).",
                         lower_bound=1)
    flags.DEFINE_integer("step_mul", 8, "Game loops per agent step.", lower_bound=1)
    flags.DEFINE_enum("player_1", "terran", list(pysc2_batch_env.RACES),
                      "Race of the agent (the embedded engine plays Terran only).")
    flags.DEFINE_enum("player_2", "terran", list(pysc2_batch_env.RACES),
                      "Race of the built-in bot on maps with two players.")
    flags.DEFINE_enum("difficulty", "very_easy", [d.name for d in sc2_env.Difficulty],
                      "The built-in bot's difficulty on maps with two players (the embedded "
                      "engine's bot plays very_easy, easy and medium).")
    flags.DEFINE_string("replay_dir", "replays", "Folder for the replays of "
                        "--save_replay_episodes, relative to the workspace unless absolute.")
    flags.DEFINE_integer("save_replay_episodes", 0, "Save every k-th game of each environment "
                         "as a replay in --replay_dir (0: none).", lower_bound=0)
    flags.DEFINE_string("replay_hkl_file_path", "replay", "Folder of .hkl trajectories for "
                        "supervised learning.")
    flags.DEFINE_string("tensorboard_path", "tensorboard", "TensorBoard root, relative to the "
                        "workspace unless absolute.")
    flags.DEFINE_integer("num_envs", 16, "Environments stepped together.", lower_bound=1)
    flags.DEFINE_enum("backend", "auto", minigames.backend.BACKENDS,
                      "Which game: StarCraft II (sc2), the embedded engine, or sc2 when "
                      "installed.")
    flags.DEFINE_integer("max_agent_steps", 1_000_000, "Training budget in agent steps, summed "
                         "over environments; with --sl_training, in training examples "
                         "(observation/action pairs).", lower_bound=1)
    flags.DEFINE_float("target_mean", None, "With --training: stop once the 100-episode mean "
                       "reaches this score (default: spend the whole budget).")
    flags.DEFINE_integer("eval_episodes", 30, "Episodes to play when evaluating.", lower_bound=1)
    flags.DEFINE_bool("greedy", False, "Evaluate with the most likely actions instead of "
                      "sampling.")
    flags.DEFINE_integer("episode_summary_interval", 100_000, "Agent steps between the game "
                         "strips TensorBoard shows (one game of the evaluation seed, embedded "
                         "engine); 0: none.", lower_bound=0)
    flags.DEFINE_integer("log_interval", 10_000, "Agent steps between progress lines (and save "
                         "checks).", lower_bound=1)
    flags.DEFINE_integer("actors", 0, "With --training: IMPALA, with this many Ray actors each "
                         "playing --num_envs games of the embedded engine and a V-trace learner "
                         "(distributed.py); 0: A2C in this process.", lower_bound=0)
    flags.DEFINE_string("ray_address", None, "With --actors: HOST:PORT of the Ray cluster to "
                        "join; default a local Ray started for the run.")
    startup.define_verbose_flag()
    for name in ("learning_rate", "gradient_clipping", "optimizer_epsilon"):
        flags.register_validator(name, lambda value: value > 0, message=f"--{name} must be "
                                 "greater than 0")


def join_boolean_values(argv, boolean_flags, boolean_or_path_flags=()):
    """Rewrite `--flag True` as `--flag=True` for boolean flags, which absl would otherwise read
    as `--flag` followed by a stray argument (so `--training False` would train).

    A flag of `boolean_or_path_flags` (like --load_model) given bare means `--flag=True`.
    """
    joined = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        name = arg[2:] if arg.startswith("--") and "=" not in arg else None
        following = argv[i + 1] if i + 1 < len(argv) else None
        if name in boolean_flags and following is not None \
                and following.lower() in _BOOLEAN_VALUES:
            joined.append(f"{arg}={following}")
            i += 2
            continue
        if name in boolean_or_path_flags and (following is None or following.startswith("--")):
            joined.append(f"{arg}=True")
        else:
            joined.append(arg)
        i += 1
    return joined


def parse_flags(argv):
    """absl's parser with `--flag True|False` accepted; pass to app.run as flags_parser. A flag
    error is one line and exit status 2."""
    define_flags()
    boolean_flags = {name for name, flag in FLAGS._flags().items() if flag.boolean}
    try:
        return FLAGS(join_boolean_values(argv, boolean_flags, {"load_model", "load", "resume"}))
    except flags.Error as error:
        message = " ".join(str(error).split("\n"))  # one line, however many flags are wrong
        print(f"{os.path.basename(argv[0])}: error: {message} (--helpshort lists the flags)",
              file=sys.stderr)
        sys.exit(2)


def a2c_config_from_flags(base=None):
    """`base` (an A2CConfig; default: the network's defaults) with every hyperparameter flag given
    on the command line."""
    config = base or agent_lib.default_config(FLAGS.model_name)
    given = {field.name: getattr(FLAGS, field.name)
             for field in dataclasses.fields(agent_lib.A2CConfig) if FLAGS[field.name].present}
    return dataclasses.replace(config, **given)


# The flags supervised learning shares with A2C, and the SLConfig fields they set.
_SL_FLAGS = {"learning_rate": "learning_rate", "gradient_clipping": "gradient_clipping",
             "max_agent_steps": "max_examples", "step_mul": "step_mul",
             "log_interval": "log_interval", "seed": "seed"}


def sl_config_from_flags(base=None, **defaults):
    """`base` (default: SLConfig with `defaults` replacing its own), with every shared flag given
    on the command line; the A2C defaults of those flags do not apply to supervised learning."""
    config = base or supervised.SLConfig(**defaults)
    given = {field: getattr(FLAGS, name) for name, field in _SL_FLAGS.items()
             if FLAGS[name].present}
    return dataclasses.replace(config, **given)


def configure_devices(gpu_use):
    gpus = tf.config.list_physical_devices("GPU")
    if not gpu_use:
        tf.config.set_visible_devices([], "GPU")
        return
    if not gpus:
        logging.warning("--gpu_use True, but TensorFlow sees no GPU; running on the CPU.")
        return
    for gpu in gpus:
        tf.config.experimental.set_memory_growth(gpu, True)
    logging.info("Using %d GPU(s) with memory growth.", len(gpus))


def workspace_folder(path):
    """`path` relative to the workspace unless absolute."""
    return os.path.join(FLAGS.workspace_path, path)


def ensure_folder(path, flag):
    """Create folder `path` (named by `flag` in errors) or raise UserError: a file in its way,
    no permission."""
    if os.path.exists(path) and not os.path.isdir(path):
        raise UserError(f"{flag}: {path} is a file, not a folder; move it away or pass another "
                        f"{flag.split()[0]}.")
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as error:
        raise UserError(f"{flag}: cannot create the folder {path} ({error.strerror}); pass "
                        f"another {flag.split()[0]}.") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise UserError(f"{flag}: cannot write into {path}; pass another {flag.split()[0]}.")


# --------------------------------------------------------------------------- environments
def choose_backend(backend, player_1):
    """--backend -> "embedded" or "sc2"; UserError if the embedded engine cannot play
    player_1's race or StarCraft II is asked for but not installed."""
    try:
        chosen = minigames.choose_backend(backend)
    except minigames.BackendError as error:
        raise UserError(str(error)) from None
    if chosen == "embedded" and player_1 != "terran":
        raise UserError(f"--player_1 {player_1}: the embedded engine plays Terran only; pass "
                        "--player_1 terran, or --backend sc2 with StarCraft II.")
    return chosen


def make_batch_env(backend, map_name, num_envs, spec, step_mul, seed, use_feature_units,
                   visualize=False, player_1="terran", player_2="terran", replay_dir=None,
                   save_replay_episodes=0, difficulty="very_easy"):
    """`BatchEnv` on the embedded engine, or N real games behind the same interface."""
    try:
        if choose_backend(backend, player_1) == "embedded":
            return minigames.BatchEnv(map_name=map_name, num_envs=num_envs,
                                      screen_size=spec.screen_size,
                                      minimap_size=spec.minimap_size, step_mul=step_mul,
                                      seed=seed, use_feature_units=use_feature_units,
                                      replay_dir=replay_dir,
                                      save_replay_episodes=save_replay_episodes,
                                      opponent=difficulty)
        envs = [sc2_env.SC2Env(**pysc2_batch_env.env_kwargs(
                    map_name, spec.screen_size, spec.minimap_size, step_mul, use_feature_units,
                    seed + i, visualize and i == 0, player_1, player_2, replay_dir,
                    save_replay_episodes, difficulty))
                for i in range(num_envs)]
        return pysc2_batch_env.PySC2BatchEnv(envs, spec.screen_size, spec.minimap_size)
    except ValueError as error:
        raise UserError(str(error)) from None


# ------------------------------------------------------------------------------ episodes
class Runner:
    """Steps a batch environment with the agent and keeps each environment's episode score.

    `snapshot()` is everything the next steps depend on; `Runner(..., saved=snapshot)` goes on
    from it exactly (from new games when the environment cannot save its games).
    """

    def __init__(self, env, agent, spec, saved=None):
        self.env = env
        self.agent = agent
        self.spec = spec
        self.num_envs = env.num_envs
        self.finished_episodes = list(saved["finished_episodes"]) if saved else []
        self.finished_at = list(saved["finished_at"]) if saved else []  # agent_steps at their end
        self.agent_steps = saved["agent_steps"] if saved else 0
        if saved and saved["environment"] is not None:
            self.observation = env.set_state(saved["environment"])
            self.state = {name: value.copy() for name, value in saved["recurrent_state"].items()}
            self.reset = saved["reset"].copy()
            self.episode_reward = saved["episode_reward"].copy()
        else:  # a new run, or games that could not be saved (StarCraft II): new games
            self.observation = env.reset()
            self.state = agent.initial_state(self.num_envs)
            self.reset = np.ones(self.num_envs, np.float32)
            self.episode_reward = np.zeros(self.num_envs)

    def snapshot(self):
        return {"environment": self.env.get_state(), "agent_steps": self.agent_steps,
                "recurrent_state": {name: value.copy() for name, value in self.state.items()},
                "reset": self.reset.copy(), "episode_reward": self.episode_reward.copy(),
                "finished_episodes": list(self.finished_episodes),
                "finished_at": list(self.finished_at)}

    def step(self, greedy=False):
        """One agent step in every environment; returns what a rollout needs to keep."""
        inputs = utils.preprocess(self.observation, self.spec)
        reset = self.reset
        function_id, arg_indices, _, self.state = self.agent.step(inputs, reset, self.state,
                                                                  greedy)
        self.observation, reward, done = self.env.step(function_id, arg_indices)
        self.episode_reward += reward
        self.agent_steps += self.num_envs
        self.finished_episodes.extend(self.episode_reward[done].tolist())
        self.finished_at.extend([self.agent_steps] * int(done.sum()))
        self.episode_reward[done] = 0.0
        self.reset = done.astype(np.float32)
        return inputs, reset, function_id, arg_indices, reward, done

    def collect(self, n_steps):
        """n_steps agent steps in every environment -> agent.Rollout (with V(s_T))."""
        initial_state = self.state
        steps = [self.step() for _ in range(n_steps)]
        inputs, reset, function_id, arg_indices, reward, done = zip(*steps)
        bootstrap_value = self.agent.value(utils.preprocess(self.observation, self.spec),
                                           self.reset, self.state)
        return agent_lib.Rollout(
            inputs={name: np.concatenate([step[name] for step in inputs]) for name in inputs[0]},
            reset=np.concatenate(reset), function_id=np.concatenate(function_id),
            arg_indices=np.concatenate(arg_indices), rewards=np.stack(reward),
            dones=np.stack(done).astype(np.float32), bootstrap_value=bootstrap_value,
            initial_state=initial_state)

    def recent_mean(self):
        """Mean of the last 100 episode scores (None before any episode has ended)."""
        if not self.finished_episodes:
            return None
        return float(np.mean(self.finished_episodes[-MEAN_WINDOW:]))


# -------------------------------------------------------------------------------- training
class StopRequest:
    """While entered, SIGINT and SIGTERM ask the training loop to stop after its current update
    (it writes a checkpoint first); a second signal acts at once, as without this. Call it to
    know whether a stop was asked."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self):
        self.signal = None
        self._previous = {}

    def __enter__(self):
        self._previous = {number: signal.signal(number, self._handle) for number in self.SIGNALS}
        return self

    def __exit__(self, *exception):
        self._restore()

    def __call__(self):
        return self.signal is not None

    def _handle(self, number, frame):
        del frame
        self.signal = number
        self._restore()
        logging.warning("%s: stopping after this update (a second one stops at once).",
                        signal.Signals(number).name)

    def _restore(self):
        for number, handler in self._previous.items():
            signal.signal(number, handler)
        self._previous = {}


def train(agent, env, spec, config, max_agent_steps, writer, log_interval, save_path=None,
          save_metadata=None, target_mean=None, checkpointing=None, should_stop=None,
          learning_curve=None, title="A2C", episode_frames=None, episode_interval=0):
    """A2C until max_agent_steps, or until the 100-episode mean reaches target_mean (once 100
    episodes have ended), or until should_stop() is true after an update.

    checkpointing (checkpoints.Checkpointing): write training checkpoints every
    checkpointing.interval agent steps, when stopped and at the end, and start from
    checkpointing.resume_from if given. learning_curve: a PNG path, rewritten (with `title`) at
    each checkpoint and at the end. episode_frames: a function returning (frames, score) of one
    game, drawn to TensorBoard as an image strip every episode_interval agent steps. A progress
    bar (tqdm, on a terminal) shows the agent steps, their rate and the time left. Returns the
    Runner (with every finished episode's score).
    Raises agent.DivergenceError (naming the last good checkpoint) when training diverges.
    """
    checkpoint = loop_state = None
    if checkpointing:
        checkpoint = checkpoints.TrainingCheckpoint(checkpointing.directory, agent.model,
                                                    agent.optimizer, generator=agent.generator)
        if checkpointing.resume_from:
            loop_state = checkpoint.restore(checkpointing.resume_from)
            agent.optimizer.learning_rate = config.learning_rate  # the flags may change it
    runner = Runner(env, agent, spec, loop_state)
    save_rule = checkpoints.SaveRule()
    skipped = agent_lib.SkippedUpdates(config.learning_rate)
    if loop_state:
        save_rule.best, skipped.total = loop_state["save_rule_best"], loop_state["skipped_updates"]
        logging.info("Resumed %s at %d agent steps (%d episodes)", checkpointing.resume_from,
                     runner.agent_steps, len(runner.finished_episodes))
    interval = checkpointing.interval if checkpointing else 0

    def save_checkpoint():
        if checkpoint and skipped.checkpoint_allowed():
            checkpoint.save({**checkpointing.run_info, **runner.snapshot(),
                             "save_rule_best": save_rule.best, "skipped_updates": skipped.total},
                            runner.agent_steps)
        if learning_curve and runner.finished_episodes:
            write_learning_curve(runner.finished_episodes, runner.finished_at, learning_curve,
                                 title)

    next_log = (runner.agent_steps // log_interval + 1) * log_interval
    reported_episodes = len(runner.finished_episodes)
    start = interval_start = time.time()
    interval_steps = runner.agent_steps
    announce_start(runner.agent_steps, max_agent_steps, target_mean, config, save_path)
    # The time left is announced once, at the second progress line: the first interval's speed
    # includes tracing the update (a minute on a busy machine).
    progress_lines = 0
    progress = tqdm.tqdm(total=max_agent_steps, initial=runner.agent_steps, unit="step",
                         unit_scale=True, disable=None, dynamic_ncols=True, leave=False)
    try:
        while runner.agent_steps < max_agent_steps:
            previous_step = runner.agent_steps
            rollout = runner.collect(config.n_steps)
            warming_up = previous_step < config.critic_warmup_steps
            metrics = agent.train_critic(rollout) if warming_up else agent.train(rollout)
            step = runner.agent_steps
            progress.update(step - previous_step)
            skipped.record(metrics["applied"] > 0, step)
            with writer.as_default(step=step):
                for name in ("policy_loss", "value_loss", "entropy", "grad_norm",
                             "learning_rate", "kl"):
                    if name in metrics:
                        tf.summary.scalar(name, metrics[name])
                tf.summary.scalar("skipped_updates", skipped.total)
                if len(runner.finished_episodes) > reported_episodes:
                    tf.summary.scalar("episode_reward_mean_100", runner.recent_mean())
            summaries.write_episode_scores(writer, runner.finished_episodes[reported_episodes:],
                                           reported_episodes + 1)
            reported_episodes = len(runner.finished_episodes)
            if reported_episodes:
                progress.set_postfix(mean100=f"{runner.recent_mean():.2f}", refresh=False)
            if episode_frames and episode_interval \
                    and step // episode_interval > previous_step // episode_interval:
                summaries.write_episode_strip(writer, *episode_frames(), step)
            reached = (target_mean is not None and len(runner.finished_episodes) >= MEAN_WINDOW
                       and runner.recent_mean() >= target_mean)
            stop = bool(should_stop and should_stop())
            finished = step >= max_agent_steps or reached or stop
            if finished or (interval and step // interval > previous_step // interval):
                save_checkpoint()
            if step < next_log and not finished:
                continue

            next_log = (step // log_interval + 1) * log_interval
            now = time.time()
            steps_per_second = (step - interval_steps) / max(now - interval_start, 1e-9)
            interval_start, interval_steps = now, step
            with writer.as_default(step=step):
                tf.summary.scalar("steps_per_second", steps_per_second)
            summaries.write_screen_policy(writer, screen_policy_image(agent.model, runner), step)
            writer.flush()
            mean = runner.recent_mean()
            logging.info(
                "steps %9d | episodes %5d | mean100 %6s | policy %+.3f value %.3f entropy %.2f | "
                "grad %.2f | skipped %d | %4.0f steps/s | %s",
                step, len(runner.finished_episodes), "-" if mean is None else f"{mean:.2f}",
                metrics["policy_loss"], metrics["value_loss"], metrics["entropy"],
                metrics["grad_norm"], skipped.total, steps_per_second,
                datetime.timedelta(seconds=int(now - start)))
            progress_lines += 1
            if progress_lines == 2 and not finished:
                announce_duration(max_agent_steps - step, steps_per_second)
            if save_path and save_rule.should_save(runner.finished_episodes):
                checkpoints.save_model(agent.model, save_path, {
                    **(save_metadata or {}), "agent_steps": step,
                    "mean_reward_100": save_rule.best})
                logging.info("Saved %s (100-episode mean %.2f)", save_path, save_rule.best)
            if reached or stop:
                break
    except (agent_lib.DivergenceError, checkpoints.NonFiniteWeights) as error:
        raise agent_lib.divergence(error, config.learning_rate,
                                   f"{runner.agent_steps:,} agent steps",
                                   checkpoint.latest if checkpoint else None) from None
    finally:
        progress.close()
    writer.flush()
    if save_path and save_rule.best <= checkpoints.SAVE_THRESHOLD:
        announce_nothing_saved(save_path, runner)
    return runner


def announce_start(agent_steps, max_agent_steps, target_mean, config, save_path):
    """One line saying what the run will do (the time it takes follows at the second progress
    line, once the speed is measured)."""
    until = f" or a 100-episode mean of {target_mean:g}" if target_mean is not None else ""
    warmup = (f"; the first {config.critic_warmup_steps:,} train only the value head"
              if config.critic_warmup_steps > agent_steps else "")
    kl = f"; KL penalty {config.kl_weight:g} toward the loaded policy" if config.kl_weight else ""
    saving = (f"; saves {save_path} when the 100-episode mean is above "
              f"{checkpoints.SAVE_THRESHOLD:g} and improving" if save_path else
              "; no model file (--save_model False)")
    logging.info("A2C from %s to %s agent steps%s at a learning rate of %g%s%s%s. Ctrl-C stops "
                 "cleanly and writes what a finished run writes.", f"{agent_steps:,}",
                 f"{max_agent_steps:,}", until, config.learning_rate, warmup, kl, saving)


def announce_duration(steps_left, steps_per_second):
    logging.info("At %.0f agent steps/s, the %s agent steps left take about %s (less if the "
                 "target is reached).", steps_per_second, f"{steps_left:,}",
                 datetime.timedelta(seconds=int(steps_left / max(steps_per_second, 1e-9))))


def announce_nothing_saved(save_path, runner):
    """--save_model, but the save rule never fired: say why, once, at the end."""
    episodes = len(runner.finished_episodes)
    if episodes < MEAN_WINDOW:
        reason = f"only {episodes} episodes ended and the rule needs {MEAN_WINDOW}"
    else:
        reason = (f"the 100-episode mean ({runner.recent_mean():.2f} at the end) never rose "
                  f"above {checkpoints.SAVE_THRESHOLD:g}")
    logging.warning("No model saved to %s: %s (the original's save rule; the training "
                    "checkpoint holds the weights: --resume True continues, a longer "
                    "--max_agent_steps trains more).", save_path, reason)


def screen_policy_image(model, runner):
    """[1, H, W, 3] picture of environment 0's screen: where a Move_screen would click (green,
    probability relative to the most likely point) over the units (player_relative, grey)."""
    inputs = utils.preprocess(runner.observation, runner.spec)
    function_id = np.full(runner.num_envs, actions.FUNCTIONS.Move_screen.id, np.int32)
    outputs = model({**inputs, **runner.state, "reset": runner.reset, "function_id": function_id})
    size = runner.spec.screen_size
    probabilities = tf.nn.softmax(outputs["arguments"]["screen"][0]).numpy().reshape(size, size)
    units = runner.observation["feature_screen"][0, utils.SCREEN.player_relative.index] > 0
    image = np.zeros((1, size, size, 3), np.float32)
    image[0, ..., 1] = probabilities / probabilities.max()
    image[0, units] += 0.5
    return np.clip(image, 0.0, 1.0)


def write_learning_curve(scores, agent_steps, path, title):
    """Episode scores and their 100-episode mean against agent steps, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    scores = np.asarray(scores, float)
    mean = np.array([scores[max(0, i + 1 - MEAN_WINDOW):i + 1].mean()
                     for i in range(len(scores))])
    figure, axes = pyplot.subplots(figsize=(7, 4))
    axes.plot(agent_steps, scores, ".", markersize=2, alpha=0.3, label="episode score")
    axes.plot(agent_steps, mean, label="100-episode mean")
    axes.set_xlabel("agent steps (all environments)")
    axes.set_ylabel("score")
    axes.set_title(title)
    axes.legend(loc="upper left")
    write_atomically(path, lambda temporary: figure.savefig(temporary, dpi=100,
                                                           bbox_inches="tight"))
    pyplot.close(figure)


# ------------------------------------------------------------------------------ evaluation
def evaluate(agent, env, spec, episodes, greedy):
    """Play `episodes` games spread evenly over the environments (environment i plays its first
    quota[i] games, so that on maps whose games differ in length the short ones are not
    over-represented); a progress bar on a terminal. Returns their scores in the order they
    ended."""
    runner = Runner(env, agent, spec)
    n = runner.num_envs
    quota = episodes // n + (np.arange(n) < episodes % n)
    played = np.zeros(n, np.int64)
    scores = []
    with tqdm.tqdm(total=episodes, unit="episode", disable=None, dynamic_ncols=True,
                   leave=False) as progress:
        while (played < quota).any():
            ended_before = len(runner.finished_episodes)
            done = runner.step(greedy)[-1]
            for i, score in zip(np.flatnonzero(done), runner.finished_episodes[ended_before:]):
                if played[i] < quota[i]:
                    played[i] += 1
                    scores.append(score)
            progress.update(len(scores) - progress.n)
    return scores


def episode_player(model, spec, env):
    """For TensorBoard's game strips: a function playing one game of the evaluation seed with
    the most likely actions -> (frames, score), by an agent of its own (training's random draws
    stay as they were); None with StarCraft II (no frames)."""
    if not isinstance(env, minigames.BatchEnv):
        return None
    viewer = agent_lib.A2CAgent(model, seed=eval_seed())
    return lambda: play_episode(viewer, spec, FLAGS.environment, FLAGS.step_mul, eval_seed(),
                                greedy=True, difficulty=FLAGS.difficulty)


def play_gif(agent, spec, map_name, step_mul, seed, greedy, path, difficulty="very_easy"):
    """Play one episode on the embedded engine's pysc2 SC2Env and write it as a GIF."""
    frames, score = play_episode(agent, spec, map_name, step_mul, seed, greedy, difficulty)
    render.write_gif(frames, path)
    logging.info("Wrote %s (an episode scoring %d)", path, score)
    return score


def play_episode(agent, spec, map_name, step_mul, seed, greedy, difficulty="very_easy"):
    """Play one episode on the embedded engine's pysc2 SC2Env -> (RGB frames, score)."""
    env = minigames.SC2Env(**pysc2_batch_env.env_kwargs(
        map_name, spec.screen_size, spec.minimap_size, step_mul, agent.model.uses_feature_units,
        seed, visualize=True, difficulty=difficulty))
    timestep = env.reset()[0]
    state = agent.initial_state(1)
    reset = np.ones(1, np.float32)
    score = 0.0
    while not timestep.last():
        batch = batch_format.stack_observations([timestep.observation])
        function_id, arg_indices, _, state = agent.step(utils.preprocess(batch, spec), reset,
                                                        state, greedy)
        reset = np.zeros(1, np.float32)
        timestep = env.step([utils.to_function_call(function_id[0], arg_indices[0],
                                                    spec.screen_size, spec.minimap_size)])[0]
        score += timestep.reward
    env.close()
    return env.frames, score


# ------------------------------------------------------------------------------------ main
def run_flags():
    return {name: FLAGS[name].value for name in RUN_FLAGS}


def adopt_saved_flags(saved):
    """A resumed run: every run flag not given on the command line takes the checkpoint's value;
    one of RESUME_FIXED given with another value is a UserError."""
    changed = [f"--{name} {saved[name]}" for name in RESUME_FIXED
               if FLAGS[name].present and FLAGS[name].value != saved[name]]
    if changed:
        raise UserError(f"the checkpoint's run was trained with {' '.join(changed)}; resume with "
                        "those values (or leave those flags out).")
    for name, value in saved.items():
        if not FLAGS[name].present:
            FLAGS[name].value = value


def new_run_name(supervised_run):
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    kind = "_sl" if supervised_run else ""
    return f"{FLAGS.environment}_{FLAGS.model_name}{kind}_seed{FLAGS.seed}_{stamp}"


def log_dir(run_name):
    return os.path.join(workspace_folder(FLAGS.tensorboard_path), run_name)


def check_output_folders(training, supervised_run):
    """Every folder this run writes into, created (or a UserError) before any work starts."""
    ensure_folder(FLAGS.workspace_path, f"--workspace_path {FLAGS.workspace_path}")
    folders = []
    if training or supervised_run:
        folders += [workspace_folder(FLAGS.tensorboard_path),
                    checkpoints.checkpoints_dir(FLAGS.workspace_path)]
    if supervised_run or (training and FLAGS.save_model):
        folders.append(checkpoints.models_dir(FLAGS.workspace_path))
    if FLAGS.save_replay_episodes and (training or not supervised_run):
        folders.append(workspace_folder(FLAGS.replay_dir))
    if FLAGS.visualize and (training or not supervised_run):
        folders.append(os.path.join(FLAGS.workspace_path, GIFS_DIR))
    for folder in folders:
        ensure_folder(folder, f"--workspace_path {FLAGS.workspace_path}")


def start_or_resume(resume_from, supervised_run):
    """(the checkpoint's loop state or None, the run's name, its Spec). A resumed run keeps its
    name and the flags it was started with (adopt_saved_flags)."""
    saved = checkpoints.read_loop_state(resume_from) if resume_from else None
    if saved:
        adopt_saved_flags(saved["flags"])
    run_name = saved["run_name"] if saved else new_run_name(supervised_run)
    return saved, run_name, utils.Spec(FLAGS.screen_size, FLAGS.minimap_size)


def model_path(run_name):
    return os.path.join(checkpoints.models_dir(FLAGS.workspace_path), f"{run_name}.weights.h5")


def checkpointing(run_name, config, resume_from, reference_model=None):
    """Where and how often the run writes training checkpoints, and what they record."""
    return checkpoints.Checkpointing(
        os.path.join(checkpoints.checkpoints_dir(FLAGS.workspace_path), run_name),
        FLAGS.checkpoint_interval,
        {"run_name": run_name, "flags": run_flags(), "config": dataclasses.asdict(config),
         "reference_model": reference_model}, resume_from)


def run_supervised_learning(resume_from, stop):
    """--sl_training: supervised learning from .hkl files; returns the model file written (None
    when stopped before the end)."""
    saved, run_name, spec = start_or_resume(resume_from, supervised_run=True)
    load_path = None if saved else checkpoints.resolve_load_path(
        FLAGS.load_model, FLAGS.workspace_path, FLAGS.environment, FLAGS.model_name, spec)
    save_path = model_path(run_name)
    config = sl_config_from_flags(supervised.SLConfig(**saved["config"]) if saved else None)
    metadata = checkpoints.model_description(
        FLAGS.model_name, FLAGS.environment, spec, FLAGS.seed, training="supervised",
        replay_hkl_file_path=FLAGS.replay_hkl_file_path, config=dataclasses.asdict(config))

    def save(model, progress):
        checkpoints.save_model(model, save_path, {**metadata, **progress})

    result = supervised.train(
        FLAGS.replay_hkl_file_path, FLAGS.model_name, spec, config,
        supervised.make_strategy(FLAGS.distribution), log_dir(run_name), save,
        initialize=(lambda model: checkpoints.load_model(model, load_path, spec))
        if load_path else None, checkpointing=checkpointing(run_name, config, resume_from),
        should_stop=stop, map_name=FLAGS.environment)
    if stop():
        return None
    if result.saved:
        logging.info("Model %s (after %d examples)", save_path, result.saved["examples"])
    return save_path


def run_a2c(resume_from, load_path, stop):
    """--training: A2C, from a checkpoint (resume_from), a model file (load_path) or scratch."""
    saved, run_name, spec = start_or_resume(resume_from, supervised_run=False)
    reference_path = saved.get("reference_model") if saved else load_path
    config = a2c_training_config(saved, load_path)
    model = make_model(spec)
    if load_path and not saved:
        checkpoints.load_model(model, load_path, spec)
    agent = make_agent(model, config, reference_path, spec)
    env = make_batch_env(FLAGS.backend, FLAGS.environment, FLAGS.num_envs, spec, FLAGS.step_mul,
                         FLAGS.seed, model.uses_feature_units, FLAGS.visualize, FLAGS.player_1,
                         FLAGS.player_2, workspace_folder(FLAGS.replay_dir),
                         FLAGS.save_replay_episodes, FLAGS.difficulty)
    writer = tf.summary.create_file_writer(log_dir(run_name))
    summaries.write_settings(writer, run_name, {**run_flags(), **dataclasses.asdict(config),
                                                "start": reference_path or "scratch"})
    logging.info("Training %s on %s, %d environments (%s); TensorBoard: %s; %s", model.name,
                 FLAGS.environment, env.num_envs, type(env).__name__, log_dir(run_name), config)
    save_path = model_path(run_name) if FLAGS.save_model else None
    metadata = checkpoints.model_description(model.name, FLAGS.environment, spec, FLAGS.seed,
                                             player_1=FLAGS.player_1, player_2=FLAGS.player_2,
                                             config=dataclasses.asdict(config))
    try:
        train(agent, env, spec, config, FLAGS.max_agent_steps, writer, FLAGS.log_interval,
              save_path, metadata, target_mean=FLAGS.target_mean,
              checkpointing=checkpointing(run_name, config, resume_from, reference_path),
              should_stop=stop,
              learning_curve=os.path.join(log_dir(run_name), "learning_curve.png"),
              title=f"A2C {model.name} on {FLAGS.environment} ({run_name})",
              episode_frames=episode_player(model, spec, env),
              episode_interval=FLAGS.episode_summary_interval)
    finally:
        writer.close()
        env.close()
    logging.info("Trace counts: %s", dict(agent.trace_counts))
    if FLAGS.visualize:  # also when stopped: a stopped run writes what a finished one writes
        write_gif(agent, spec, env, run_name)


def train_distributed(load_path):
    """--training --actors K: V-trace on K Ray actors (distributed.py), saved by the same rule
    as A2C training; the learning curve goes to the run's TensorBoard folder."""
    import distributed  # imports Ray, which only this path needs

    spec = utils.Spec(FLAGS.screen_size, FLAGS.minimap_size)
    model = make_model(spec)
    if load_path:
        checkpoints.load_model(model, load_path, spec)
    config = agent_lib.VTraceConfig(**dataclasses.asdict(a2c_config_from_flags()))
    run_name = new_run_name(supervised_run=False).replace(f"{FLAGS.model_name}_",
                                                          f"{FLAGS.model_name}_vtrace_", 1)
    save_path = model_path(run_name)
    metadata = checkpoints.model_description(model.name, FLAGS.environment, spec, FLAGS.seed,
                                             training="vtrace", actors=FLAGS.actors,
                                             config=dataclasses.asdict(config))
    save_rule = checkpoints.SaveRule()

    def save(finished_episodes, agent_steps):
        if save_rule.should_save(finished_episodes):
            checkpoints.save_model(model, save_path, {**metadata, "agent_steps": agent_steps,
                                                      "mean_reward_100": save_rule.best})
            logging.info("Saved %s (100-episode mean %.2f)", save_path, save_rule.best)

    try:
        learner = distributed.train(
            model, config,
            distributed.DistributedConfig(actors=FLAGS.actors, envs_per_actor=FLAGS.num_envs),
            FLAGS.environment, FLAGS.step_mul, FLAGS.seed, FLAGS.max_agent_steps,
            log_dir(run_name), FLAGS.log_interval, save if FLAGS.save_model else None,
            ray_address=FLAGS.ray_address)
    except distributed.DistributedError as error:
        raise UserError(str(error)) from None
    if learner.finished_episodes:
        curve = os.path.join(log_dir(run_name), "learning_curve.png")
        write_learning_curve(learner.finished_episodes, learner.finished_at, curve,
                             f"V-trace {model.name} on {FLAGS.environment}, "
                             f"{FLAGS.actors} actors ({run_name})")
        logging.info("Wrote %s", curve)


def a2c_training_config(saved, load_path):
    """The A2CConfig of a run: a resumed run's own, finetune.FINETUNE_DEFAULTS when training
    starts from a loaded model, else the network's defaults; flags given on the command line
    replace any of them."""
    if saved:
        return a2c_config_from_flags(agent_lib.A2CConfig(**saved["config"]))
    if load_path:  # fine-tuning a loaded policy: keep it close (finetune.py)
        return a2c_config_from_flags(dataclasses.replace(
            agent_lib.default_config(FLAGS.model_name), **finetune.FINETUNE_DEFAULTS))
    return a2c_config_from_flags()


def make_agent(model, config, reference_path, spec):
    """The A2C agent; a finetune.FineTuneAgent (KL penalty toward the model of reference_path,
    critic warm-up) when training starts from a loaded model or asks for a warm-up."""
    if reference_path is None and not config.critic_warmup_steps:
        return agent_lib.A2CAgent(model, config, seed=FLAGS.seed)
    reference = None
    if reference_path and config.kl_weight:
        reference = make_model(spec)
        checkpoints.load_model(reference, reference_path, spec)
    return finetune.FineTuneAgent(model, config, reference, seed=FLAGS.seed)


def make_model(spec):
    if FLAGS.model_name == "alphastar" and not FLAGS.verbose:
        startup.skip_failing_remapper()  # it fails on this network and says so in alarm
    try:
        return network.make_model(FLAGS.model_name, spec)
    except ValueError as error:
        raise UserError(str(error)) from None


def run_evaluation(load_path, spec):
    """Evaluate a model file on --eval_episodes games of --eval_seed (and write a GIF)."""
    seed = eval_seed()
    model = make_model(spec)
    checkpoints.load_model(model, load_path, spec)
    agent = agent_lib.A2CAgent(model, a2c_config_from_flags(), seed=seed)
    env = make_batch_env(FLAGS.backend, FLAGS.environment, FLAGS.num_envs, spec, FLAGS.step_mul,
                         seed, model.uses_feature_units, FLAGS.visualize, FLAGS.player_1,
                         FLAGS.player_2, workspace_folder(FLAGS.replay_dir),
                         FLAGS.save_replay_episodes, FLAGS.difficulty)
    scores = evaluate(agent, env, spec, FLAGS.eval_episodes, FLAGS.greedy)
    env.close()
    logging.info("Evaluation of %s over %d episodes of seed %d (%s): mean %.2f, std %.2f, min %d, "
                 "max %d", load_path, len(scores), seed, "greedy" if FLAGS.greedy else "sampled",
                 np.mean(scores), np.std(scores), np.min(scores), np.max(scores))
    if pysc2_maps.get(FLAGS.environment).players == 2:  # the score is the outcome: +1, -1, 0
        outcomes = np.asarray(scores)
        logging.info("Against the %s bot: %d wins, %d losses, %d ties; win rate %.2f",
                     FLAGS.difficulty, (outcomes > 0).sum(), (outcomes < 0).sum(),
                     (outcomes == 0).sum(), (outcomes > 0).mean())
    if FLAGS.visualize:
        model_file = os.path.basename(load_path).removesuffix(".weights.h5")
        write_gif(agent, spec, env, f"{model_file}_eval_seed{seed}")


def eval_seed():
    return FLAGS.seed + EVAL_SEED_OFFSET if FLAGS.eval_seed is None else FLAGS.eval_seed


def write_gif(agent, spec, env, name):
    """--visualize: a GIF of one game of the evaluation seed (embedded engine only), as
    <workspace>/gifs/<name>.gif."""
    if not isinstance(env, minigames.BatchEnv):
        logging.info("GIFs come from the embedded engine; with StarCraft II, watch the game.")
        return
    play_gif(agent, spec, FLAGS.environment, FLAGS.step_mul, eval_seed(), FLAGS.greedy,
             os.path.join(FLAGS.workspace_path, GIFS_DIR, f"{name}.gif"), FLAGS.difficulty)


def find_resume_checkpoint():
    """--resume -> the checkpoint to continue (None when not resuming)."""
    if FLAGS.resume is None or FLAGS.resume.lower() in ("false", "f", "0", ""):
        return None
    if not (FLAGS.training or FLAGS.sl_training):
        raise UserError("--resume continues a training run: add --training True (or "
                        "--sl_training True).")
    if FLAGS.load_model:
        raise UserError("--resume and --load_model together: a resumed run goes on from its "
                        "checkpoint; leave out --load_model.")
    if FLAGS.actors:
        raise UserError("--resume continues A2C runs; training on Ray actors (--actors) writes no "
                        "training checkpoints. Leave out --resume or --actors.")
    kind = None if FLAGS.training and FLAGS.sl_training else bool(FLAGS.sl_training)
    return checkpoints.find_checkpoint(FLAGS.resume, FLAGS.workspace_path, FLAGS.environment,
                                       FLAGS.model_name, supervised=kind)


def run():
    """Returns the exit status: 0, or 128 + the signal that stopped training."""
    resume_from = find_resume_checkpoint()
    # With --training too, resuming an A2C run means that supervised learning is done.
    supervised_run = FLAGS.sl_training and not (
        resume_from and not checkpoints.is_supervised(resume_from))
    evaluation = not FLAGS.training and not supervised_run
    spec = utils.Spec(FLAGS.screen_size, FLAGS.minimap_size)
    load_path = None
    if not supervised_run and not resume_from:
        load_path = checkpoints.resolve_load_path(FLAGS.load_model, FLAGS.workspace_path,
                                                  FLAGS.environment, FLAGS.model_name, spec)
    if evaluation and load_path is None:
        raise UserError("Nothing to do: pass --training True to train, or --load_model True "
                        "(or a path) to evaluate a saved model.")
    if FLAGS.actors and (FLAGS["kl_weight"].present or FLAGS["critic_warmup_steps"].present):
        raise UserError("--kl_weight and --critic_warmup_steps fine-tune with A2C in one "
                        "process; training on Ray actors (--actors) has neither. Leave them or "
                        "--actors out.")
    if FLAGS.actors and FLAGS.backend == "sc2":
        raise UserError("--actors trains on the embedded engine: leave out --backend sc2 (use "
                        "auto or embedded), or leave out --actors.")
    if FLAGS.training or evaluation:
        choose_backend(FLAGS.backend, FLAGS.player_1)
    check_output_folders(FLAGS.training, supervised_run)
    configure_devices(FLAGS.gpu_use)
    keras.utils.set_random_seed(FLAGS.seed)  # Python, numpy and TensorFlow
    if evaluation:
        run_evaluation(load_path, spec)
        return 0
    with StopRequest() as stop:
        if supervised_run:
            load_path = run_supervised_learning(resume_from, stop)
            if stop() or not FLAGS.training:
                return stopped(stop)
            logging.info("Supervised learning done; A2C starts from %s", load_path)
            resume_from = None
        if FLAGS.actors:
            train_distributed(load_path)
        else:
            run_a2c(resume_from, load_path, stop)
    return stopped(stop)


def stopped(stop):
    if not stop():
        return 0
    logging.info("Stopped by %s; continue with --resume True.", signal.Signals(stop.signal).name)
    return 128 + stop.signal


def main(argv):
    if len(argv) > 1:
        sys.exit(f"{os.path.basename(argv[0])}: error: unexpected arguments: "
                 f"{' '.join(argv[1:])} (--helpshort lists the flags)")
    try:
        return run()
    except (UserError, checkpoints.CheckpointError, supervised.DataError,
            agent_lib.DivergenceError) as error:
        sys.exit(f"run.py: error: {error}")
    except KeyboardInterrupt:  # Ctrl-C outside training (evaluation), or a second one
        print("run.py: stopped by SIGINT", file=sys.stderr)
        return 128 + signal.SIGINT


def cli():
    app.run(main, flags_parser=parse_flags)


if __name__ == "__main__":
    cli()
