"""Acting with availability masks; the n-step advantage actor-critic (A2C) and V-trace updates.

A policy step samples a function id from the network's function logits with every unavailable
function's logit replaced by UNAVAILABLE_LOGIT (its probability is then exactly 0 in float32),
then samples the argument heads conditioned on that function (the AlphaStar network reads it),
and sets every argument the function does not take to -1. The distributions are TensorFlow
Probability's `Categorical`; each draw takes a stateless seed from the agent's own
`tf.random.Generator`, whose state a training checkpoint holds, so a resumed run draws exactly the
actions the uninterrupted run would have drawn.

The log-probability of an action is log pi(function) plus log pi(argument) for only the arguments
that function takes; the entropy bonus is the entropy of the whole masked function distribution
plus, for each argument the taken function uses, the entropy of that argument's whole distribution.

The A2C update (Mnih et al. 2016, as in SC2LE) on a rollout of T steps of N environments, with
the advantages of GAE(lambda) (Schulman et al. 2016); lambda = 1 is the plain n-step A2C:
  delta_t = r_t + discount * (1 - done_t) * V(s_{t+1}) - V(s_t),  V(s_T) bootstraps the cut segment
  A_t = delta_t + discount * lambda * (1 - done_t) * A_{t+1},  R_t = A_t + V(s_t)
  loss = -mean(log pi(a_t) * stop_gradient(A_t))
         + value_loss_weight * mean((stop_gradient(R_t) - V(s_t))^2)
         - entropy_weight * mean(entropy_t)
then gradients are clipped to a global norm and applied by the optimiser. An update whose loss or
gradient norm is not finite is skipped (nothing applied, the optimiser's state untouched);
SkippedUpdates counts them and raises DivergenceError after MAX_SKIPPED_IN_A_ROW in a row, or
when half of the last RECENT_UPDATES were skipped.

The V-trace update (IMPALA, Espeholt et al. 2018) trains on unrolls acted by an older copy of the
policy (the behaviour policy mu, a few updates behind the learner's pi): the same loss, with the
V-trace value targets v_s and importance-weighted advantages of `vtrace_advantages_and_returns` in
place of R_t and A_t, computed from the learner's own values of the unroll's observations.

The policy step and the updates are `tf.function`s with fixed input signatures, so each is
traced once; `trace_counts` records traces and every trace is logged.
"""
import collections

import keras
import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp
from absl import logging

import hyperparameters
import utils
from pysc2.lib import actions

UNAVAILABLE_LOGIT = -1e9
MAX_SKIPPED_IN_A_ROW = 5
# A run whose updates fail every other time diverges too (seen with supervised learning at a
# learning rate of 1e4), without ever failing 5 times in a row.
RECENT_UPDATES = 20
Categorical = tfp.distributions.Categorical


def make_optimizer(config):
    if config.optimizer == "rmsprop":
        return keras.optimizers.RMSprop(config.learning_rate, rho=0.99,
                                        epsilon=config.optimizer_epsilon)
    if config.optimizer == "adam":
        return keras.optimizers.Adam(config.learning_rate, epsilon=config.optimizer_epsilon)
    raise ValueError(f"Unknown optimizer {config.optimizer!r}; choose rmsprop or adam.")


# --------------------------------------------------------------------------- distributions
def mask_unavailable(function_logits, available):
    """Replace the logits of functions with available == 0 by UNAVAILABLE_LOGIT."""
    return tf.where(available > 0.5, function_logits, UNAVAILABLE_LOGIT)


def arguments_used(function_id):
    """[B] function ids -> [B, 13] float32, 1.0 where the function takes that argument type."""
    return tf.gather(tf.constant(utils.USES_ARGUMENT, tf.float32), function_id)


def entropy(logits):
    """Entropy of the categorical distribution of each row of logits."""
    return Categorical(logits=logits).entropy()


def log_prob(logits, index):
    """log pi(index) per row; rows with index -1 give log pi(0) (callers mask them out)."""
    return Categorical(logits=logits).log_prob(tf.maximum(index, 0))


