"""agent: availability masking, argument selection, log-probabilities, returns, the A2C loss."""
import keras
import numpy as np
import pytest
import tensorflow as tf
from pysc2.lib import actions

import agent as agent_lib
import hyperparameters
import minigames
import network
import utils

FUNCTIONS = actions.FUNCTIONS
SPEC = utils.Spec(16, 16)


def engine_inputs(num_envs=4, seed=0, select=False):
    env = minigames.BatchEnv(num_envs=num_envs, screen_size=16, minimap_size=16, seed=seed,
                             use_feature_units=True)
    batch = env.reset()
    if select:  # with the marine selected, its ten commands become available
        arg_indices = np.full((num_envs, 13), -1)
        arg_indices[:, actions.TYPES.select_add.id] = 0
        batch, _, _ = env.step(np.full(num_envs, FUNCTIONS.select_army.id), arg_indices)
    return utils.preprocess(batch, SPEC)


def fake_outputs(batch, rng, scale=3.0):
    """Random network outputs of the right shapes."""
    return {
        "function": tf.constant(rng.normal(size=(batch, 573)) * scale, tf.float32),
        "arguments": {name: tf.constant(rng.normal(size=(batch, size)) * scale, tf.float32)
                      for name, size in SPEC.argument_sizes().items()},
        "value": tf.constant(rng.normal(size=batch), tf.float32),
    }


def test_sampling_never_picks_an_unavailable_function():
    rng = np.random.default_rng(0)
    available = (rng.random((64, 573)) < 0.02).astype(np.float32)
    available[:, 0] = 1.0
    # The unavailable functions get by far the largest logits.
    logits = np.where(available > 0, 0.0, 50.0).astype(np.float32)
    masked = agent_lib.mask_unavailable(tf.constant(logits), tf.constant(available))
    for seed in range(20):
        drawn = agent_lib.sample(masked, tf.constant(False), tf.constant([seed, 0])).numpy()
        assert available[np.arange(64), drawn].all()
    greedy = agent_lib.sample(masked, tf.constant(True), tf.constant([0, 0])).numpy()
    assert available[np.arange(64), greedy].all()


def test_a_stateless_seed_draws_the_same_indices_and_another_seed_others():
    logits = tf.zeros((256, 100))
    first = agent_lib.sample(logits, tf.constant(False), tf.constant([1, 2])).numpy()
    again = agent_lib.sample(logits, tf.constant(False), tf.constant([1, 2])).numpy()
    other = agent_lib.sample(logits, tf.constant(False), tf.constant([1, 3])).numpy()
    assert np.array_equal(first, again)
    assert (first != other).mean() > 0.9  # 1/100 of equal draws expected by chance
    # Uniform logits: every index is drawn about equally often.
    counts = np.bincount(first, minlength=100)
    assert counts.max() < 15


def test_agents_with_the_same_generator_state_act_alike(fullyconv):
    inputs = engine_inputs(select=True)
    first, second = agent_lib.A2CAgent(fullyconv, seed=5), agent_lib.A2CAgent(fullyconv, seed=5)
    state = first.initial_state(4)
    for _ in range(3):
        a, b = first.step(inputs, np.ones(4), state), second.step(inputs, np.ones(4), state)
        assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    other = agent_lib.A2CAgent(fullyconv, seed=6)
    draws = [other.step(inputs, np.ones(4), state)[1] for _ in range(3)]
    assert any(not np.array_equal(d, a[1]) for d in draws)


def test_agent_steps_use_available_functions_and_mark_unused_arguments(fullyconv):
    agent = agent_lib.A2CAgent(fullyconv)
    for select in (False, True):
        inputs = engine_inputs(select=select)
        state = agent.initial_state(4)
        for _ in range(10):
            function_id, arg_indices, value, _ = agent.step(inputs, np.ones(4), state)
            assert inputs["available_actions"][np.arange(4), function_id].all()
            used = utils.USES_ARGUMENT[function_id]
            assert (arg_indices[~used] == -1).all()
            sizes = np.array(list(SPEC.argument_sizes().values()))
            assert ((arg_indices >= 0) & (arg_indices < sizes))[used].all()
            assert value.shape == (4,)


