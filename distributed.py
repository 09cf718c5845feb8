"""IMPALA on Ray core: actors play the embedded engine with CPU copies of the policy, a learner
trains by V-trace.

    python run.py --training True --actors 2                            # a local Ray for the run
    python run.py --training True --actors 8 --ray_address HEAD:6379 --gpu_use True

The pieces (Espeholt et al. 2018, built on Ray's actors, object store and `ray.wait`):

- `Actor`, one Ray actor process each: its own `minigames.BatchEnv` of N games and a CPU copy of
  the network. `unroll(weights, version)` loads the weights and plays T steps in every game with
  `agent.behaviour_step`, keeping its games, their scores and the recurrent state from one unroll
  to the next. It returns an `agent.Unroll` (the T observations acted on and the one after them,
  the actions with their log-probabilities under the weights that chose them, rewards, episode
  ends) and a report (the scores of the episodes that ended, which weights it used, its process).
- `Learner`, in the driver process: keeps one unroll request in flight per actor. When one comes
  back, it first asks that actor for the next unroll with the newest weights, then makes one
  V-trace update (`agent.VTraceAgent`) on what came back, and puts the new weights in the object
  store once (`ray.put`), where the next requests read them. Actors act while the learner
  learns, so they act with weights about K updates old; V-trace's importance weights correct
  for the difference.
- `train`: learner steps until the agent-step budget is spent (or a 100-episode mean is reached),
  with progress lines, TensorBoard scalars and a save hook, like run.py's A2C training.

Failures: an actor process that dies is restarted by Ray (`max_restarts`) with fresh games, and
Ray runs the unroll requests it had not answered again on the new process (`max_task_retries=-1`:
a request sent while an actor restarts fails at once with ActorUnavailableError in Ray 2.60, so
retrying it belongs to Ray, which waits for the restart). The learner notices a restart by the
new process id in the actor's reports. When Ray gives up on an actor (it died more than
`max_actor_restarts` times, or its constructor failed), the learner goes on without it, and stops
with an error when no actor is left.

Devices: the learner's update runs on the first GPU TensorFlow sees (run.configure_devices shows
GPUs, with memory growth, only with --gpu_use True), else on the CPU. Actors act on the CPU: their
processes see no GPU (CUDA_VISIBLE_DEVICES is empty), so that K actors on the learner's machine
do not each claim GPU memory, and use as many TensorFlow threads as they reserve Ray CPUs.

A run is not reproducible step for step: which weights an actor acts with depends on timing. The
games are seeded: actor i plays the games of seeds seed + i * N to seed + i * N + N - 1.
"""
import dataclasses
import os
import socket
import time

import keras
import numpy as np
import ray
import tensorflow as tf
from absl import logging

import agent as agent_lib
import loops
import minigames
import network
import utils

MEAN_WINDOW = 100  # episodes in the mean that a target score and the save hook look at


@dataclasses.dataclass(frozen=True)
class DistributedConfig:
    """How the actors are laid out. The learning hyperparameters are
    hyperparameters.VTraceConfig's (its n_steps is the unroll length T)."""
    actors: int = 2
    envs_per_actor: int = 16  # the games of each actor's BatchEnv, N
    cpus_per_actor: int = 1  # Ray CPUs each actor reserves, and its TensorFlow threads
    max_actor_restarts: int = 10  # per actor, over the whole run


class DistributedError(Exception):
    """A problem the user can fix: an unreachable cluster, too few CPUs, a map the engine lacks,
    or actors that keep dying (their last error is in the message)."""


# ------------------------------------------------------------------------------------ actors
def actor_environment(cpus_per_actor):
    """Environment variables of every actor process: no GPU, and TensorFlow threads to match
    the CPUs the actor reserved (TensorFlow reads these when it starts)."""
    return {"CUDA_VISIBLE_DEVICES": "", "TF_NUM_INTRAOP_THREADS": str(cpus_per_actor),
            "TF_NUM_INTEROP_THREADS": "1"}


