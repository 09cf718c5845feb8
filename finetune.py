"""A2C from a loaded (supervised) network that keeps what the network learned.

Started at A2C's own learning rate from a supervised checkpoint, A2C destroyed it: the 100-episode
mean of a FullyConv imitating the scripted agent fell from 25.6 to 1.2 within 30,000 agent steps
(issue 13). Supervised learning never trains the value head, so the first advantages are the
returns minus an arbitrary value, large and of one sign over whole rollouts, and the first updates
push the policy far from the one it learned. Two remedies, both AlphaStar's (Vinyals et al. 2019
fine-tune with a KL term toward the supervised policy and a critic that learns first):

- critic warm-up: during the first `critic_warmup_steps` agent steps (A2CConfig) the updates
  minimise only the value loss, over only the value head's variables (their own optimiser), so
  the policy is untouched and A2C's first policy updates see the advantages of a trained critic;
- a KL penalty toward the loaded policy: the loss adds
      kl_weight * mean_t KL(pi(.|s_t) || pi_ref(.|s_t))
  where pi_ref is a frozen copy of the loaded network and the KL of an action is that of the
  (masked) function distribution plus, for each argument the taken function uses, that of the
  argument's distribution (`policy_kl`). KL(pi || pi_ref) rather than KL(pi_ref || pi): it
  charges the policy for putting probability where the supervised one put almost none.

The reference network reads the rollout with the learner's recurrent state at the rollout's
start (for the AlphaStar-style network's LSTM; FullyConv has none): its own state would differ a
little, which only makes the penalty an approximation for recurrent networks.

hyperparameters.FINETUNE_DEFAULTS are what run.py uses when training starts from a loaded model
and the flags are not given: both remedies and a tenth of A2C's learning rate (its comment says
why the KL weight is 0.5). `python -m bench.finetune_from_sl` measured the choices on FullyConv
imitating the scripted agent (sampled score 25.58; README: "A2C from a supervised checkpoint"),
lowest and final 100-episode means over 60,000 agent steps, with a KL weight of 0.1: A2C's own
rate 5e-3 alone 0.94 and 0.99; 5e-4 alone 15.93 and 15.93; the warm-up alone 0.89 and 1.04; the
penalty alone 23.01 (90.0%) and 25.52; warm-up and penalty at 5e-3 23.05 and 25.12; all three
25.17 and 25.18 (98.4%). Adam moves every weight by about the learning rate per update whatever
the gradient's size, so at 5e-3 even good advantages shake a sharp supervised policy (entropy
0.04) apart.
"""
import tensorflow as tf

import agent as agent_lib
from pysc2.lib import actions



def policy_kl(outputs, reference, available, function_id):
    """[B] KL(pi || pi_ref) of each step's action distribution: the masked function
    distributions, plus the argument distributions of the arguments `function_id` takes.

    `outputs` and `reference` are two networks' outputs on the same inputs (argument heads
    conditioned on `function_id`)."""
    def kl(logits, reference_logits):
        return agent_lib.Categorical(logits=logits).kl_divergence(
            agent_lib.Categorical(logits=reference_logits))

    total = kl(agent_lib.mask_unavailable(outputs["function"], available),
               agent_lib.mask_unavailable(reference["function"], available))
    used = agent_lib.arguments_used(function_id)
    for arg_type in actions.TYPES:
        total += used[:, arg_type.id] * kl(outputs["arguments"][arg_type.name],
                                           reference["arguments"][arg_type.name])
    return total


class FineTuneAgent(agent_lib.A2CAgent):
    """A2CAgent with a KL penalty toward `reference_model` (config.kl_weight) and a critic-only
    update for the warm-up (`train_critic`; the training loop calls it for the first
    config.critic_warmup_steps agent steps).

    Args:
      model: the network to train (loaded from the same weights as reference_model).
      config: A2CConfig.
      reference_model: a frozen network of the policy to stay near (None: no penalty).
      seed: as A2CAgent's.
    """

    def __init__(self, model, config, reference_model=None, seed=0):
        super().__init__(model, config, seed)
        self.reference_model = reference_model
        if reference_model is not None:
            reference_model.trainable = False
        self.critic_optimizer = agent_lib.make_optimizer(config)
        self.critic_optimizer.build(model.value_head.trainable_variables)
        self._critic_step = tf.function(self._critic_step_graph,
                                        input_signature=self._train_step.input_signature)

    def train_critic(self, rollout):
        """One update of the value head alone on a Rollout; the metrics of `train`."""
        return self._update(self._critic_step, rollout)

    def _critic_step_graph(self, inputs, reset, function_id, arg_indices, rewards, dones,
                           bootstrap_value, initial_state):
        self._count_trace("critic_step")
        return self._apply_gradients(
            lambda: self._a2c_terms(inputs, reset, function_id, arg_indices, rewards, dones,
                                    bootstrap_value, initial_state),
            objective="value_loss", variables=self.model.value_head.trainable_variables,
            optimizer=self.critic_optimizer)

    def _penalties(self, terms, model_inputs, outputs):
        if self.reference_model is None:
            return terms
        reference = self.reference_model(model_inputs, training=False)
        kl = tf.reduce_mean(policy_kl(outputs, reference, model_inputs["available_actions"],
                                      model_inputs["function_id"]))
        return {**terms, "total": terms["total"] + self.config.kl_weight * kl, "kl": kl}
