"""distributed: actors' unrolls, the V-trace update on them, the learner on Ray, actor restarts,
device placement, and run.py --actors."""
import glob
import json
import os

import keras
import numpy as np
import pytest
import ray
import tensorflow as tf

import agent as agent_lib
import checkpoints
import cli_flags
import distributed
import hyperparameters
import network
import run
import utils

SPEC = utils.Spec(16, 16)
FLAGS = run.FLAGS


@pytest.fixture(scope="module")
def ray_cluster():
    """One local Ray for this module's tests (starting one takes seconds); a new one even where
    `ray start` runs a cluster."""
    ray.init(address="local", num_cpus=2, include_dashboard=False)
    yield
    ray.shutdown()


def seeded_model(name, seed=0):
    keras.utils.set_random_seed(seed)
    return network.make_model(name, SPEC)


def make_actor(name="fullyconv", num_envs=2, unroll_length=4, seed=0):
    return distributed.Actor(0, name, SPEC, "MoveToBeacon", num_envs, 8, seed, unroll_length)


def first_rows(inputs, rows):
    return {name: value[:rows] for name, value in inputs.items()}


# ------------------------------------------------------------------------------ actors
def test_actor_unrolls_continue_its_games_and_carry_the_behaviour_log_probs():
    actor = make_actor(num_envs=2, unroll_length=4)
    weights = actor.model.get_weights()
    first, report = actor.unroll(weights, 7)
    second, _ = actor.unroll(weights, 8)
    n, t = 2, 4
    assert first.inputs["screen"].shape == ((t + 1) * n, 16, 16,
                                            SPEC.input_shapes()["screen"][-1])
    assert first.reset.shape == ((t + 1) * n,) and first.function_id.shape == (t * n,)
    assert first.rewards.shape == first.dones.shape == (t, n)
    assert report["weights_version"] == 7 and report["episode_scores"] == []
    np.testing.assert_array_equal(first.reset[:n], 1.0)  # the games' first observations
    # The second unroll starts where the first ended: x_T is its first observation.
    for name in first.inputs:
        np.testing.assert_array_equal(first.inputs[name][-n:], second.inputs[name][:n])
    np.testing.assert_array_equal(first.reset[-n:], second.reset[:n])
    # The behaviour log-probabilities are those of the taken actions under the acting weights.
    outputs = actor.model({**first_rows(first.inputs, t * n), "reset": first.reset[:t * n],
                           "function_id": first.function_id, **first.initial_state})
    log_prob, _ = agent_lib.action_log_prob_and_entropy(
        outputs, first.inputs["available_actions"][:t * n], first.function_id,
        first.arg_indices)
    np.testing.assert_allclose(first.behaviour_log_prob, log_prob, rtol=1e-4, atol=1e-4)
    assert (first.behaviour_log_prob < 0).all()


def test_actor_reports_each_finished_game_with_its_score():
    actor = make_actor(num_envs=2, unroll_length=60)  # a game lasts 240 agent steps
    weights = actor.model.get_weights()
    unrolls = [actor.unroll(weights, 0) for _ in range(4)]
    rewards = sum(unroll.rewards.sum(axis=0) for unroll, _ in unrolls)
    assert [report["episode_scores"] for _, report in unrolls[:3]] == [[], [], []]
    assert sorted(unrolls[3][1]["episode_scores"]) == sorted(rewards.tolist())
    np.testing.assert_array_equal(unrolls[3][0].dones[-1], 1.0)