class Actor:
    """One actor's games and copy of the policy (the module docstring). Ray runs it remotely;
    it is a plain class, so tests can also run one in their own process."""

    def __init__(self, index, model_name, spec, map_name, num_envs, step_mul, seed,
                 unroll_length):
        keras.utils.set_random_seed(seed + index)  # the draws of this actor's sampling
        self.index = index
        self.spec = spec
        self.unroll_length = unroll_length
        self.model = network.make_model(model_name, spec)
        # Acting only (its optimiser stays unused); each actor samples from its own generator.
        self.agent = agent_lib.A2CAgent(self.model, seed=seed + index)
        self.env = minigames.BatchEnv(
            map_name=map_name, num_envs=num_envs, screen_size=spec.screen_size,
            minimap_size=spec.minimap_size, step_mul=step_mul, seed=seed + index * num_envs,
            use_feature_units=self.model.uses_feature_units)
        self.inputs = utils.preprocess(self.env.reset(), spec)
        self.reset = np.ones(num_envs, np.float32)
        self.state = self.agent.initial_state(num_envs)
        self.episode_reward = np.zeros(num_envs)

    def unroll(self, weights, weights_version):
        """T steps in every game with `weights` -> (agent.Unroll, report dict)."""
        self.model.set_weights(weights)
        initial_state = self.state
        steps, episode_scores = [], []
        for _ in range(self.unroll_length):
            inputs, reset = self.inputs, self.reset
            function_id, arg_indices, log_prob, self.state = self.agent.behaviour_step(
                inputs, reset, self.state)
            observation, reward, done = self.env.step(function_id, arg_indices)
            self.inputs = utils.preprocess(observation, self.spec)
            self.episode_reward += reward
            episode_scores.extend(self.episode_reward[done].tolist())
            self.episode_reward[done] = 0.0
            self.reset = done.astype(np.float32)
            steps.append((inputs, reset, function_id, arg_indices, log_prob, reward, done))
        inputs, reset, function_id, arg_indices, log_prob, reward, done = zip(*steps)
        inputs += (self.inputs,)  # x_T, whose value the learner bootstraps from
        unroll = agent_lib.Unroll(
            inputs={name: np.concatenate([x[name] for x in inputs]) for name in inputs[0]},
            reset=np.concatenate(reset + (self.reset,)),
            function_id=np.concatenate(function_id), arg_indices=np.concatenate(arg_indices),
            behaviour_log_prob=np.concatenate(log_prob), rewards=np.stack(reward),
            dones=np.stack(done).astype(np.float32), initial_state=initial_state)
        report = {"actor": self.index, "weights_version": weights_version,
                  "episode_scores": episode_scores, "process": _process_id()}
        return unroll, report

    def devices(self):
        """Where this actor computes: its visible GPUs and the device of its weights."""
        return {"cuda_visible_devices": os.environ.get("CUDA_VISIBLE_DEVICES"),
                "gpus": [device.name for device in tf.config.get_visible_devices("GPU")],
                "weights_device": self.model.trainable_variables[0].value.device}


def _process_id():
    """Ray's id of this worker process (a restarted actor gets a new one), or the pid outside
    Ray."""
    if ray.is_initialized():
        return ray.get_runtime_context().get_worker_id()
    return str(os.getpid())


# ----------------------------------------------------------------------------------- learner
def learner_device(gpus):
    """The device of the learner's update, given TensorFlow's visible GPUs."""
    return "/GPU:0" if gpus else "/CPU:0"