def _sum_over_action(outputs, available, function_id, term):
    """[B] term(logits, argument type id) of the masked function logits (id None) plus, for each
    argument the function takes, of that argument's logits."""
    used = arguments_used(function_id)
    total = term(mask_unavailable(outputs["function"], available), None)
    for arg_type in actions.TYPES:
        total += used[:, arg_type.id] * term(outputs["arguments"][arg_type.name], arg_type.id)
    return total


def action_log_prob(outputs, available, function_id, arg_indices):
    """[B] log pi(action), over the function and only the arguments it takes.

    `outputs` are the network's (argument heads conditioned on `function_id`); arg_indices [B, 13].
    """
    def term(logits, arg_type_id):
        index = function_id if arg_type_id is None else arg_indices[:, arg_type_id]
        return log_prob(logits, index)

    return _sum_over_action(outputs, available, function_id, term)


def action_log_prob_and_entropy(outputs, available, function_id, arg_indices):
    """[B] log pi(action) and entropy, over the function and only the arguments it takes."""
    return (action_log_prob(outputs, available, function_id, arg_indices),
            _sum_over_action(outputs, available, function_id, lambda logits, _: entropy(logits)))


def sample(logits, greedy, seed):
    """One index per row: the most likely one if `greedy` (a bool tensor), else a draw with the
    stateless `seed` ([2] int32: the same seed draws the same indices)."""
    distribution = Categorical(logits=logits, dtype=tf.int32)
    # tf.cond runs only the branch taken (tf.where would compute both).
    return tf.cond(greedy, distribution.mode, lambda: distribution.sample(seed=seed))


def all_finite(tensors):
    """Scalar bool: every value of every tensor is finite."""
    return tf.reduce_all([tf.reduce_all(tf.math.is_finite(t)) for t in tensors])


# ------------------------------------------------------------------------------ divergence
class DivergenceError(Exception):
    """Training produced non-finite losses, gradients or outputs; the message names the cause."""


def divergence_message(what, learning_rate):
    return (f"training diverged: {what}; the learning rate ({learning_rate:g}) is the likely "
            "cause: lower --learning_rate")


def divergence(error, learning_rate, progress, last_checkpoint):
    """The DivergenceError that stops a run: `error` (a DivergenceError, or another error whose
    message says what was not finite), where training stood and its last good checkpoint."""
    message = str(error) if isinstance(error, DivergenceError) else divergence_message(
        str(error), learning_rate)
    kept = (f"the last good checkpoint is {last_checkpoint} (--resume {last_checkpoint} goes on "
            "from it)" if last_checkpoint else "no training checkpoint was written")
    return DivergenceError(f"{message}; stopped at {progress}; {kept}.")


class SkippedUpdates:
    """Counts the updates skipped because their loss or gradient was not finite.

    `record(applied, step)` after every update; DivergenceError after MAX_SKIPPED_IN_A_ROW skips
    in a row, or half of the last RECENT_UPDATES.
    """

    def __init__(self, learning_rate, total=0):
        self.learning_rate = learning_rate
        self.total = total
        self.in_a_row = 0
        self.recent = collections.deque(maxlen=RECENT_UPDATES)  # True where skipped

    def record(self, applied, step):
        self.recent.append(not applied)
        if applied:
            self.in_a_row = 0
            return
        self.total += 1
        self.in_a_row += 1
        logging.warning("Skipped the update at %d: its loss or gradient is not finite (%d in a "
                        "row, %d in all)", step, self.in_a_row, self.total)
        if self.in_a_row >= MAX_SKIPPED_IN_A_ROW:
            what = f"{self.in_a_row} updates in a row had a non-finite loss or gradient"
        elif sum(self.recent) >= RECENT_UPDATES // 2:
            what = (f"{sum(self.recent)} of the last {len(self.recent)} updates had a "
                    "non-finite loss or gradient")
        else:
            return
        raise DivergenceError(divergence_message(what, self.learning_rate))

    def checkpoint_allowed(self):
        """Whether a training checkpoint may be written now: not while the latest update was
        skipped (a warning says so), when it would push a good checkpoint out of the few kept
        for weights that are about to diverge."""
        if self.in_a_row:
            logging.warning("No training checkpoint while updates are skipped; the last one is "
                            "kept.")
        return not self.in_a_row


