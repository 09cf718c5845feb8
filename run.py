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
written, is one line and a non-zero exit before anything starts (before TensorFlow is imported,
for the flags).

The flags are defined in cli_flags.py, the hyperparameters they set in hyperparameters.py, and the
A2C loop and evaluation this script drives are in loops.py.

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

import startup

if __name__ == "__main__":
    startup.prepare()  # before TensorFlow: a quiet start, or a hint when outside the environment

import cli_flags  # imports no TensorFlow

if __name__ == "__main__":
    cli_flags.parse_flags(sys.argv)  # a flag mistake is one line before TensorFlow's 5 s import

import keras
import numpy as np
import tensorflow as tf
from absl import app, flags, logging

import minigames
from pysc2 import maps as pysc2_maps

import agent as agent_lib
import checkpoints
import finetune
import hyperparameters
import loops
import network
import summaries
import supervised
import utils
from cli_flags import UserError, a2c_config_from_flags, run_flags

FLAGS = flags.FLAGS
GIFS_DIR = "gifs"  # in the workspace: --visualize's GIFs, named after their run or model


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


def episode_player(model, spec, env):
    """For TensorBoard's game strips: a function playing one game of the evaluation seed with
    the most likely actions -> (frames, score), by an agent of its own (training's random draws
    stay as they were); None with StarCraft II (no frames)."""
    if not isinstance(env, minigames.BatchEnv):
        return None
    viewer = agent_lib.A2CAgent(model, seed=eval_seed())
    return lambda: loops.play_episode(viewer, spec, FLAGS.environment, FLAGS.step_mul,
                                      eval_seed(), greedy=True, difficulty=FLAGS.difficulty)


# ------------------------------------------------------------------------------------ main
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
        cli_flags.adopt_saved_flags(saved["flags"])
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
    config = cli_flags.sl_config_from_flags(
        hyperparameters.SLConfig(**saved["config"]) if saved else None)
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
    env = batch_env(spec, FLAGS.seed, model.uses_feature_units)
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
        loops.train(agent, env, spec, config, FLAGS.max_agent_steps, writer, FLAGS.log_interval,
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
    config = hyperparameters.VTraceConfig(**dataclasses.asdict(a2c_config_from_flags()))
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
        loops.write_learning_curve(learner.finished_episodes, learner.finished_at, curve,
                                   f"V-trace {model.name} on {FLAGS.environment}, "
                                   f"{FLAGS.actors} actors ({run_name})")
        logging.info("Wrote %s", curve)


def a2c_training_config(saved, load_path):
    """The A2CConfig of a run: a resumed run's own, hyperparameters.FINETUNE_DEFAULTS when
    training starts from a loaded model, else the network's defaults; flags given on the command
    line replace any of them."""
    if saved:
        return a2c_config_from_flags(hyperparameters.A2CConfig(**saved["config"]))
    if load_path:  # fine-tuning a loaded policy: keep it close (finetune.py)
        return a2c_config_from_flags(dataclasses.replace(
            hyperparameters.default_config(FLAGS.model_name),
            **hyperparameters.FINETUNE_DEFAULTS))
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


def batch_env(spec, seed, use_feature_units):
    """The run's environments, as the flags describe them."""
    return loops.make_batch_env(FLAGS.backend, FLAGS.environment, FLAGS.num_envs, spec,
                                FLAGS.step_mul, seed, use_feature_units, FLAGS.visualize,
                                FLAGS.player_1, FLAGS.player_2, workspace_folder(FLAGS.replay_dir),
                                FLAGS.save_replay_episodes, FLAGS.difficulty)


def make_model(spec):
    try:
        return network.make_model(FLAGS.model_name, spec)
    except ValueError as error:
        raise UserError(str(error)) from None


def run_evaluation(load_path, spec):
    """Evaluate a model file on --eval_episodes games of --eval_seed (and write a GIF)."""
    seed = eval_seed()
    model = make_model(spec)
    checkpoints.load_model(model, load_path, spec)
    agent = agent_lib.A2CAgent(model, a2c_config_from_flags(), seed=seed,
                               argument_temperature=FLAGS.argument_temperature)
    env = batch_env(spec, seed, model.uses_feature_units)
    scores = loops.evaluate(agent, env, spec, FLAGS.eval_episodes, FLAGS.greedy)
    env.close()
    if FLAGS.greedy:
        acting = "greedy"
    elif FLAGS.argument_temperature != 1.0:
        acting = f"sampled, arguments at temperature {FLAGS.argument_temperature:g}"
    else:
        acting = "sampled"
    logging.info("Evaluation of %s over %d episodes of seed %d (%s): mean %.2f, std %.2f, min %d, "
                 "max %d", load_path, len(scores), seed, acting,
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
    return FLAGS.seed + cli_flags.EVAL_SEED_OFFSET if FLAGS.eval_seed is None else FLAGS.eval_seed


def write_gif(agent, spec, env, name):
    """--visualize: a GIF of one game of the evaluation seed (embedded engine only), as
    <workspace>/gifs/<name>.gif."""
    if not isinstance(env, minigames.BatchEnv):
        logging.info("GIFs come from the embedded engine; with StarCraft II, watch the game.")
        return
    loops.play_gif(agent, spec, FLAGS.environment, FLAGS.step_mul, eval_seed(), FLAGS.greedy,
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
    if FLAGS["argument_temperature"].present and not evaluation:
        raise UserError("--argument_temperature is for evaluation (--load_model without "
                        "--training or --sl_training): training acts with the policy itself. "
                        "Leave it out.")
    if FLAGS.actors and FLAGS.backend == "sc2":
        raise UserError("--actors trains on the embedded engine: leave out --backend sc2 (use "
                        "auto or embedded), or leave out --actors.")
    if FLAGS.training or evaluation:
        loops.choose_backend(FLAGS.backend, FLAGS.player_1)
    check_output_folders(FLAGS.training, supervised_run)
    loops.configure_devices(FLAGS.gpu_use)
    if FLAGS.model_name == "alphastar" and not FLAGS.verbose:
        startup.skip_failing_remapper()  # it fails on this network and says so in alarm
    keras.utils.set_random_seed(FLAGS.seed)  # Python, numpy and TensorFlow
    if evaluation:
        run_evaluation(load_path, spec)
        return 0
    with loops.StopRequest() as stop:
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
    app.run(main, flags_parser=cli_flags.parse_flags)


if __name__ == "__main__":
    cli()