class Learner:
    """Requests unrolls from the actors and trains on them (the module docstring).

    Args:
      agent: an agent.VTraceAgent; its network's weights are what the actors act with.
      config: DistributedConfig.
      map_name, step_mul, seed: the actors' games.
      device: where the update runs (learner_device).
    """

    def __init__(self, agent, config, map_name, step_mul, seed, device="/CPU:0"):
        self.agent = agent
        self.config = config
        self.device = device
        self.updates = 0
        self.agent_steps = 0  # summed over the unrolls trained on
        self.finished_episodes = []  # scores in the order the learner received them
        self.finished_at = []  # agent_steps when each of them was received
        self.processes = [set() for _ in range(config.actors)]  # each actor's worker processes
        self.lost_actors = []  # the actors Ray gave up restarting
        remote_actor = ray.remote(Actor).options(
            num_cpus=config.cpus_per_actor, max_restarts=config.max_actor_restarts,
            max_task_retries=-1,
            runtime_env={"env_vars": actor_environment(config.cpus_per_actor)})
        model = agent.model
        self.actors = [
            remote_actor.remote(index, model.name, model.spec, map_name, config.envs_per_actor,
                                step_mul, seed, agent.config.n_steps)
            for index in range(config.actors)]
        self._weights = ray.put(model.get_weights())
        self._requests = {}  # ObjectRef of a requested unroll -> actor index
        self._last_error = None
        for index in range(config.actors):
            self._request(index)

    def step(self):
        """Wait for the next unroll, ask its actor for another, train on it; returns the
        update's metrics (with `policy_lag`: updates between the weights that acted and the
        learner's)."""
        unroll, report = self._next_unroll()
        with tf.device(self.device):
            metrics = self.agent.train(unroll)
        metrics["policy_lag"] = self.updates - report["weights_version"]
        self.updates += 1
        self._weights = ray.put(self.agent.model.get_weights())
        self.agent_steps += unroll.rewards.size
        self.finished_episodes.extend(report["episode_scores"])
        self.finished_at.extend([self.agent_steps] * len(report["episode_scores"]))
        return metrics

    def recent_mean(self):
        """Mean of the last 100 episode scores (None before any episode has ended)."""
        if not self.finished_episodes:
            return None
        return float(np.mean(self.finished_episodes[-MEAN_WINDOW:]))

    def restarts(self):
        """Actor restarts seen so far (a restarted actor reports from a new process)."""
        return sum(max(len(processes) - 1, 0) for processes in self.processes)

    def close(self):
        """End the actors; the unrolls still requested are dropped."""
        for request in self._requests:
            ray.cancel(request)  # so that Ray does not retry them on killed actors
        for actor in self.actors:
            ray.kill(actor)

    def _request(self, index):
        request = self.actors[index].unroll.remote(self._weights, self.updates)
        self._requests[request] = index

    def _next_unroll(self):
        while self._requests:
            [ready], _ = ray.wait(list(self._requests), num_returns=1)
            index = self._requests.pop(ready)
            try:
                unroll, report = ray.get(ready)
            except ray.exceptions.RayActorError as error:
                self.lost_actors.append(index)
                self._last_error = error
                logging.error("Actor %d is lost: Ray gave up restarting it (at most %d restarts); "
                              "training goes on without it. Its last error: %s", index,
                              self.config.max_actor_restarts, _first_line(error))
                continue
            self._request(index)
            if report["process"] not in self.processes[index] and self.processes[index]:
                logging.warning("Actor %d was restarted (%d restarts so far).", index,
                                self.restarts() + 1)
            self.processes[index].add(report["process"])
            return unroll, report
        raise DistributedError(f"No actor is left: Ray gave up restarting each (at most "
                               f"{self.config.max_actor_restarts} restarts per actor); the last "
                               f"error: {_first_line(self._last_error)}")


def _first_line(error):
    return str(error).strip().splitlines()[0] if error else "none"


# -------------------------------------------------------------------------------- the cluster
def connect(address, config):
    """Join the Ray cluster at `address` ("HOST:PORT" of its head), or start a local one for this
    run when it is None. Returns whether this call connected (and so the caller should
    disconnect); a Ray already initialised in this process (a test's) is used as it is."""
    if ray.is_initialized():
        started = False
    elif address:
        _check_reachable(address)
        try:
            ray.init(address=address)
        except (ConnectionError, ray.exceptions.AuthenticationError) as error:
            raise DistributedError(
                f"--ray_address {address}: cannot join the Ray cluster ({error}). If its head "
                f"runs with token authentication, set RAY_AUTH_MODE=token and its token "
                f"(RAY_AUTH_TOKEN, or the file ~/.ray/auth_token) here too.") from None
        started = True
    else:
        # A new local Ray even where `ray start` runs one; every actor must be scheduled, even
        # beyond this machine's cores.
        ray.init(address="local",
                 num_cpus=max(os.cpu_count() or 1, config.actors * config.cpus_per_actor),
                 include_dashboard=False)
        started = True
    needed = config.actors * config.cpus_per_actor
    available = ray.cluster_resources().get("CPU", 0)
    if available < needed:
        if started:
            ray.shutdown()
        raise DistributedError(f"--actors {config.actors} needs {needed} CPUs but the Ray cluster "
                               f"has {available:g}; add worker nodes or lower --actors.")
    return started