# ------------------------------------------------------------------------------- returns/loss
def advantages_and_returns(rewards, dones, values, bootstrap_value, discount, gae_lambda):
    """GAE(lambda) advantages and value targets R = A + V of a [T, N] rollout.

    values [T, N] are V(s_t); bootstrap_value [N] is V(s_T), the value of the observation after
    the rollout, which stands in for the rewards beyond a segment cut before its episode's end.
    With gae_lambda = 1, R_t is the discounted n-step return.
    """
    next_values = tf.concat([values[1:], bootstrap_value[None]], axis=0)
    not_done = 1.0 - dones
    deltas = rewards + discount * not_done * next_values - values

    def backward(next_advantage, step):
        delta, continues = step
        return delta + discount * gae_lambda * continues * next_advantage

    advantages = tf.scan(backward, (deltas, not_done), initializer=tf.zeros_like(bootstrap_value),
                         reverse=True)
    return advantages, advantages + values


def vtrace_advantages_and_returns(log_rhos, rewards, dones, values, bootstrap_value, discount,
                                  gae_lambda=1.0, rho_bar=1.0, c_bar=1.0):
    """V-trace policy-gradient advantages and value targets v_s of a [T, N] unroll.

    IMPALA (Espeholt et al. 2018, equation 1 and section 4.2), with the episode ends of the unroll:
      rho_t = min(rho_bar, pi(a_t|x_t) / mu(a_t|x_t)),   c_t = gae_lambda * min(c_bar, pi / mu)
      gamma_t = discount * (1 - done_t)
      delta_t = rho_t * (r_t + gamma_t * V(x_{t+1}) - V(x_t))
      v_s = V(x_s) + delta_s + gamma_s * c_s * (v_{s+1} - V(x_{s+1})),   v_T = V(x_T)
      A_s = rho_s * (r_s + gamma_s * v_{s+1} - V(x_s))
    log_rhos [T, N] are log pi(a_t|x_t) - log mu(a_t|x_t); values [T, N] are V(x_t) and
    bootstrap_value [N] is V(x_T), all the learner's. On-policy (log_rhos = 0) v_s is the target
    R_t of `advantages_and_returns` with the same lambda, and with lambda = 1, A_s is its A_t.
    """
    ratios = tf.exp(log_rhos)
    rhos = tf.minimum(rho_bar, ratios)
    traces = gae_lambda * tf.minimum(c_bar, ratios)
    discounts = discount * (1.0 - dones)
    next_values = tf.concat([values[1:], bootstrap_value[None]], axis=0)
    deltas = rhos * (rewards + discounts * next_values - values)

    def backward(next_correction, step):  # corrections are v_s - V(x_s)
        delta, step_discount, trace = step
        return delta + step_discount * trace * next_correction

    corrections = tf.scan(backward, (deltas, discounts, traces),
                          initializer=tf.zeros_like(bootstrap_value), reverse=True)
    targets = values + corrections
    next_targets = tf.concat([targets[1:], bootstrap_value[None]], axis=0)
    return rhos * (rewards + discounts * next_targets - values), targets


def a2c_loss(outputs, available, function_id, arg_indices, advantages, returns, config):
    """The loss terms of the module docstring; returns a dict of scalars ("total" included).

    advantages and returns [B] are constants (computed from the values without gradient)."""
    values = outputs["value"]
    action_log_prob, action_entropy = action_log_prob_and_entropy(
        outputs, available, function_id, arg_indices)
    if config.normalize_advantages:
        mean, variance = tf.nn.moments(advantages, axes=[0])
        advantages = (advantages - mean) / (tf.sqrt(variance) + 1e-8)
    policy_loss = -tf.reduce_mean(action_log_prob * advantages)
    value_loss = tf.reduce_mean(tf.square(returns - values))
    mean_entropy = tf.reduce_mean(action_entropy)
    total = (policy_loss + config.value_loss_weight * value_loss
             - config.entropy_weight * mean_entropy)
    return {"total": total, "policy_loss": policy_loss, "value_loss": value_loss,
            "entropy": mean_entropy}


