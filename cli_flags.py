"""run.py's flags: their definitions, the parser that reads the original's `--flag True`, and the
configs they make. Imports no TensorFlow, so that a flag mistake is one line within a second
(run.py parses the command line with this module before its heavy imports).

Boolean flags accept `--flag`, `--noflag`, `--flag=False` and, as the replicated project's commands
write them, `--flag True` / `--flag False`. Every value is checked where its flag is defined; a
bad one is one line and exit status 2.
"""
import dataclasses
import os
import sys

from absl import app, flags

import hyperparameters
import minigames  # first: it applies pysc2's Python 3.11 fix
import startup
from minigames import pysc2_batch_env
from pysc2.env import sc2_env

FLAGS = flags.FLAGS
# Evaluation plays the games of --seed + EVAL_SEED_OFFSET unless --eval_seed is given, so that it
# does not replay the first games training played (environment i of a run plays seed + i's).
EVAL_SEED_OFFSET = 1_000_000
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
# Maps on which flags left off the command line take other defaults than their own: Simple64 is
# the original's supervised-learning map, played by its AlphaStar-style network at 32 x 32 (the
# settings of the shipped Simple64 weights and of the README's recording command), so that
# `run.py --load_model True --environment Simple64` plays the shipped agent; its evaluation draws
# the screen and minimap points at temperature 0.4, which won 0.85 of 150 games against very_easy
# where temperature 1 won 0.77 (README, Simple64).
ENVIRONMENT_DEFAULTS = {"Simple64": {"model_name": "alphastar", "screen_size": 32,
                                     "minimap_size": 32, "argument_temperature": 0.4}}


def environment_defaults_help(name):
    """The help text's note of flag `name`'s ENVIRONMENT_DEFAULTS, e.g. "default on Simple64:
    32" ("" for a flag no map changes)."""
    notes = [f"{environment}: {defaults[name]}"
             for environment, defaults in ENVIRONMENT_DEFAULTS.items() if name in defaults]
    return f"default on {', '.join(notes)}" if notes else ""


class UserError(Exception):
    """A problem the user can fix; reported as one line and a non-zero exit."""



def define_flags():
    """Define run.py's flags (benchmarks that take them call this too); a second call does
    nothing."""
    if "workspace_path" in FLAGS:
        return
    defaults = hyperparameters.A2CConfig()
    alphastar = hyperparameters.NETWORK_DEFAULTS["alphastar"]
    flags.DEFINE_string("workspace_path", ".", "Folder for Models/, tensorboard/, checkpoints/, "
                        "replays/ and gifs/.")
    flags.DEFINE_string("environment", "MoveToBeacon", "pysc2 map name.")
    flags.DEFINE_enum("model_name", "fullyconv", list(hyperparameters.MODEL_NAMES),
                      f"Network to train or load ({environment_defaults_help('model_name')}).")
    flags.DEFINE_bool("training", False, "Train the network with A2C (after supervised learning "
                      "when --sl_training is given too).")
    flags.DEFINE_bool("sl_training", False, "Supervised learning from the .hkl trajectories of "
                      "--replay_hkl_file_path (supervised.py; its SLConfig defaults hold unless "
                      "--learning_rate, --gradient_clipping, --max_agent_steps, --step_mul, "
                      "--log_interval or --seed is given).")
    flags.DEFINE_enum("distribution", "default", list(hyperparameters.DISTRIBUTIONS),
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
                       f"{hyperparameters.FINETUNE_DEFAULTS['learning_rate']}).")
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
                       f"{hyperparameters.FINETUNE_DEFAULTS['kl_weight']}).", lower_bound=0.0)
    flags.DEFINE_integer("critic_warmup_steps", defaults.critic_warmup_steps,
                         "Agent steps at the start of A2C that train only the value head "
                         "(finetune.py; when A2C starts from a model, default "
                         f"{hyperparameters.FINETUNE_DEFAULTS['critic_warmup_steps']:,}).",
                         lower_bound=0)
    flags.DEFINE_integer("seed", 42, "Seed of Python, numpy, TensorFlow, the action sampling and "
                         "the environments.", lower_bound=0)
    flags.DEFINE_integer("eval_seed", None, "Seed of evaluation's games and action sampling "
                         f"(default: --seed + {EVAL_SEED_OFFSET:,}, games training did not "
                         "play).", lower_bound=0)
    flags.DEFINE_integer("screen_size", 16, "Feature screen resolution (square); 16 is enough for "
                         "MoveToBeacon and 4x cheaper than the original's 32 "
                         f"({environment_defaults_help('screen_size')}).", lower_bound=1)
    flags.DEFINE_integer("minimap_size", 16, "Feature minimap resolution (square; "
                         f"{environment_defaults_help('minimap_size')}).", lower_bound=1)
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
    flags.DEFINE_float("argument_temperature", 1.0, "Evaluate drawing each argument (a screen "
                       "or minimap point, ...) from its logits divided by this: below 1 the most "
                       "likely point more often; the function is drawn as the policy gives it "
                       f"({environment_defaults_help('argument_temperature')}).")
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
    for name in ("learning_rate", "gradient_clipping", "optimizer_epsilon",
                 "argument_temperature"):
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
    app.define_help_flags()  # --help and --helpshort, also when called before app.run
    boolean_flags = {name for name, flag in FLAGS._flags().items() if flag.boolean}
    try:
        remaining = FLAGS(join_boolean_values(argv, boolean_flags,
                                              {"load_model", "load", "resume"}))
    except flags.Error as error:
        message = " ".join(str(error).split("\n"))  # one line, however many flags are wrong
        print(f"{os.path.basename(argv[0])}: error: {message} (--helpshort lists the flags)",
              file=sys.stderr)
        sys.exit(2)
    apply_environment_defaults()
    return remaining


def apply_environment_defaults():
    """Flags not given on the command line take their --environment's ENVIRONMENT_DEFAULTS."""
    for name, value in ENVIRONMENT_DEFAULTS.get(FLAGS.environment, {}).items():
        if not FLAGS[name].present:
            FLAGS[name].value = value


def a2c_config_from_flags(base=None):
    """`base` (an A2CConfig; default: the network's defaults) with every hyperparameter flag given
    on the command line."""
    config = base or hyperparameters.default_config(FLAGS.model_name)
    given = {field.name: getattr(FLAGS, field.name)
             for field in dataclasses.fields(hyperparameters.A2CConfig)
             if FLAGS[field.name].present}
    return dataclasses.replace(config, **given)


# The flags supervised learning shares with A2C, and the SLConfig fields they set.
_SL_FLAGS = {"learning_rate": "learning_rate", "gradient_clipping": "gradient_clipping",
             "max_agent_steps": "max_examples", "step_mul": "step_mul",
             "log_interval": "log_interval", "seed": "seed"}


def sl_config_from_flags(base=None, **defaults):
    """`base` (default: SLConfig with `defaults` replacing its own), with every shared flag given
    on the command line; the A2C defaults of those flags do not apply to supervised learning."""
    config = base or hyperparameters.SLConfig(**defaults)
    given = {field: getattr(FLAGS, name) for name, field in _SL_FLAGS.items()
             if FLAGS[name].present}
    return dataclasses.replace(config, **given)


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