def test_greedy_steps_take_the_most_likely_available_action(fullyconv):
    agent = agent_lib.A2CAgent(fullyconv)
    inputs = engine_inputs(select=True)
    state = agent.initial_state(4)
    first = agent.step(inputs, np.ones(4), state, greedy=True)
    second = agent.step(inputs, np.ones(4), state, greedy=True)
    assert np.array_equal(first[0], second[0]) and np.array_equal(first[1], second[1])
    outputs = fullyconv({**inputs, **fullyconv.initial_state(4), "reset": tf.ones(4),
                         "function_id": tf.constant(first[0], tf.int32)})
    masked = agent_lib.mask_unavailable(outputs["function"], inputs["available_actions"])
    assert np.array_equal(first[0], np.argmax(masked, axis=-1))
    move_rows = utils.USES_ARGUMENT[first[0], actions.TYPES.screen.id]
    assert np.array_equal(first[1][move_rows, actions.TYPES.screen.id],
                          np.argmax(outputs["arguments"]["screen"], axis=-1)[move_rows])


def test_a_low_argument_temperature_sharpens_the_arguments_and_keeps_the_functions(fullyconv):
    inputs = engine_inputs(num_envs=16, select=True)
    state = agent_lib.A2CAgent(fullyconv).initial_state(16)
    plain = agent_lib.A2CAgent(fullyconv, seed=3).step(inputs, np.ones(16), state)
    sharp = agent_lib.A2CAgent(fullyconv, seed=3, argument_temperature=1e-3).step(
        inputs, np.ones(16), state)
    assert np.array_equal(plain[0], sharp[0])  # the same draws of the same function policy
    outputs = fullyconv({**inputs, **fullyconv.initial_state(16), "reset": tf.ones(16),
                         "function_id": tf.constant(sharp[0], tf.int32)})
    screen_rows = utils.USES_ARGUMENT[sharp[0], actions.TYPES.screen.id].astype(bool)
    assert screen_rows.sum() >= 4
    most_likely = np.argmax(outputs["arguments"]["screen"], axis=-1)[screen_rows]
    assert np.array_equal(sharp[1][screen_rows, actions.TYPES.screen.id], most_likely)
    # At temperature 1 the untrained network's nearly uniform points are drawn, not its argmax.
    assert (plain[1][screen_rows, actions.TYPES.screen.id] != most_likely).any()
    with pytest.raises(ValueError, match="argument_temperature must be positive"):
        agent_lib.A2CAgent(fullyconv, argument_temperature=0.0)


def test_log_prob_sums_only_the_arguments_the_function_takes():
    rng = np.random.default_rng(1)
    outputs = fake_outputs(3, rng)
    available = np.zeros((3, 573), np.float32)
    available[:, [0, 7, 331]] = 1.0
    function_id = np.array([0, 7, 331], np.int32)  # no_op(), select_army(select_add),
    arg_indices = np.full((3, 13), -1, np.int32)   # Move_screen(queued, screen)
    arg_indices[1, actions.TYPES.select_add.id] = 1
    arg_indices[2, actions.TYPES.queued.id] = 0
    arg_indices[2, actions.TYPES.screen.id] = 37
    log_prob, _ = agent_lib.action_log_prob_and_entropy(outputs, available, function_id,
                                                        arg_indices)

    def log_softmax(logits, index):
        return tf.nn.log_softmax(logits)[index].numpy()

    masked = agent_lib.mask_unavailable(outputs["function"], available)
    args = outputs["arguments"]
    expected = [
        log_softmax(masked[0], 0),
        log_softmax(masked[1], 7) + log_softmax(args["select_add"][1], 1),
        log_softmax(masked[2], 331) + log_softmax(args["queued"][2], 0)
        + log_softmax(args["screen"][2], 37),
    ]
    np.testing.assert_allclose(log_prob, expected, rtol=1e-5)


