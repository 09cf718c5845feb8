"""Train an agent with A2C, or evaluate a saved one, on a PySC2 map.

    python run.py --training True --save_model True                  # FullyConv on MoveToBeacon
    python run.py --training True --model_name alphastar --save_model True
    python run.py --load_model True --visualize True                 # evaluate the latest model
    python run.py --load_model Models/<file>.weights.h5 --eval_episodes 100 --greedy
    python run.py --sl_training True --replay_hkl_file_path hkl/      # supervised learning

Boolean flags accept `--flag`, `--noflag`, `--flag=False` and, as the replicated project's
commands write them, `--flag True` / `--flag False`.

Training steps N environments at once (`--num_envs`): the embedded engine's `BatchEnv`, or N
StarCraft II games with `--backend sc2`. Every `--n_steps` steps the agent makes one A2C update.
Outputs go under `--workspace_path`:
  tensorboard/<run name>/   episode_reward_sum, episode_reward_mean_100, losses, grad_norm,
                            learning_rate, steps_per_second
  Models/<run name>.weights.h5 (+ .json)   with --save_model: rewritten whenever the 100-episode
                            mean is above 5.0 and better than at the previous save (the original's
                            rule); `--load_model True` loads the newest one of this map and network
  image/                    the learning curve at the end of training; with --visualize, a GIF of
                            one episode (embedded engine)

Supervised learning (`--sl_training`, supervised.py) trains on the .hkl files of
--replay_hkl_file_path for --max_agent_steps training examples and writes
Models/<map>_<network>_sl_seed<seed>_<time>.weights.h5 (the weights with the best held-out action
accuracy) and tensorboard/<same name>/; evaluate it, or start A2C from it, with --load_model.
"""
import concurrent.futures
import dataclasses
import datetime
import glob
import json
import os
import sys
import time

import keras
import numpy as np
import tensorflow as tf
from absl import app, flags, logging

import minigames  # first: it applies pysc2's Python 3.11 fix
from minigames import batch_format, render
from minigames.files import write_atomically, write_json
from pysc2.env import sc2_env
from pysc2.lib import actions

import agent as agent_lib
import distributed
import network
import supervised
import utils

_DEFAULTS = agent_lib.A2CConfig()

flags.DEFINE_string("workspace_path", ".", "Folder for Models/, tensorboard/ and image/.")
flags.DEFINE_string("environment", "MoveToBeacon", "pysc2 map name.")
flags.DEFINE_enum("model_name", "fullyconv", list(network.MODELS), "Network to train or load.")
flags.DEFINE_bool("training", False, "Train the network with A2C.")
flags.DEFINE_bool("sl_training", False, "Supervised learning from the .hkl trajectories of "
                  "--replay_hkl_file_path (supervised.py; its SLConfig defaults hold unless "
                  "--learning_rate, --gradient_clipping, --max_agent_steps, --step_mul, "
                  "--log_interval or --seed is given).")
flags.DEFINE_enum("distribution", "default", list(supervised.DISTRIBUTIONS),
                  "tf.distribute strategy of supervised learning: one device, MirroredStrategy "
                  "(local GPUs or CPU devices), or MultiWorkerMirroredStrategy (TF_CONFIG).")
flags.DEFINE_bool("gpu_use", False, "Use the GPU (with memory growth) if there is one.")
flags.DEFINE_bool("save_model", False, "Save the model when the 100-episode mean is above 5.0 "
                  "and improving.")
flags.DEFINE_string("load_model", None, "True: load the newest saved model of this map and "
                    "network; or the path of a .weights.h5 file.")
flags.DEFINE_alias("load", "load_model")  # the original README's spelling
flags.DEFINE_bool("visualize", False, "Write a GIF of one episode to <workspace>/image/ "
                  "(embedded engine); with --backend sc2, show the game.")
flags.DEFINE_float("learning_rate", _DEFAULTS.learning_rate, "Optimiser learning rate (alphastar: "
                   f"{agent_lib.NETWORK_DEFAULTS['alphastar']['learning_rate']}).")
flags.DEFINE_float("gradient_clipping", _DEFAULTS.gradient_clipping,
                   "Clip gradients to this global norm (alphastar: "
                   f"{agent_lib.NETWORK_DEFAULTS['alphastar']['gradient_clipping']}).")
