"""Every hyperparameter of the project's learners, declared once, in a module that imports no
TensorFlow: run.py checks its flags against these before the heavy imports.

    A2CConfig / VTraceConfig   the A2C agent (agent.py) and the V-trace learner (distributed.py)
    NETWORK_DEFAULTS           where a network departs from A2CConfig's defaults
    FINETUNE_DEFAULTS          A2C's settings when it starts from a loaded (supervised) model
    SLConfig                   supervised learning (supervised.py)
"""
import dataclasses

# The names of network.MODELS (tests/test_network.py checks that the two agree).
MODEL_NAMES = ("fullyconv", "alphastar")


@dataclasses.dataclass(frozen=True)
class A2CConfig:
    """Every hyperparameter of the A2C agent, declared once.

    The defaults learn MoveToBeacon with FullyConv at 16x16 on 16 environments (see the README's
    results). Deviations from the replicated code (RMSprop lr 1e-4, epsilon 1e-5, clipping 1.0):
    - Adam with learning rate 5e-3. Measured on the embedded MoveToBeacon with the function choice
      restricted to select_army/Move_screen: at 5e-4 (Reaver's rate) the share of clicks near the
      beacon stayed at the uniform 5% for 200,000 agent steps; at 2e-3 it began to rise after
      100,000; at 5e-3 the 100-episode mean reached 25 within 150,000. The reward is sparse and
      delayed (a good click pays only if no later click redirects the marine), so each update's
      gradient is mostly noise, and Adam's per-weight steps, bounded by the learning rate, then
      drift slowly: the drift per sample grows with the learning rate.
    - n-step returns (gae_lambda 1), no advantage normalisation, clipping at a global norm of 100
      and entropy weight 5e-4, as Reaver's MoveToBeacon configuration.
    """
    learning_rate: float = 5e-3
    discount: float = 0.99
    gae_lambda: float = 1.0  # 1.0: the n-step returns of plain A2C; < 1: GAE(lambda)
    n_steps: int = 16  # rollout length T: environment steps per update
    value_loss_weight: float = 0.5
    entropy_weight: float = 5e-4
    gradient_clipping: float = 100.0  # global norm
    optimizer: str = "adam"  # "adam" or "rmsprop" (rho 0.99, as the original)
    optimizer_epsilon: float = 1e-5
    normalize_advantages: bool = False  # standardise advantages over each update's batch
    # Fine-tuning a loaded (supervised) network, finetune.py: the weight of the KL penalty toward
    # the loaded policy, and the agent steps at the start that train only the value head.
    kl_weight: float = 0.0
    critic_warmup_steps: int = 0


@dataclasses.dataclass(frozen=True)
class VTraceConfig(A2CConfig):
    """A2CConfig, plus the clipping of V-trace's importance weights pi(a|x) / mu(a|x).

    rho_bar = c_bar = 1 as in IMPALA's experiments. gae_lambda is V-trace's lambda (c_t is
    lambda * min(c_bar, pi / mu)); n_steps is the unroll length T each actor sends.
    """
    rho_bar: float = 1.0  # clips the weights of the temporal differences and the policy gradient
    c_bar: float = 1.0  # clips the traces that carry later corrections back in time


# Where a network departs from A2CConfig's defaults (measured on MoveToBeacon, 16 environments).
NETWORK_DEFAULTS = {
    # Measured on the AlphaStar-style network, seed 1:
    # - epsilon 1e-3: its argument heads read a 256-wide, all-positive autoregressive embedding.
    #   With epsilon 1e-5, Adam's first, sign-like steps moved their logits by several units per
    #   update: `queued` was 91% "queued" after 40 updates, the marine followed stale waypoint
    #   queues and the score fell to 0.2 (random play: 1).
    # - learning rate 2e-3 and clipping at a global norm of 1: with 5e-3 or 2e-3 and clipping at
    #   100, the mean rose to 4 to 6 as the first rewards came, then the gradient spike of the
    #   new returns (norm ~100) collapsed the policy to 0.2; clipped at 1, it reached 20. With
    #   5e-3 clipped at 1, seed 3 collapsed too (mean 0.1 after 1.1M agent steps), where 2e-3
    #   reached 20 after 495,000.
    "alphastar": {"optimizer_epsilon": 1e-3, "learning_rate": 2e-3, "gradient_clipping": 1.0},
}


def default_config(model_name):
    """A2CConfig with the defaults of network `model_name`."""
    return dataclasses.replace(A2CConfig(), **NETWORK_DEFAULTS.get(model_name, {}))


# What A2C uses when it starts from a loaded (supervised) model, finetune.py: measured by
# bench/finetune_from_sl.py on FullyConv (README, "A2C from a supervised checkpoint"). Over
# 300,000 agent steps a KL weight of 0.5 kept the 100-episode mean at 98.9% of the SL agent's or
# above and ended level with it on the same games; 0.1 dipped to 94.8% and ended 0.6% below.
FINETUNE_DEFAULTS = {"kl_weight": 0.5, "critic_warmup_steps": 20_000, "learning_rate": 5e-4}


# Supervised learning's tf.distribute strategies (supervised.make_strategy).
DISTRIBUTIONS = ("default", "mirrored", "multi_worker")


@dataclasses.dataclass(frozen=True)
class SLConfig:
    """Every hyperparameter of supervised learning, declared once."""
    learning_rate: float = 1e-3
    gradient_clipping: float = 10.0  # global norm of the batch's gradient
    max_examples: int = 1_000_000  # budget: training examples (observation/action pairs)
    batch_size: int = 64  # FullyConv: pairs per update, summed over replicas
    lanes: int = 8  # AlphaStar: trajectories walked side by side, summed over replicas
    sequence_length: int = 8  # AlphaStar: steps per chunk (truncated back-propagation)
    shuffle_buffer: int = 2048  # FullyConv: pairs (about 70 KB each at 16x16, 235 KB at 32x32)
    step_mul: int = 8  # pair the observations an agent acting every step_mul game loops sees
    held_out_every: int = 10  # every 10th game is held out
    eval_interval: int = 50_000  # training examples between held-out evaluations
    max_eval_examples: int = 20_000  # held-out examples per evaluation, at most
    log_interval: int = 10_000  # training examples between progress lines
    seed: int = 42