@pytest.mark.parametrize("name", ["fullyconv", "alphastar"])
def test_on_policy_the_vtrace_update_is_the_a2c_update(name):
    """With the acting weights (pi = mu) and lambda 1, V-trace's targets are the n-step returns:
    both updates see the same losses and gradients."""
    actor = make_actor(name, num_envs=2, unroll_length=3)
    actor.unroll(actor.model.get_weights(), 0)
    unroll, _ = actor.unroll(actor.model.get_weights(), 0)  # from a carried recurrent state
    vtrace_model, a2c_model = seeded_model(name), actor.model  # the actor is done acting
    vtrace_model.set_weights(actor.model.get_weights())
    config = hyperparameters.VTraceConfig(n_steps=3)
    vtrace = agent_lib.VTraceAgent(vtrace_model, config).train(unroll)

    acted = 3 * 2
    a2c_agent = agent_lib.A2CAgent(a2c_model, config)
    outputs = a2c_model({**first_rows(unroll.inputs, acted), "reset": unroll.reset[:acted],
                         "function_id": unroll.function_id, **unroll.initial_state})
    last = {name: value[acted:] for name, value in unroll.inputs.items()}
    rollout = agent_lib.Rollout(
        first_rows(unroll.inputs, acted), unroll.reset[:acted], unroll.function_id,
        unroll.arg_indices, unroll.rewards, unroll.dones,
        bootstrap_value=a2c_agent.value(last, unroll.reset[acted:], {
            "state_h": outputs["state_h"], "state_c": outputs["state_c"]}),
        initial_state=unroll.initial_state)
    a2c = a2c_agent.train(rollout)
    assert vtrace["mean_rho"] == pytest.approx(1.0, abs=1e-4)
    for metric in ("total", "policy_loss", "value_loss", "entropy", "grad_norm", "mean_value",
                   "mean_return"):
        assert vtrace[metric] == pytest.approx(a2c[metric], rel=1e-3, abs=1e-5), metric


def test_vtrace_updates_on_stale_unrolls_run_on_the_learner_device_and_are_traced_once():
    actor = make_actor(num_envs=2, unroll_length=4)
    stale_weights = actor.model.get_weights()
    model = seeded_model("fullyconv", seed=1)
    learner = agent_lib.VTraceAgent(model, hyperparameters.VTraceConfig(n_steps=4))
    before = [w.numpy().copy() for w in model.trainable_variables]
    device = distributed.learner_device(tf.config.list_logical_devices("GPU"))
    for version in range(3):
        with tf.device(device):  # as the Learner places its update (here on the CPU)
            metrics = learner.train(actor.unroll(stale_weights, version)[0])
        assert all(np.isfinite(value) for value in metrics.values())
        assert 0.0 < metrics["mean_rho"] <= 1.0
    assert learner.trace_counts["vtrace_step"] == 1
    changed = [not np.array_equal(b, w.numpy()) for b, w in zip(before, model.trainable_variables)]
    assert sum(changed) > len(changed) // 2
    assert model.trainable_variables[0].value.device.endswith(device[1:])


# ----------------------------------------------------------------------------- learner
def small_learner(actors=2, seed=0, max_actor_restarts=3):
    model = seeded_model("fullyconv", seed)
    agent = agent_lib.VTraceAgent(model, hyperparameters.VTraceConfig(n_steps=4))
    config = distributed.DistributedConfig(actors=actors, envs_per_actor=2,
                                           max_actor_restarts=max_actor_restarts)
    return distributed.Learner(agent, config, "MoveToBeacon", 8, seed)


def test_the_learner_trains_on_the_unrolls_of_every_actor(ray_cluster):
    learner = small_learner(actors=2)
    before = [w.numpy().copy() for w in learner.agent.model.trainable_variables]
    try:
        # An actor answers in order: once this returns, each has its first unroll ready.
        devices = ray.get([actor.devices.remote() for actor in learner.actors])
        lags = [learner.step()["policy_lag"] for _ in range(12)]
    finally:
        learner.close()
    assert learner.updates == 12 and learner.agent_steps == 12 * 2 * 4
    assert all(len(processes) == 1 for processes in learner.processes)  # both actors delivered
    assert lags[:2] == [0, 1] and all(lag >= 0 for lag in lags)
    assert learner.restarts() == 0 and learner.lost_actors == []
    assert learner.agent.trace_counts["vtrace_step"] == 1
    assert any(not np.array_equal(b, w.numpy())
               for b, w in zip(before, learner.agent.model.trainable_variables))
    # Actors act on the CPU and see no GPU, whatever the learner's machine has.
    for device in devices:
        assert device["cuda_visible_devices"] == "" and device["gpus"] == []
        assert device["weights_device"].endswith("CPU:0")


