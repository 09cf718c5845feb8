"""finetune: the KL penalty toward a reference policy, and the critic-only warm-up update."""
import keras
import numpy as np
import tensorflow as tf
from pysc2.lib import actions

import finetune
import hyperparameters
import loops
import minigames
import network
import utils

SPEC = utils.Spec(16, 16)
MOVE = actions.FUNCTIONS.Move_screen.id
NO_OP = actions.FUNCTIONS.no_op.id


def outputs(function_pair, screen, queued, other):
    """Network-like outputs of one step: logits of no_op and Move_screen (the rest -5), of the
    screen and queued arguments, and `other` for every other argument type."""
    function = np.full((1, 573), -5.0, np.float32)
    function[0, [NO_OP, MOVE]] = function_pair
    arguments = {arg.name: tf.constant([other], tf.float32) for arg in actions.TYPES}
    arguments["screen"] = tf.constant([screen], tf.float32)
    arguments["queued"] = tf.constant([queued], tf.float32)
    return {"function": tf.constant(function), "arguments": arguments}


def kl(p_logits, q_logits):
    p = np.exp(p_logits) / np.exp(p_logits).sum()
    q = np.exp(q_logits) / np.exp(q_logits).sum()
    return float((p * np.log(p / q)).sum())


def test_policy_kl_is_the_masked_function_kl_plus_the_used_arguments():
    available = np.zeros((1, 573), np.float32)
    available[0, [NO_OP, MOVE]] = 1.0
    policy = outputs([0.0, 2.0], [1.0, 0.0, 0.0, -1.0], [0.5, 0.0], [3.0, 0.0])
    reference = outputs([1.0, 1.0], [0.0, 0.0, 0.0, 0.0], [0.0, 0.0], [0.0, 3.0])
    # Move_screen takes queued and screen; the other argument heads differ but do not count.
    expected = (kl(np.array([0.0, 2.0]), np.array([1.0, 1.0]))
                + kl(np.array([1.0, 0.0, 0.0, -1.0]), np.zeros(4))
                + kl(np.array([0.5, 0.0]), np.zeros(2)))
    got = finetune.policy_kl(policy, reference, tf.constant(available), tf.constant([MOVE]))
    np.testing.assert_allclose(got.numpy(), [expected], rtol=1e-5)
    # no_op takes no argument: only the function distributions count.
    got = finetune.policy_kl(policy, reference, tf.constant(available), tf.constant([NO_OP]))
    np.testing.assert_allclose(got.numpy(), [kl(np.array([0.0, 2.0]), np.array([1.0, 1.0]))],
                               rtol=1e-5)
    same = finetune.policy_kl(policy, policy, tf.constant(available), tf.constant([MOVE]))
    np.testing.assert_allclose(same.numpy(), [0.0], atol=1e-6)


def rollout_of(agent, seed=0):
    env = minigames.BatchEnv(num_envs=4, screen_size=16, minimap_size=16, seed=seed)
    rollout = loops.Runner(env, agent, SPEC).collect(4)
    env.close()
    return rollout


def test_the_critic_warm_up_trains_the_value_head_alone():
    keras.utils.set_random_seed(0)
    model = network.make_model("fullyconv", SPEC)
    agent = finetune.FineTuneAgent(model, hyperparameters.A2CConfig(learning_rate=1e-3))
    rollout = rollout_of(agent)
    rollout = rollout._replace(rewards=np.ones_like(rollout.rewards))  # returns far from V
    head = {id(v) for v in model.value_head.trainable_variables}
    before = {id(v): v.numpy().copy() for v in model.trainable_variables}
    losses = [agent.train_critic(rollout)["value_loss"] for _ in range(10)]
    changed = {id(v) for v in model.trainable_variables
               if not np.array_equal(before[id(v)], v.numpy())}
    assert changed == head
    assert losses[-1] < losses[0]
    assert agent.trace_counts["critic_step"] == 1 and agent.trace_counts["train_step"] == 0


def test_the_kl_penalty_is_zero_at_the_reference_and_grows_as_the_policy_moves():
    keras.utils.set_random_seed(0)
    model = network.make_model("fullyconv", SPEC)
    reference = network.make_model("fullyconv", SPEC)
    reference.set_weights(model.get_weights())
    config = hyperparameters.A2CConfig(learning_rate=1e-2, kl_weight=1.0)
    agent = finetune.FineTuneAgent(model, config, reference)
    rollout = rollout_of(agent)
    first = agent.train(rollout)
    second = agent.train(rollout)
    assert abs(first["kl"]) < 1e-5
    assert second["kl"] > 1e-4
    # The penalty is in the loss that was minimised.
    no_penalty = finetune.FineTuneAgent(network.make_model("fullyconv", SPEC),
                                        hyperparameters.A2CConfig(), None)
    assert "kl" not in no_penalty.train(rollout)
    assert not reference.trainable