def test_entropy_is_of_the_whole_masked_distributions_of_used_arguments():
    batch = 2
    outputs = {"function": tf.zeros((batch, 573)),
               "arguments": {name: tf.zeros((batch, size))
                             for name, size in SPEC.argument_sizes().items()},
               "value": tf.zeros(batch)}
    available = np.zeros((batch, 573), np.float32)
    available[:, [0, 7, 331, 12]] = 1.0  # four equally likely functions
    function_id = np.array([0, 331], np.int32)
    arg_indices = np.zeros((batch, 13), np.int32)
    _, entropy = agent_lib.action_log_prob_and_entropy(outputs, available, function_id,
                                                       arg_indices)
    screen = SPEC.argument_sizes()["screen"]
    np.testing.assert_allclose(entropy, [np.log(4), np.log(4) + np.log(2) + np.log(screen)],
                               rtol=1e-5)


def test_returns_bootstrap_cut_segments_and_stop_at_episode_ends():
    rewards = np.array([[1.0, 1.0], [0.0, 0.0], [1.0, 1.0]], np.float32)  # [T=3, N=2]
    dones = np.array([[0, 0], [0, 1], [0, 0]], np.float32)
    values = np.array([[0.5, 0.5], [2.0, 2.0], [1.0, 1.0]], np.float32)
    bootstrap = np.array([10.0, 10.0], np.float32)
    advantages, returns = agent_lib.advantages_and_returns(rewards, dones, values, bootstrap,
                                                           0.9, gae_lambda=1.0)
    # Environment 0 never ends: every return reaches V(s_T) = 10 (the n-step returns).
    np.testing.assert_allclose(returns[:, 0], [1 + 0.9 * 9.0, 0.9 * 10.0, 1 + 0.9 * 10.0],
                               rtol=1e-6)
    # Environment 1 ends at t = 1: the returns before it do not see what comes after.
    np.testing.assert_allclose(returns[:, 1], [1.0, 0.0, 1 + 0.9 * 10.0], rtol=1e-6)
    np.testing.assert_allclose(advantages, returns - values, rtol=1e-6)


def test_gae_lambda_zero_gives_one_step_temporal_differences():
    rewards = np.array([[1.0], [0.0]], np.float32)
    dones = np.array([[0.0], [1.0]], np.float32)
    values = np.array([[0.5], [2.0]], np.float32)
    advantages, returns = agent_lib.advantages_and_returns(rewards, dones, values,
                                                           np.array([7.0], np.float32), 0.9, 0.0)
    np.testing.assert_allclose(advantages[:, 0], [1 + 0.9 * 2.0 - 0.5, 0.0 - 2.0], rtol=1e-6)
    np.testing.assert_allclose(returns, advantages + values, rtol=1e-6)


def test_vtrace_of_a_three_step_unroll_computed_by_hand():
    # Two environments, the same rewards and values; environment 1's episode ends at t = 1.
    # pi / mu is 2 (clipped to 1), 0.5 and 1 at the three steps.
    log_rhos = np.log(np.array([[2.0, 2.0], [0.5, 0.5], [1.0, 1.0]], np.float32))
    rewards = np.array([[1.0, 1.0], [0.0, 0.0], [2.0, 2.0]], np.float32)
    dones = np.array([[0, 0], [0, 1], [0, 0]], np.float32)
    values = np.array([[1.0, 1.0], [2.0, 2.0], [3.0, 3.0]], np.float32)
    bootstrap = np.array([4.0, 4.0], np.float32)
    advantages, targets = agent_lib.vtrace_advantages_and_returns(
        log_rhos, rewards, dones, values, bootstrap, 0.9, gae_lambda=1.0, rho_bar=1.0, c_bar=1.0)
    # Environment 0: delta = rho * (r + 0.9 V' - V) = 1.8, 0.35, 2.6;
    # v_2 = 3 + 2.6, v_1 = 2 + 0.35 + 0.9 * 0.5 * 2.6, v_0 = 1 + 1.8 + 0.9 * 1 * (v_1 - 2).
    v_2 = 3 + 2.6
    v_1 = 2 + 0.35 + 0.9 * 0.5 * 2.6
    v_0 = 1 + 1.8 + 0.9 * (v_1 - 2)
    np.testing.assert_allclose(targets[:, 0], [v_0, v_1, v_2], rtol=1e-6)
    # A = rho * (r + 0.9 v' - V), with v_3 = V(x_3) = 4.
    np.testing.assert_allclose(advantages[:, 0], [1 + 0.9 * v_1 - 1, 0.5 * (0.9 * v_2 - 2),
                                                  2 + 0.9 * 4 - 3], rtol=1e-6)
    # Environment 1 ends at t = 1: nothing after it reaches t <= 1.
    np.testing.assert_allclose(targets[:, 1], [1 + 1.8 + 0.9 * -1.0, 2 - 1.0, v_2], rtol=1e-6)
    np.testing.assert_allclose(advantages[:, 1], [1 + 0.9 * 1.0 - 1, 0.5 * -2.0, 2.6],
                               rtol=1e-6)