def _check_reachable(address):
    """Fail at once on a head that does not answer (ray.init would wait for minutes)."""
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise DistributedError(f"--ray_address {address}: expected HOST:PORT of the head node, "
                               f"as `ray start --head` prints it.")
    try:
        socket.create_connection((host, int(port)), timeout=10).close()
    except OSError as error:
        raise DistributedError(f"--ray_address {address}: no Ray head answers ({error}); start "
                               f"one with `ray start --head --port {port}`.") from None


def check_map(map_name, spec, step_mul):
    """Fail before starting actors on a map or setting the embedded engine cannot play."""
    try:
        minigames.BatchEnv(map_name=map_name, num_envs=1, screen_size=spec.screen_size,
                           minimap_size=spec.minimap_size, step_mul=step_mul).close()
    except ValueError as error:
        raise DistributedError(f"{error} (Ray actors play the embedded engine.)") from None


# ---------------------------------------------------------------------------------- training
def train(model, agent_config, config, map_name, step_mul, seed, max_agent_steps, log_dir,
          log_interval, save=None, target_mean=None, ray_address=None):
    """V-trace with config.actors Ray actors until max_agent_steps agent steps have been trained
    on, or until the 100-episode mean reaches target_mean; returns the Learner (its episode
    scores, agent steps, updates, actor restarts).

    Args:
      model: the network to train (network.make_model), already on the learner's device.
      agent_config: hyperparameters.VTraceConfig.
      config: DistributedConfig.
      log_dir: TensorBoard folder, or None.
      save: None, or called as save(finished_episodes, agent_steps) at every progress line.
      ray_address: the cluster to join; None starts a local Ray for this run.
    """
    check_map(map_name, model.spec, step_mul)
    device = learner_device(tf.config.list_logical_devices("GPU"))
    agent = agent_lib.VTraceAgent(model, agent_config)
    connected = connect(ray_address, config)
    learner = None
    writer = tf.summary.create_file_writer(log_dir) if log_dir else None
    try:
        learner = Learner(agent, config, map_name, step_mul, seed, device)
        logging.info("V-trace on %s with %d actors x %d games, update on %s; Ray: %s; %s",
                     map_name, config.actors, config.envs_per_actor, device,
                     ray_address or "local", agent_config)
        _train_loop(learner, max_agent_steps, writer, log_interval, save, target_mean)
    finally:
        if writer:
            writer.close()
        if learner:
            learner.close()
        if connected:
            ray.shutdown()
    logging.info("Trace counts: %s; actor restarts: %d; actors lost: %s",
                 dict(agent.trace_counts), learner.restarts(), learner.lost_actors or "none")
    return learner


def _train_loop(learner, max_agent_steps, writer, log_interval, save, target_mean):
    next_log = log_interval
    start = interval_start = time.time()
    interval_steps = reported_episodes = 0
    while learner.agent_steps < max_agent_steps:
        metrics = learner.step()
        step = learner.agent_steps
        new_scores = learner.finished_episodes[reported_episodes:]
        new_at = learner.finished_at[reported_episodes:]
        reported_episodes = len(learner.finished_episodes)
        if writer:
            with writer.as_default(step=step):
                for name in ("policy_loss", "value_loss", "entropy", "grad_norm",
                             "learning_rate", "policy_lag", "mean_rho"):
                    tf.summary.scalar(name, metrics[name])
                for score, at in zip(new_scores, new_at):
                    tf.summary.scalar("episode_reward_sum", score, step=at)
                if new_scores:
                    tf.summary.scalar("episode_reward_mean_100", learner.recent_mean())
        reached = (target_mean is not None and len(learner.finished_episodes) >= MEAN_WINDOW
                   and learner.recent_mean() >= target_mean)
        if step < next_log and step < max_agent_steps and not reached:
            continue

        next_log = (step // log_interval + 1) * log_interval
        now = time.time()
        steps_per_second = (step - interval_steps) / max(now - interval_start, 1e-9)
        interval_start, interval_steps = now, step
        if writer:
            with writer.as_default(step=step):
                tf.summary.scalar("steps_per_second", steps_per_second)
            writer.flush()
        loops.log_progress(step, learner, metrics,
                           f"lag {metrics['policy_lag']:.0f} rho {metrics['mean_rho']:.2f} | "
                           f"restarts {learner.restarts()}", steps_per_second, now - start)
        if save:
            save(learner.finished_episodes, step)
        if reached:
            break