# ------------------------------------------------------------------------------------ agent
Rollout = collections.namedtuple("Rollout", [
    "inputs",            # utils.preprocess arrays, [T * N, ...] time-major
    "reset",             # [T * N] 1.0 where an observation starts an episode
    "function_id",       # [T * N] int32 taken functions
    "arg_indices",       # [T * N, 13] int32 taken argument indices, -1 unused
    "rewards",           # [T, N]
    "dones",             # [T, N]
    "bootstrap_value",   # [N] V(s_T) of the observation after the rollout
    "initial_state",     # {"state_h", "state_c"} [N, state_size] before the rollout
])


Unroll = collections.namedtuple("Unroll", [
    "inputs",              # utils.preprocess arrays, [(T + 1) * N, ...] time-major: the T
                           # observations acted on, then x_T, the one after them
    "reset",               # [(T + 1) * N] 1.0 where an observation starts an episode
    "function_id",         # [T * N] int32 taken functions
    "arg_indices",         # [T * N, 13] int32 taken argument indices, -1 unused
    "behaviour_log_prob",  # [T * N] log mu(a_t|x_t) under the policy that acted
    "rewards",             # [T, N]
    "dones",               # [T, N]
    "initial_state",       # {"state_h", "state_c"} [N, state_size] before the unroll
])