flags.DEFINE_enum("optimizer", _DEFAULTS.optimizer, ["rmsprop", "adam"], "Optimiser.")
flags.DEFINE_float("optimizer_epsilon", _DEFAULTS.optimizer_epsilon,
                   "Epsilon of the optimiser's gradient normalisation (alphastar: "
                   f"{agent_lib.NETWORK_DEFAULTS['alphastar']['optimizer_epsilon']}).")
flags.DEFINE_float("discount", _DEFAULTS.discount, "Reward discount per agent step.")
flags.DEFINE_float("gae_lambda", _DEFAULTS.gae_lambda, "GAE lambda of the advantages (1: the "
                   "n-step returns of plain A2C).")
flags.DEFINE_integer("n_steps", _DEFAULTS.n_steps, "Agent steps per environment per update.")
flags.DEFINE_float("value_loss_weight", _DEFAULTS.value_loss_weight, "Weight of the value loss.")
flags.DEFINE_float("entropy_weight", _DEFAULTS.entropy_weight, "Weight of the entropy bonus.")
flags.DEFINE_bool("normalize_advantages", _DEFAULTS.normalize_advantages,
                  "Standardise advantages over each update's batch.")
flags.DEFINE_integer("seed", 42, "Seed of Python, numpy, TensorFlow and the environments.")
flags.DEFINE_integer("screen_size", 16, "Feature screen resolution (square); 16 is enough for "
                     "MoveToBeacon and 4x cheaper than the original's 32.")
flags.DEFINE_integer("minimap_size", 16, "Feature minimap resolution (square).")
flags.DEFINE_integer("step_mul", 8, "Game loops per agent step.")
flags.DEFINE_string("replay_hkl_file_path", "replay", "Folder of .hkl trajectories for "
                    "supervised learning.")
flags.DEFINE_string("tensorboard_path", "tensorboard", "TensorBoard root, relative to the "
                    "workspace unless absolute.")
flags.DEFINE_integer("num_envs", 16, "Environments stepped together.")
flags.DEFINE_enum("backend", "auto", minigames.backend.BACKENDS,
                  "Which game: StarCraft II (sc2), the embedded engine, or sc2 when installed.")
flags.DEFINE_integer("max_agent_steps", 1_000_000, "Training budget in agent steps, summed over "
                     "environments; with --sl_training, in training examples (observation/action "
                     "pairs).")
flags.DEFINE_integer("eval_episodes", 30, "Episodes to play when evaluating.")
flags.DEFINE_bool("greedy", False, "Evaluate with the most likely actions instead of sampling.")
flags.DEFINE_integer("log_interval", 10_000, "Agent steps between progress lines (and save "
                     "checks).")
flags.DEFINE_integer("actors", 0, "With --training: IMPALA, with this many Ray actors each "
                     "playing --num_envs games of the embedded engine and a V-trace learner "
                     "(distributed.py); 0: A2C in this process.")
flags.DEFINE_string("ray_address", None, "With --actors: HOST:PORT of the Ray cluster to join; "
                    "default a local Ray started for the run.")
FLAGS = flags.FLAGS

SAVE_THRESHOLD = 5.0
# Trained weights that come with the code (tools/ship_weights.py writes them).
SHIPPED_WEIGHTS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "weights")
MEAN_WINDOW = 100
_BOOLEAN_VALUES = {"true", "false", "t", "f", "1", "0"}


class UserError(Exception):
    """A problem the user can fix; reported as one line and a non-zero exit."""


# ---------------------------------------------------------------------------------- flags
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
    """absl's parser with `--flag True|False` accepted; pass to app.run as flags_parser."""
    boolean_flags = {name for name, flag in FLAGS._flags().items() if flag.boolean}
    return FLAGS(join_boolean_values(argv, boolean_flags, {"load_model", "load"}))


def a2c_config_from_flags():
    """The network's default A2CConfig, with every hyperparameter flag given on the command line."""
    config = agent_lib.default_config(FLAGS.model_name)
    given = {field.name: getattr(FLAGS, field.name)
             for field in dataclasses.fields(agent_lib.A2CConfig) if FLAGS[field.name].present}
    return dataclasses.replace(config, **given)


# The flags supervised learning shares with A2C, and the SLConfig fields they set.
_SL_FLAGS = {"learning_rate": "learning_rate", "gradient_clipping": "gradient_clipping",
             "max_agent_steps": "max_examples", "step_mul": "step_mul",
             "log_interval": "log_interval", "seed": "seed"}


def sl_config_from_flags(**defaults):
    """SLConfig (with `defaults` replacing its own), with every shared flag given on the command
    line; the A2C defaults of those flags do not apply to supervised learning."""
    given = {field: getattr(FLAGS, name) for name, field in _SL_FLAGS.items()
             if FLAGS[name].present}
    return supervised.SLConfig(**{**defaults, **given})


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