@pytest.mark.parametrize("gae_lambda", [1.0, 0.8])
def test_vtrace_on_policy_is_the_n_step_return(gae_lambda):
    rng = np.random.default_rng(5)
    rewards = rng.normal(size=(6, 3)).astype(np.float32)
    dones = (rng.random((6, 3)) < 0.2).astype(np.float32)
    values = rng.normal(size=(6, 3)).astype(np.float32)
    bootstrap = rng.normal(size=3).astype(np.float32)
    advantages, returns = agent_lib.advantages_and_returns(rewards, dones, values, bootstrap,
                                                           0.95, gae_lambda)
    vtrace_advantages, targets = agent_lib.vtrace_advantages_and_returns(
        np.zeros((6, 3), np.float32), rewards, dones, values, bootstrap, 0.95, gae_lambda)
    np.testing.assert_allclose(targets, returns, rtol=1e-5, atol=1e-6)
    if gae_lambda == 1.0:
        np.testing.assert_allclose(vtrace_advantages, advantages, rtol=1e-5, atol=1e-6)


def test_vtrace_clips_rho_at_rho_bar_and_the_traces_at_c_bar():
    rewards = np.ones((2, 1), np.float32)  # two steps of reward 1, values 0, no episode end
    values, bootstrap, dones = np.zeros((2, 1), np.float32), np.zeros(1, np.float32), rewards * 0

    def vtrace(ratio):
        return agent_lib.vtrace_advantages_and_returns(
            np.full((2, 1), np.log(ratio), np.float32), rewards, dones, values, bootstrap, 0.9,
            rho_bar=2.0, c_bar=1.0)

    # pi / mu = 3: rho = 2, c = 1. delta = 2 at both steps; v_0 = 2 + 0.9 * 1 * 2.
    advantages, targets = vtrace(3.0)
    np.testing.assert_allclose(targets[:, 0], [2 + 0.9 * 2, 2], rtol=1e-6)
    np.testing.assert_allclose(advantages[:, 0], [2 * (1 + 0.9 * 2), 2], rtol=1e-6)
    # pi / mu = 0.25: neither clip applies.
    advantages, targets = vtrace(0.25)
    np.testing.assert_allclose(targets[:, 0], [0.25 + 0.9 * 0.25 * 0.25, 0.25], rtol=1e-6)
    np.testing.assert_allclose(advantages[:, 0], [0.25 * (1 + 0.9 * 0.25), 0.25], rtol=1e-6)


def test_a2c_loss_terms_for_known_returns():
    rng = np.random.default_rng(2)
    outputs = fake_outputs(4, rng)
    values = tf.constant([0.0, 1.0, 2.0, 3.0])
    outputs["value"] = values
    returns = tf.constant([1.0, 1.0, 0.0, 5.0])
    advantages = returns - values
    available = np.ones((4, 573), np.float32)
    function_id = np.zeros(4, np.int32)
    arg_indices = np.full((4, 13), -1, np.int32)
    config = hyperparameters.A2CConfig(value_loss_weight=0.5, entropy_weight=0.01,
                                       normalize_advantages=False)
    losses = agent_lib.a2c_loss(outputs, available, function_id, arg_indices, advantages,
                                returns, config)
    assert float(losses["value_loss"]) == pytest.approx((1 + 0 + 4 + 4) / 4)
    log_prob, entropy = agent_lib.action_log_prob_and_entropy(outputs, available, function_id,
                                                              arg_indices)
    assert float(losses["policy_loss"]) == pytest.approx(-np.mean(log_prob * advantages),
                                                         rel=1e-5)
    assert float(losses["entropy"]) == pytest.approx(np.mean(entropy), rel=1e-5)
    expected = losses["policy_loss"] + 0.5 * losses["value_loss"] - 0.01 * losses["entropy"]
    assert float(losses["total"]) == pytest.approx(float(expected), rel=1e-6)