class A2CAgent:
    """Acts on preprocessed observations and trains one network by A2C.

    Args:
      model: a network of `network.make_model`.
      config: A2CConfig.
      seed: seed of the generator actions are sampled with (`generator`, checkpointed).
      argument_temperature: acting draws each argument from its logits divided by this (below 1:
        sharper, the most likely point more often; the function is drawn from the policy as it
        is). For evaluation only: the log-probabilities `behaviour_step` reports, and what A2C
        learns, are those of the policy itself.
    """

    def __init__(self, model, config=hyperparameters.A2CConfig(), seed=0,
                 argument_temperature=1.0):
        if argument_temperature <= 0:
            raise ValueError(f"argument_temperature must be positive, not {argument_temperature}")
        self.model = model
        self.config = config
        self.argument_temperature = argument_temperature
        self.generator = tf.random.Generator.from_seed(seed)
        self.optimizer = make_optimizer(config)
        # Creating the optimiser's slots now keeps variable creation out of the traced update.
        self.optimizer.build(model.trainable_variables)
        self.trace_counts = collections.Counter()

        inputs = _input_signature(model.spec)
        state = {name: tf.TensorSpec((None, model.state_size), tf.float32)
                 for name in ("state_h", "state_c")}
        vector = tf.TensorSpec((None,), tf.float32)
        self._policy_step = tf.function(self._policy_step_graph, input_signature=[
            inputs, vector, state, tf.TensorSpec((), tf.bool)])
        self._value = tf.function(self._value_graph, input_signature=[inputs, vector, state])
        self._train_step = tf.function(self._train_step_graph, input_signature=[
            inputs, vector, tf.TensorSpec((None,), tf.int32),
            tf.TensorSpec((None, utils.NUM_ARG_TYPES), tf.int32),
            tf.TensorSpec((None, None), tf.float32), tf.TensorSpec((None, None), tf.float32),
            vector, state])

    def initial_state(self, num_envs):
        return {name: value.numpy() for name, value in self.model.initial_state(num_envs).items()}

    # ---------------------------------------------------------------------------- acting
    def step(self, inputs, reset, state, greedy=False):
        """Choose one action per environment.

        Args:
          inputs: `utils.preprocess` arrays of N observations.
          reset: [N] 1.0 where the observation is the first of an episode.
          state: the recurrent state after the previous step (initial_state at the start).
          greedy: take the most likely function and arguments instead of sampling.
        Returns:
          (function_id [N] int, arg_indices [N, 13] int with -1 unused, value [N], next state).
        Raises:
          DivergenceError if the network's logits are not finite (its weights have diverged).
        """
        function_id, arg_indices, value, _, next_state = self._act(inputs, reset, state, greedy)
        return (function_id.numpy(), arg_indices.numpy(), value.numpy(),
                {name: v.numpy() for name, v in next_state.items()})

    def behaviour_step(self, inputs, reset, state):
        """`step`, sampling, with the log-probability of each sampled action under the policy
        that chose it (what an IMPALA actor sends for V-trace).

        Returns:
          (function_id [N], arg_indices [N, 13], log_prob [N], next state).
        """
        function_id, arg_indices, _, log_prob, next_state = self._act(inputs, reset, state,
                                                                      False)
        return (function_id.numpy(), arg_indices.numpy(), log_prob.numpy(),
                {name: v.numpy() for name, v in next_state.items()})

    def _act(self, inputs, reset, state, greedy):
        *outputs, finite = self._policy_step(inputs, np.asarray(reset, np.float32), state,
                                             tf.constant(greedy))
        if not finite:
            raise DivergenceError(divergence_message("the network's action logits are not "
                                                     "finite", float(self.optimizer.learning_rate)))
        return outputs

    def value(self, inputs, reset, state):
        """V(s) [N] of N observations, without changing anything."""
        return self._value(inputs, np.asarray(reset, np.float32), state).numpy()

    def _policy_step_graph(self, inputs, reset, state, greedy):
        self._count_trace("policy_step")
        batch = tf.shape(reset)[0]
        # The argument heads score the arguments of the function just sampled.
        encoded = self.model.encode(self._model_inputs(inputs, reset, state,
                                                       tf.zeros([batch], tf.int32)))
        # One stateless seed per distribution: the function and each argument type.
        seeds = self.generator.uniform_full_int([1 + utils.NUM_ARG_TYPES, 2], tf.int32)
        function_id = sample(mask_unavailable(encoded["function"], inputs["available_actions"]),
                             greedy, seeds[0])
        arguments = self.model.argument_logits(encoded, function_id)
        arg_indices = tf.stack([sample(arguments[arg_type.name] / self.argument_temperature,
                                       greedy, seeds[1 + arg_type.id])
                                for arg_type in actions.TYPES], axis=1)
        arg_indices = tf.where(arguments_used(function_id) > 0, arg_indices, -1)
        log_prob = action_log_prob({"function": encoded["function"], "arguments": arguments},
                                   inputs["available_actions"], function_id, arg_indices)
        next_state = {"state_h": encoded["state_h"], "state_c": encoded["state_c"]}
        finite = all_finite([encoded["function"], *arguments.values()])
        return function_id, arg_indices, encoded["value"], log_prob, next_state, finite

    def _value_graph(self, inputs, reset, state):
        self._count_trace("value")
        batch = tf.shape(reset)[0]
        return self.model.encode(self._model_inputs(inputs, reset, state,
                                                    tf.zeros([batch], tf.int32)))["value"]

    # --------------------------------------------------------------------------- learning
    def train(self, rollout):
        """One A2C update on a Rollout; returns a dict of float metrics ("applied": 0.0 when the
        update was skipped for a non-finite loss or gradient)."""
        return self._update(self._train_step, rollout)

    @staticmethod
    def _update(step, rollout):
        """Run `step` (a traced update with _train_step's signature) on a Rollout -> float
        metrics."""
        metrics = step(
            rollout.inputs, np.asarray(rollout.reset, np.float32),
            np.asarray(rollout.function_id, np.int32), np.asarray(rollout.arg_indices, np.int32),
            np.asarray(rollout.rewards, np.float32), np.asarray(rollout.dones, np.float32),
            np.asarray(rollout.bootstrap_value, np.float32), rollout.initial_state)
        return {name: float(value) for name, value in metrics.items()}

    def _train_step_graph(self, inputs, reset, function_id, arg_indices, rewards, dones,
                          bootstrap_value, initial_state):
        self._count_trace("train_step")
        return self._apply_gradients(lambda: self._a2c_terms(
            inputs, reset, function_id, arg_indices, rewards, dones, bootstrap_value,
            initial_state))

    def _a2c_terms(self, inputs, reset, function_id, arg_indices, rewards, dones,
                   bootstrap_value, initial_state):
        """a2c_loss's terms on a rollout (with any `_penalties`), the mean value and return."""
        model_inputs = self._model_inputs(inputs, reset, initial_state, function_id)
        outputs = self.model(model_inputs, training=True)
        values = tf.reshape(tf.stop_gradient(outputs["value"]), tf.shape(rewards))
        advantages, returns = advantages_and_returns(
            rewards, dones, values, bootstrap_value, self.config.discount,
            self.config.gae_lambda)
        terms = a2c_loss(outputs, inputs["available_actions"], function_id, arg_indices,
                         tf.reshape(advantages, [-1]), tf.reshape(returns, [-1]), self.config)
        terms = self._penalties(terms, model_inputs, outputs)
        return {**terms, "mean_value": tf.reduce_mean(outputs["value"]),
                "mean_return": tf.reduce_mean(returns)}

    def _penalties(self, terms, model_inputs, outputs):
        """`terms` with penalty terms added to "total"; none here (finetune.FineTuneAgent adds
        a KL penalty toward a reference policy)."""
        del model_inputs, outputs
        return terms

    def _apply_gradients(self, losses, objective="total", variables=None, optimizer=None):
        """Differentiate losses()[objective] with respect to `variables` (default: all of the
        model's), clip to a global norm and apply with `optimizer` (default: the agent's), unless
        the loss or the gradient is not finite; returns the metrics ("applied": 0.0 when
        skipped)."""
        variables = self.model.trainable_variables if variables is None else variables
        optimizer = optimizer or self.optimizer
        with tf.GradientTape() as tape:
            metrics = losses()
        gradients = tape.gradient(metrics[objective], variables)
        gradients, grad_norm = tf.clip_by_global_norm(gradients, self.config.gradient_clipping)
        finite = tf.math.is_finite(metrics[objective]) & tf.math.is_finite(grad_norm)
        applied = apply_if_finite(optimizer, gradients, variables, finite)
        return {**metrics, "grad_norm": grad_norm, "applied": tf.cast(applied, tf.float32),
                "learning_rate": tf.convert_to_tensor(optimizer.learning_rate)}

    # --------------------------------------------------------------------------- helpers
    @staticmethod
    def _model_inputs(inputs, reset, state, function_id):
        return {**inputs, "reset": reset, "function_id": function_id, **state}

    def _count_trace(self, name):
        # Runs only while TensorFlow traces the function, never on later calls.
        self.trace_counts[name] += 1
        logging.info("Tracing %s (trace %d)", name, self.trace_counts[name])