# --------------------------------------------------------------------------- environments
class PySC2BatchEnv:
    """N pysc2 environments behind `minigames.BatchEnv`'s interface.

    Index actions in, one batch-format observation out, finished games restarted at once (the
    observation returned where `done` is True is the next game's first). The games are stepped in
    parallel threads: a real StarCraft II game runs in its own process, so the threads only wait.
    """

    def __init__(self, envs, screen_size, minimap_size):
        self.envs = list(envs)
        self.num_envs = len(self.envs)
        self.screen_size = screen_size
        self.minimap_size = minimap_size
        self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=self.num_envs)

    def reset(self):
        timesteps = list(self._pool.map(lambda env: env.reset()[0], self.envs))
        return batch_format.stack_observations([t.observation for t in timesteps])

    def step(self, function_ids, arg_indices):
        def step_one(i):
            call = utils.to_function_call(function_ids[i], arg_indices[i], self.screen_size,
                                          self.minimap_size)
            timestep = self.envs[i].step([call])[0]
            if not timestep.last():
                return timestep.observation, timestep.reward, False
            return self.envs[i].reset()[0].observation, timestep.reward, True

        observations, rewards, dones = zip(*self._pool.map(step_one, range(self.num_envs)))
        return (batch_format.stack_observations(observations),
                np.asarray(rewards, np.float32), np.asarray(dones, bool))

    def close(self):
        self._pool.shutdown()
        for env in self.envs:
            env.close()


def pysc2_env_kwargs(map_name, spec, step_mul, use_feature_units, seed, visualize=False):
    """Keyword arguments of pysc2's SC2Env (and of the engine's and the mock's)."""
    return dict(
        map_name=map_name, players=[sc2_env.Agent(sc2_env.Race.terran)],
        agent_interface_format=sc2_env.AgentInterfaceFormat(
            feature_dimensions=sc2_env.Dimensions(screen=spec.screen_size,
                                                  minimap=spec.minimap_size),
            use_feature_units=use_feature_units),
        step_mul=step_mul, random_seed=seed, visualize=visualize)


def make_batch_env(backend, map_name, num_envs, spec, step_mul, seed, use_feature_units,
                   visualize=False):
    """`BatchEnv` on the embedded engine, or N real games behind the same interface."""
    try:
        backend = minigames.choose_backend(backend)
        if backend == "embedded":
            return minigames.BatchEnv(map_name=map_name, num_envs=num_envs,
                                      screen_size=spec.screen_size,
                                      minimap_size=spec.minimap_size, step_mul=step_mul,
                                      seed=seed, use_feature_units=use_feature_units)
        envs = [sc2_env.SC2Env(**pysc2_env_kwargs(map_name, spec, step_mul, use_feature_units,
                                                  seed + i, visualize and i == 0))
                for i in range(num_envs)]
        return PySC2BatchEnv(envs, spec.screen_size, spec.minimap_size)
    except (minigames.BackendError, ValueError) as error:
        raise UserError(str(error)) from None


# ------------------------------------------------------------------------------ episodes
class Runner:
    """Steps a batch environment with the agent and keeps each environment's episode score."""

    def __init__(self, env, agent, spec):
        self.env = env
        self.agent = agent
        self.spec = spec
        self.num_envs = env.num_envs
        self.observation = env.reset()
        self.state = agent.initial_state(self.num_envs)
        self.reset = np.ones(self.num_envs, np.float32)
        self.episode_reward = np.zeros(self.num_envs)
        self.finished_episodes = []  # scores in order of completion
        self.finished_at = []  # agent_steps when each of them ended
        self.agent_steps = 0

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


# ----------------------------------------------------------------------------- checkpoints
def models_dir(workspace):
    return os.path.join(workspace, "Models")


def model_description(model_name, environment, spec, seed, **details):
    """The JSON description saved beside a model: what load_model checks (network and
    resolutions), where and how it was trained, and any `details`."""
    return {"model_name": model_name, "environment": environment,
            "screen_size": spec.screen_size, "minimap_size": spec.minimap_size, "seed": seed,
            **details}


def save_model(model, path, metadata):
    """Write weights and a JSON description next to them (with the time of saving), each
    through a temporary file."""
    write_atomically(path, model.save_weights)
    write_json(path[:-len(".weights.h5")] + ".json", {
        **metadata, "saved": datetime.datetime.now().isoformat(timespec="seconds")})