def test_normalized_advantages_have_zero_mean_and_unit_scale():
    rng = np.random.default_rng(4)
    outputs = fake_outputs(3, rng)
    available = np.ones((3, 573), np.float32)
    function_id, arg_indices = np.zeros(3, np.int32), np.full((3, 13), -1, np.int32)
    config = hyperparameters.A2CConfig(normalize_advantages=True)
    small = agent_lib.a2c_loss(outputs, available, function_id, arg_indices,
                               tf.constant([0.0, 0.01, 0.02]), tf.zeros(3), config)
    large = agent_lib.a2c_loss(outputs, available, function_id, arg_indices,
                               tf.constant([5.0, 105.0, 205.0]), tf.zeros(3), config)
    assert float(small["policy_loss"]) == pytest.approx(float(large["policy_loss"]), rel=1e-3)


def test_the_advantage_does_not_train_the_value_head(fullyconv):
    """With the value loss weighted 0, an update must leave the value head alone: the policy
    loss's advantages A = R - V are constants (V is not back-propagated through them)."""
    agent = agent_lib.A2CAgent(fullyconv, hyperparameters.A2CConfig(value_loss_weight=0.0,
                                                                    entropy_weight=0.0))
    rollout = rollout_from_engine(agent, num_envs=2, n_steps=4, seed=1)
    rollout = rollout._replace(rewards=np.full_like(rollout.rewards, 3.0))  # A far from 0
    value_head = [v.numpy().copy() for v in fullyconv.value_head.trainable_variables]
    policy_head = [v.numpy().copy() for v in fullyconv.function_head.trainable_variables]
    metrics = agent.train(rollout)
    assert metrics["applied"] == 1.0
    for before, after in zip(value_head, fullyconv.value_head.trainable_variables):
        np.testing.assert_array_equal(before, after.numpy())
    # The update did change the policy.
    assert any(not np.array_equal(before, after.numpy()) for before, after in
               zip(policy_head, fullyconv.function_head.trainable_variables))


def test_an_update_with_a_non_finite_loss_is_skipped(fullyconv):
    agent = agent_lib.A2CAgent(fullyconv)
    rollout = rollout_from_engine(agent, num_envs=2, n_steps=3)
    poisoned = rollout._replace(rewards=np.full_like(rollout.rewards, np.nan))
    weights = [v.numpy().copy() for v in fullyconv.trainable_variables]
    metrics = agent.train(poisoned)
    assert metrics["applied"] == 0.0 and not np.isfinite(metrics["value_loss"])
    assert int(agent.optimizer.iterations) == 0
    for before, after in zip(weights, fullyconv.trainable_variables):
        np.testing.assert_array_equal(before, after.numpy())
    assert agent.train(rollout)["applied"] == 1.0
    assert int(agent.optimizer.iterations) == 1


def test_five_skipped_updates_in_a_row_are_a_divergence_naming_the_learning_rate():
    skipped = agent_lib.SkippedUpdates(learning_rate=1e4)
    for step in range(4):
        skipped.record(applied=False, step=step)
    skipped.record(applied=True, step=4)  # a good update breaks the row
    for step in range(5, 9):
        skipped.record(applied=False, step=step)
    with pytest.raises(agent_lib.DivergenceError, match=r"5 updates in a row had a non-finite "
                       r"loss or gradient; the learning rate \(10000\) is the likely cause"):
        skipped.record(applied=False, step=9)
    assert skipped.total == 9


def test_updates_skipped_every_other_time_are_a_divergence_too():
    skipped = agent_lib.SkippedUpdates(learning_rate=0.5)
    for step in range(9):  # 9 of the last 18 skipped, never two in a row
        skipped.record(applied=True, step=2 * step)
        skipped.record(applied=False, step=2 * step + 1)
    skipped.record(applied=True, step=18)
    with pytest.raises(agent_lib.DivergenceError, match=r"10 of the last 20 updates had a "
                       r"non-finite loss or gradient; the learning rate \(0.5\)"):
        skipped.record(applied=False, step=19)


