"""The A2C training loop and evaluation, over any batch environment (the embedded engine's
`BatchEnv` or N StarCraft II games behind the same interface); run.py drives them from its flags,
and the benchmarks call them directly.

    make_batch_env   the environments of a run
    Runner           steps them with an agent, keeps each game's score
    train            A2C until a budget or a target mean, with checkpoints, TensorBoard, a
                     progress bar and a clean stop on SIGINT/SIGTERM (StopRequest)
    evaluate         plays a number of games spread evenly over the environments
    play_gif         one game on the embedded engine, as a GIF
"""
import datetime
import signal
import time

import numpy as np
import tensorflow as tf
import tqdm
from absl import logging

import minigames  # first: it applies pysc2's Python 3.11 fix
from minigames import batch_format, pysc2_batch_env, render
from minigames.files import write_atomically
from pysc2.env import sc2_env
from pysc2.lib import actions

import agent as agent_lib
import checkpoints
import summaries
import utils
from cli_flags import UserError

MEAN_WINDOW = checkpoints.MEAN_WINDOW


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
            log_progress(step, runner, metrics, f"skipped {skipped.total}", steps_per_second,
                         now - start)
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


def log_progress(step, runner, metrics, details, steps_per_second, seconds):
    """A training loop's progress line (A2C's here, V-trace's in distributed.py): the agent steps,
    the episodes ended and their 100-episode mean (runner: a Runner or a learner), the update's
    losses, the loop's own `details`, the speed and the time since the start."""
    mean = runner.recent_mean()
    logging.info(
        "steps %9d | episodes %5d | mean100 %6s | policy %+.3f value %.3f entropy %.2f | "
        "grad %.2f | %s | %4.0f steps/s | %s",
        step, len(runner.finished_episodes), "-" if mean is None else f"{mean:.2f}",
        metrics["policy_loss"], metrics["value_loss"], metrics["entropy"], metrics["grad_norm"],
        details, steps_per_second, datetime.timedelta(seconds=int(seconds)))


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


def play_gif(agent, spec, map_name, step_mul, seed, greedy, path, difficulty="very_easy"):
    """Play one episode on the embedded engine's pysc2 SC2Env and write it as a GIF. The agent's
    draws start again from `seed`, so the game does not depend on what the agent played before
    (an evaluation of any length)."""
    agent.generator.reset_from_seed(seed)
    frames, score = play_episode(agent, spec, map_name, step_mul, seed, greedy, difficulty)
    render.write_gif(frames, path)
    logging.info("Wrote %s (an episode scoring %d)", path, score)
    return score


def play_episode(agent, spec, map_name, step_mul, seed, greedy, difficulty="very_easy"):
    """Play one episode on the embedded engine's pysc2 SC2Env -> (RGB frames, score). A game of
    Simple64 takes minutes, one step at a time: a progress bar on a terminal counts its steps."""
    logging.info("Playing one game of %s (seed %d) for a GIF", map_name, seed)
    env = minigames.SC2Env(**pysc2_batch_env.env_kwargs(
        map_name, spec.screen_size, spec.minimap_size, step_mul, agent.model.uses_feature_units,
        seed, visualize=True, difficulty=difficulty))
    timestep = env.reset()[0]
    state = agent.initial_state(1)
    reset = np.ones(1, np.float32)
    score = 0.0
    with tqdm.tqdm(unit="step", desc="GIF game", disable=None, dynamic_ncols=True,
                   leave=False) as progress:
        while not timestep.last():
            batch = batch_format.stack_observations([timestep.observation])
            function_id, arg_indices, _, state = agent.step(utils.preprocess(batch, spec),
                                                            reset, state, greedy)
            reset = np.zeros(1, np.float32)
            timestep = env.step([utils.to_function_call(function_id[0], arg_indices[0],
                                                        spec.screen_size, spec.minimap_size)])[0]
            score += timestep.reward
            progress.update()
    env.close()
    return env.frames, score