def newest_model(workspace, environment, model_name, shipped_dir=SHIPPED_WEIGHTS_DIR):
    """The newest saved model of this map and network; else the weights shipped with the code."""
    pattern = os.path.join(models_dir(workspace), f"{environment}_{model_name}_*.weights.h5")
    paths = glob.glob(pattern)
    if paths:
        return max(paths, key=lambda p: (os.path.getmtime(p), p))
    shipped = os.path.join(shipped_dir, f"{environment}_{model_name}.weights.h5")
    if os.path.isfile(shipped):
        logging.info("No saved %s model for %s in %s; using the shipped weights %s", model_name,
                     environment, models_dir(workspace), shipped)
        return shipped
    raise UserError(f"No saved {model_name} model for {environment} in "
                    f"{models_dir(workspace)}; train one with --training True --save_model "
                    f"True, or pass --load_model <path>.")


def resolve_load_path(load_model, workspace, environment, model_name,
                      shipped_dir=SHIPPED_WEIGHTS_DIR):
    """--load_model value -> weights path, or None when nothing is to be loaded."""
    if load_model is None or load_model.lower() in ("false", "f", "0", ""):
        return None
    if load_model.lower() in ("true", "t", "1"):
        return newest_model(workspace, environment, model_name, shipped_dir)
    if not os.path.isfile(load_model):
        raise UserError(f"--load_model {load_model}: no such file.")
    return load_model


def load_model(model, path, spec):
    description = path[:-len(".weights.h5")] + ".json"
    if os.path.isfile(description):
        with open(description) as f:
            saved = json.load(f)
        wanted = (saved.get("model_name"), saved.get("screen_size"), saved.get("minimap_size"))
        if wanted != (model.name, spec.screen_size, spec.minimap_size):
            raise UserError(f"{path} holds a {wanted[0]} network for a {wanted[1]} screen and "
                            f"{wanted[2]} minimap; pass --model_name {wanted[0]} --screen_size "
                            f"{wanted[1]} --minimap_size {wanted[2]}.")
    try:
        model.load_weights(path)
    except ValueError as error:
        raise UserError(f"Cannot load {path} into the {model.name} network: {error}") from None
    logging.info("Loaded %s", path)