def test_acting_with_non_finite_weights_is_a_divergence(fullyconv):
    agent = agent_lib.A2CAgent(fullyconv)
    kernel = fullyconv.function_head.kernel
    kernel.assign(tf.fill(kernel.shape, np.inf))
    inputs = engine_inputs()
    with pytest.raises(agent_lib.DivergenceError, match="logits are not finite"):
        agent.step(inputs, np.ones(4), agent.initial_state(4))


def rollout_from_engine(agent, num_envs, n_steps, seed=0):
    env = minigames.BatchEnv(num_envs=num_envs, screen_size=16, minimap_size=16, seed=seed,
                             use_feature_units=True)
    batch, state = env.reset(), agent.initial_state(num_envs)
    initial_state, steps = state, []
    reset = np.ones(num_envs, np.float32)
    for _ in range(n_steps):
        inputs = utils.preprocess(batch, SPEC)
        function_id, arg_indices, _, state = agent.step(inputs, reset, state)
        batch, reward, done = env.step(function_id, arg_indices)
        steps.append((inputs, reset, function_id, arg_indices, reward, done))
        reset = done.astype(np.float32)
    inputs, resets, function_id, arg_indices, reward, done = zip(*steps)
    return agent_lib.Rollout(
        {name: np.concatenate([x[name] for x in inputs]) for name in inputs[0]},
        np.concatenate(resets), np.concatenate(function_id), np.concatenate(arg_indices),
        np.stack(reward), np.stack(done).astype(np.float32),
        agent.value(utils.preprocess(batch, SPEC), reset, state), initial_state)


@pytest.mark.parametrize("name", ["fullyconv", "alphastar"])
def test_train_steps_are_traced_once_and_change_the_weights(name):
    keras.utils.set_random_seed(0)
    model = network.make_model(name, SPEC)
    agent = agent_lib.A2CAgent(model, hyperparameters.A2CConfig(n_steps=3))
    before = [v.numpy().copy() for v in model.trainable_variables]
    for seed in range(3):
        metrics = agent.train(rollout_from_engine(agent, num_envs=2, n_steps=3, seed=seed))
        assert all(np.isfinite(v) for v in metrics.values())
    assert agent.trace_counts["train_step"] == 1
    assert agent.trace_counts["policy_step"] == 1
    changed = [not np.array_equal(b, v.numpy()) for b, v in zip(before, model.trainable_variables)]
    assert sum(changed) > len(changed) // 2


def test_updates_make_a_rewarded_action_more_likely(fullyconv):
    """Repeated updates on one rollout in which `select_army` earned a reward raise its
    probability."""
    # Two samples with the same advantage: normalising would make it 0.
    agent = agent_lib.A2CAgent(fullyconv, hyperparameters.A2CConfig(learning_rate=1e-2,
                                                                    normalize_advantages=False))
    inputs = engine_inputs(num_envs=2)
    state = agent.initial_state(2)
    select_army = FUNCTIONS.select_army.id
    arg_indices = np.full((2, 13), -1, np.int32)
    arg_indices[:, actions.TYPES.select_add.id] = 0
    # A reward far above any value the untrained network predicts, so the advantage is positive.
    rollout = agent_lib.Rollout(
        inputs, np.ones(2, np.float32), np.full(2, select_army, np.int32), arg_indices,
        rewards=np.full((1, 2), 10.0, np.float32), dones=np.zeros((1, 2), np.float32),
        bootstrap_value=np.zeros(2, np.float32), initial_state=state)

    def probability():
        outputs = fullyconv({**inputs, **state, "reset": tf.ones(2),
                             "function_id": tf.zeros(2, tf.int32)})
        masked = agent_lib.mask_unavailable(outputs["function"], inputs["available_actions"])
        return float(tf.nn.softmax(masked)[0, select_army])

    before = probability()
    for _ in range(10):
        agent.train(rollout)
    assert probability() > before + 0.05