class VTraceAgent(A2CAgent):
    """A2CAgent's acting, trained by V-trace on unrolls acted by an older copy of the policy.

    Args:
      model: a network of `network.make_model`.
      config: VTraceConfig.
      seed: of the generator that samples actions (each actor needs its own).
    """

    def __init__(self, model, config=hyperparameters.VTraceConfig(), seed=0):
        super().__init__(model, config, seed)
        vector = tf.TensorSpec((None,), tf.float32)
        matrix = tf.TensorSpec((None, None), tf.float32)
        state = {name: tf.TensorSpec((None, model.state_size), tf.float32)
                 for name in ("state_h", "state_c")}
        self._vtrace_step = tf.function(self._vtrace_step_graph, input_signature=[
            _input_signature(model.spec), vector, tf.TensorSpec((None,), tf.int32),
            tf.TensorSpec((None, utils.NUM_ARG_TYPES), tf.int32), vector, matrix, matrix, state])

    def train(self, unroll):
        """One V-trace update on an Unroll; returns a dict of float metrics."""
        metrics = self._vtrace_step(
            unroll.inputs, np.asarray(unroll.reset, np.float32),
            np.asarray(unroll.function_id, np.int32), np.asarray(unroll.arg_indices, np.int32),
            np.asarray(unroll.behaviour_log_prob, np.float32),
            np.asarray(unroll.rewards, np.float32), np.asarray(unroll.dones, np.float32),
            unroll.initial_state)
        return {name: float(value) for name, value in metrics.items()}

    def _vtrace_step_graph(self, inputs, reset, function_id, arg_indices, behaviour_log_prob,
                           rewards, dones, initial_state):
        self._count_trace("vtrace_step")
        config = self.config
        steps, num_envs = tf.shape(rewards)[0], tf.shape(rewards)[1]
        acted = steps * num_envs  # the rows acted on; the last num_envs rows are x_T
        # No action was taken at x_T: any function id serves its unused argument heads.
        every_function_id = tf.concat([function_id, tf.zeros([num_envs], tf.int32)], axis=0)

        def losses():
            outputs = self.model(
                self._model_inputs(inputs, reset, initial_state, every_function_id),
                training=True)
            values = tf.reshape(tf.stop_gradient(outputs["value"]), [steps + 1, num_envs])
            acted_outputs = tf.nest.map_structure(
                lambda x: x[:acted],
                {name: outputs[name] for name in ("function", "arguments", "value")})
            available = inputs["available_actions"][:acted]
            log_prob, _ = action_log_prob_and_entropy(acted_outputs, available, function_id,
                                                      arg_indices)
            log_rhos = tf.reshape(tf.stop_gradient(log_prob) - behaviour_log_prob,
                                  [steps, num_envs])
            advantages, returns = vtrace_advantages_and_returns(
                log_rhos, rewards, dones, values[:-1], values[-1], config.discount,
                config.gae_lambda, config.rho_bar, config.c_bar)
            terms = a2c_loss(acted_outputs, available, function_id, arg_indices,
                             tf.reshape(advantages, [-1]), tf.reshape(returns, [-1]), config)
            return {**terms, "mean_value": tf.reduce_mean(values[:-1]),
                    "mean_return": tf.reduce_mean(returns),
                    "mean_rho": tf.reduce_mean(tf.minimum(config.rho_bar, tf.exp(log_rhos)))}

        return self._apply_gradients(losses)