# -------------------------------------------------------------------------------- training
def train(agent, env, spec, config, max_agent_steps, writer, log_interval, save_path=None,
          save_metadata=None, target_mean=None):
    """A2C until max_agent_steps, or until the 100-episode mean reaches target_mean (once 100
    episodes have ended); returns the Runner (with every finished episode's score)."""
    runner = Runner(env, agent, spec)
    save_rule = SaveRule()
    next_log = log_interval
    reported_episodes = 0
    start = interval_start = time.time()
    interval_steps = 0
    while runner.agent_steps < max_agent_steps:
        rollout = runner.collect(config.n_steps)
        metrics = agent.train(rollout)
        step = runner.agent_steps
        with writer.as_default(step=step):
            for name in ("policy_loss", "value_loss", "entropy", "grad_norm", "learning_rate"):
                tf.summary.scalar(name, metrics[name])
            for score, at in zip(runner.finished_episodes[reported_episodes:],
                                 runner.finished_at[reported_episodes:]):
                tf.summary.scalar("episode_reward_sum", score, step=at)
            if len(runner.finished_episodes) > reported_episodes:
                tf.summary.scalar("episode_reward_mean_100", runner.recent_mean())
        reported_episodes = len(runner.finished_episodes)
        reached = (target_mean is not None and len(runner.finished_episodes) >= MEAN_WINDOW
                   and runner.recent_mean() >= target_mean)
        if step < next_log and step < max_agent_steps and not reached:
            continue

        next_log = (step // log_interval + 1) * log_interval
        now = time.time()
        steps_per_second = (step - interval_steps) / max(now - interval_start, 1e-9)
        interval_start, interval_steps = now, step
        with writer.as_default(step=step):
            tf.summary.scalar("steps_per_second", steps_per_second)
            tf.summary.image("screen_policy", screen_policy_image(agent.model, runner))
        writer.flush()
        mean = runner.recent_mean()
        logging.info(
            "steps %9d | episodes %5d | mean100 %6s | policy %+.3f value %.3f entropy %.2f | "
            "grad %.2f | %4.0f steps/s | %s",
            step, len(runner.finished_episodes), "-" if mean is None else f"{mean:.2f}",
            metrics["policy_loss"], metrics["value_loss"], metrics["entropy"],
            metrics["grad_norm"], steps_per_second,
            datetime.timedelta(seconds=int(now - start)))
        if save_path and save_rule.should_save(runner.finished_episodes):
            save_model(agent.model, save_path, {
                **(save_metadata or {}), "agent_steps": step, "mean_reward_100": save_rule.best})
            logging.info("Saved %s (100-episode mean %.2f)", save_path, save_rule.best)
        if reached:
            break
    return runner


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
    """Play until `episodes` episodes have ended; returns their scores."""
    runner = Runner(env, agent, spec)
    while len(runner.finished_episodes) < episodes:
        runner.step(greedy)
    return runner.finished_episodes[:episodes]


def play_gif(agent, spec, map_name, step_mul, seed, greedy, path):
    """Play one episode on the embedded engine's pysc2 SC2Env and write it as a GIF."""
    env = minigames.SC2Env(**pysc2_env_kwargs(map_name, spec, step_mul,
                                              agent.model.uses_feature_units, seed,
                                              visualize=True))
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
    render.write_gif(env.frames, path)
    env.close()
    logging.info("Wrote %s (an episode scoring %d)", path, score)
    return score


# ------------------------------------------------------------------------------------ main
def run_supervised_learning():
    """--sl_training: supervised learning from .hkl files, saving the checkpoint under Models/."""
    if FLAGS.training:
        raise UserError("--sl_training and --training together: train by supervised learning "
                        "first, then start A2C from its checkpoint with --training True "
                        "--load_model <checkpoint>.")
    configure_devices(FLAGS.gpu_use)
    keras.utils.set_random_seed(FLAGS.seed)
    spec = utils.Spec(FLAGS.screen_size, FLAGS.minimap_size)
    load_path = resolve_load_path(FLAGS.load_model, FLAGS.workspace_path, FLAGS.environment,
                                  FLAGS.model_name)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    run_name = f"{FLAGS.environment}_{FLAGS.model_name}_sl_seed{FLAGS.seed}_{stamp}"
    save_path = os.path.join(models_dir(FLAGS.workspace_path), f"{run_name}.weights.h5")
    config = sl_config_from_flags()
    metadata = model_description(FLAGS.model_name, FLAGS.environment, spec, FLAGS.seed,
                                 training="supervised",
                                 replay_hkl_file_path=FLAGS.replay_hkl_file_path,
                                 config=dataclasses.asdict(config))

    def save(model, progress):
        save_model(model, save_path, {**metadata, **progress})

    try:
        result = supervised.train(
            FLAGS.replay_hkl_file_path, FLAGS.model_name, spec, config,
            supervised.make_strategy(FLAGS.distribution),
            os.path.join(FLAGS.workspace_path, FLAGS.tensorboard_path, run_name), save,
            initialize=(lambda model: load_model(model, load_path, spec)) if load_path else None)
    except (supervised.DataError, ValueError) as error:
        raise UserError(str(error)) from None
    if result.saved:
        logging.info("Checkpoint %s (after %d examples)", save_path, result.saved["examples"])


def train_distributed(model, spec, config):
    """--training --actors K: V-trace on K Ray actors (distributed.py), saved and drawn as A2C
    training is."""
    if not FLAGS.training or FLAGS.backend == "sc2":
        raise UserError("--actors trains on the embedded engine: pass --training True (and not "
                        "--backend sc2), or leave --actors out.")
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    run_name = f"{FLAGS.environment}_{model.name}_vtrace_seed{FLAGS.seed}_{stamp}"
    save_path = os.path.join(models_dir(FLAGS.workspace_path), f"{run_name}.weights.h5")
    vtrace_config = agent_lib.VTraceConfig(**dataclasses.asdict(config))
    metadata = model_description(model.name, FLAGS.environment, spec, FLAGS.seed,
                                 training="vtrace", actors=FLAGS.actors,
                                 config=dataclasses.asdict(vtrace_config))
    save_rule = SaveRule()

    def save(finished_episodes, agent_steps):
        if save_rule.should_save(finished_episodes):
            save_model(model, save_path, {**metadata, "agent_steps": agent_steps,
                                          "mean_reward_100": save_rule.best})
            logging.info("Saved %s (100-episode mean %.2f)", save_path, save_rule.best)

    try:
        learner = distributed.train(
            model, vtrace_config,
            distributed.DistributedConfig(actors=FLAGS.actors, envs_per_actor=FLAGS.num_envs),
            FLAGS.environment, FLAGS.step_mul, FLAGS.seed, FLAGS.max_agent_steps,
            os.path.join(FLAGS.workspace_path, FLAGS.tensorboard_path, run_name),
            FLAGS.log_interval, save if FLAGS.save_model else None,
            ray_address=FLAGS.ray_address)
    except distributed.DistributedError as error:
        raise UserError(str(error)) from None
    if learner.finished_episodes:
        curve = os.path.join(FLAGS.workspace_path, "image",
                             f"{FLAGS.environment}_{model.name}_vtrace.png")
        write_learning_curve(learner.finished_episodes, learner.finished_at, curve,
                             f"V-trace {model.name} on {FLAGS.environment}, "
                             f"{FLAGS.actors} actors")
        logging.info("Wrote %s", curve)


def run():
    if FLAGS.sl_training:
        run_supervised_learning()
        return
    load_path = resolve_load_path(FLAGS.load_model, FLAGS.workspace_path, FLAGS.environment,
                                  FLAGS.model_name)
    if not FLAGS.training and load_path is None:
        raise UserError("Nothing to do: pass --training True to train, or --load_model True "
                        "(or a path) to evaluate a saved model.")
    configure_devices(FLAGS.gpu_use)
    keras.utils.set_random_seed(FLAGS.seed)  # Python, numpy and TensorFlow
    spec = utils.Spec(FLAGS.screen_size, FLAGS.minimap_size)
    try:
        model = network.make_model(FLAGS.model_name, spec)
    except ValueError as error:
        raise UserError(str(error)) from None
    if load_path:
        load_model(model, load_path, spec)
    config = a2c_config_from_flags()
    if FLAGS.actors:
        train_distributed(model, spec, config)
        return
    agent = agent_lib.A2CAgent(model, config)
    env = make_batch_env(FLAGS.backend, FLAGS.environment, FLAGS.num_envs, spec, FLAGS.step_mul,
                         FLAGS.seed, model.uses_feature_units, FLAGS.visualize)
    embedded = isinstance(env, minigames.BatchEnv)
    image_dir = os.path.join(FLAGS.workspace_path, "image")
    name = f"{FLAGS.environment}_{FLAGS.model_name}"

    if FLAGS.training:
        stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
        run_name = f"{name}_seed{FLAGS.seed}_{stamp}"
        log_dir = os.path.join(FLAGS.workspace_path, FLAGS.tensorboard_path, run_name)
        writer = tf.summary.create_file_writer(log_dir)
        logging.info("Training %s on %s, %d environments (%s); TensorBoard: %s; %s", model.name,
                     FLAGS.environment, env.num_envs, "embedded" if embedded else "sc2",
                     log_dir, config)
        save_path = (os.path.join(models_dir(FLAGS.workspace_path), f"{run_name}.weights.h5")
                     if FLAGS.save_model else None)
        metadata = model_description(model.name, FLAGS.environment, spec, FLAGS.seed,
                                     config=dataclasses.asdict(config))
        runner = train(agent, env, spec, config, FLAGS.max_agent_steps, writer,
                       FLAGS.log_interval, save_path, metadata)
        writer.close()
        logging.info("Trace counts: %s", dict(agent.trace_counts))
        if runner.finished_episodes:
            curve = os.path.join(image_dir, f"{name}_A2C.png")
            write_learning_curve(runner.finished_episodes, runner.finished_at, curve,
                                 f"A2C {model.name} on {FLAGS.environment}")
            logging.info("Wrote %s", curve)
    else:
        scores = evaluate(agent, env, spec, FLAGS.eval_episodes, FLAGS.greedy)
        logging.info("Evaluation of %s over %d episodes (%s): mean %.2f, std %.2f, min %d, "
                     "max %d", load_path, len(scores), "greedy" if FLAGS.greedy else "sampled",
                     np.mean(scores), np.std(scores), np.min(scores), np.max(scores))
    env.close()

    if FLAGS.visualize:
        if not embedded:
            logging.info("GIFs come from the embedded engine; with StarCraft II, watch the game.")
        else:
            play_gif(agent, spec, FLAGS.environment, FLAGS.step_mul, FLAGS.seed, FLAGS.greedy,
                     os.path.join(image_dir, f"{name}.gif"))


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {' '.join(argv[1:])}")
    try:
        run()
    except UserError as error:
        sys.exit(f"run.py: error: {error}")


if __name__ == "__main__":
    app.run(main, flags_parser=parse_flags)