def test_a_killed_actor_is_restarted_and_training_goes_on_until_its_restarts_are_spent(
        ray_cluster):
    learner = small_learner(actors=1, seed=1, max_actor_restarts=1)
    try:
        learner.step()
        [first_process] = learner.processes[0]
        ray.kill(learner.actors[0], no_restart=False)  # while it computes its next unroll
        budget = learner.agent_steps + 5 * 2 * 4
        while learner.agent_steps < budget:  # only the restarted actor can deliver now
            learner.step()
        assert learner.agent_steps == budget and learner.updates == 6
        assert first_process in learner.processes[0] and len(learner.processes[0]) == 2
        assert learner.restarts() == 1 and learner.lost_actors == []

        ray.kill(learner.actors[0], no_restart=False)  # no restart is left
        with pytest.raises(distributed.DistributedError,
                           match="No actor is left.*at most 1 restarts"):
            for _ in range(100):
                learner.step()
    finally:
        learner.close()
    assert learner.lost_actors == [0]


# ---------------------------------------------------------------------- devices, cluster
def test_the_update_runs_on_the_first_gpu_when_there_is_one():
    assert distributed.learner_device([]) == "/CPU:0"
    gpus = [tf.config.LogicalDevice("/device:GPU:0", "GPU"),
            tf.config.LogicalDevice("/device:GPU:1", "GPU")]
    assert distributed.learner_device(gpus) == "/GPU:0"


def test_actor_processes_see_no_gpu_and_use_the_threads_they_reserve():
    assert distributed.actor_environment(3) == {
        "CUDA_VISIBLE_DEVICES": "", "TF_NUM_INTRAOP_THREADS": "3", "TF_NUM_INTEROP_THREADS": "1"}


def test_cluster_problems_are_one_clear_error(ray_cluster):
    with pytest.raises(distributed.DistributedError, match="needs 3 CPUs but the Ray cluster "
                                                           "has 2"):
        distributed.connect(None, distributed.DistributedConfig(actors=3))
    with pytest.raises(distributed.DistributedError, match="expected HOST:PORT"):
        distributed._check_reachable("head-without-port")
    with pytest.raises(distributed.DistributedError, match="no Ray head answers"):
        distributed._check_reachable("127.0.0.1:1")
    with pytest.raises(distributed.DistributedError, match="no map 'NoSuchMap'"):
        distributed.check_map("NoSuchMap", SPEC, 8)


# ------------------------------------------------------------------------------ run.py
@pytest.fixture
def parse():
    """Parse a command line with run.py's parser; restores the flags afterwards."""
    def parse_argv(*args):
        cli_flags.parse_flags(["run.py", *args])
    yield parse_argv
    FLAGS.unparse_flags()
    FLAGS.mark_as_parsed()


def test_run_py_trains_with_actors_and_saves_by_its_save_rule(ray_cluster, tmp_path, parse,
                                                              monkeypatch):
    parse("--training", "True", "--actors", "1", "--workspace_path", str(tmp_path),
          "--num_envs", "2", "--n_steps", "4", "--max_agent_steps", "48", "--log_interval", "16",
          "--save_model", "True", "--seed", "3")
    # No 100-episode mean exists after 48 agent steps: let the save rule pass at every check.
    monkeypatch.setattr(checkpoints.SaveRule, "should_save", lambda self, finished_episodes: True)
    run.run()
    logs = glob.glob(str(tmp_path / "tensorboard" / "MoveToBeacon_fullyconv_vtrace_seed3_*"))
    assert len(logs) == 1
    steps = set()
    for path in glob.glob(f"{logs[0]}/events.out.tfevents.*"):
        for event in tf.compat.v1.train.summary_iterator(path):
            if any(value.tag == "policy_lag" for value in event.summary.value):
                steps.add(event.step)
    assert steps == set(range(8, 49, 8))  # one update per unroll of 2 games x 4 steps
    [description] = glob.glob(str(tmp_path / "Models" / "*_vtrace_seed3_*.json"))
    assert os.path.isfile(description[:-len(".json")] + ".weights.h5")
    with open(description) as f:
        saved = json.load(f)
    assert (saved["training"], saved["actors"], saved["agent_steps"]) == ("vtrace", 1, 48)


@pytest.mark.parametrize("args,problem", [
    (["--actors", "2"], "pass --training True"),
    (["--actors", "2", "--training", "True", "--backend", "sc2"], "leave out --backend sc2")])
def test_run_py_actors_need_training_on_the_embedded_engine(parse, args, problem):
    parse(*args)
    with pytest.raises(cli_flags.UserError, match=problem):
        run.run()