def apply_if_finite(optimizer, gradients, variables, finite):
    """Apply the gradients only where `finite` (a scalar bool tensor, the same on every replica)
    holds; returns it."""
    def apply():
        optimizer.apply_gradients(zip(gradients, variables))
        return tf.constant(True)

    def skip():
        return tf.constant(False)

    if not tf.distribute.has_strategy() or \
            tf.__internal__.distribute.strategy_supports_no_merge_call():
        return tf.cond(finite, apply, skip)

    # Under a strategy that synchronises replicas by merge_call (MirroredStrategy),
    # apply_gradients calls merge_call, which may not run in a tf.cond inside a replica: decide
    # in the cross-replica context instead, as keras.optimizers.LossScaleOptimizer does.
    def cross_replica(distribution, finite, gradients):
        def apply_on_every_replica():
            distribution.extended.call_for_each_replica(
                lambda replica_gradients: optimizer.apply_gradients(
                    zip(replica_gradients, variables)), args=(gradients,))
            return tf.constant(True)

        return tf.cond(distribution.experimental_local_results(finite)[0],
                       apply_on_every_replica, skip)

    return tf.distribute.get_replica_context().merge_call(cross_replica,
                                                          args=(finite, gradients))


def _input_signature(spec):
    signature = {}
    for name, shape in spec.input_shapes().items():
        dtype = tf.int32 if name == "entity_count" else tf.float32
        signature[name] = tf.TensorSpec((None,) + shape, dtype)
    return signature
