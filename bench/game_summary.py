"""One game's summary for `bench.build_order`: its build and train actions, attacks and end; and
what a network would choose at one step.

Apart from the benchmark (which defines command-line flags) so that a test can import it.
"""
import numpy as np
import tensorflow as tf
from pysc2.lib import actions
from s2clientprotocol import error_pb2

import agent as agent_lib

BUILD_OR_TRAIN = {f.id for f in actions.FUNCTIONS if f.name.startswith(("Build_", "Train_"))}
ATTACK = {f.id for f in actions.FUNCTIONS if f.name.startswith("Attack_")}


def play(env, choose, count):
    """Play one game, `choose(timestep)` -> FunctionCall; returns its summary (the first `count`
    build and train actions)."""
    timestep = env.reset()[0]
    order, attacks = [], []
    while not timestep.last():
        call = choose(timestep)
        loop = int(timestep.observation.game_loop[0])
        army = int(timestep.observation.player.army_count)
        timestep = env.step([call])[0]
        if call.function in BUILD_OR_TRAIN and len(order) < count:
            refused = [error_pb2.ActionResult.Name(int(r))
                       for r in timestep.observation.action_result]
            order.append({"game_loop": loop, "function": actions.FUNCTIONS[call.function].name,
                          "accepted": not refused, **({"refused": refused} if refused else {})})
        if call.function in ATTACK:
            attacks.append({"game_loop": loop, "army": army})
    player = timestep.observation.player
    return {"outcome": int(timestep.reward), "actions": order, "attacks": attacks,
            "end": {"game_loop": int(timestep.observation.game_loop[0]),
                    "army": int(player.army_count), "minerals": int(player.minerals),
                    "supply": [int(player.food_used), int(player.food_cap)]}}


def likeliest_functions(model, inputs, reset, memory, top=3):
    """{function name: probability} of the `top` likeliest functions the network would choose
    from at the first of the `inputs` (unavailable ones masked, as the agent masks them), with
    `reset` and the recurrent state `memory` as the agent would step it."""
    encoded = model.encode({**inputs, "reset": reset, "function_id": np.zeros(len(reset), np.int32),
                            **memory})
    logits = agent_lib.mask_unavailable(encoded["function"], inputs["available_actions"])
    probabilities = tf.nn.softmax(logits)[0].numpy()
    return {actions.FUNCTIONS[f].name: round(float(probabilities[f]), 3)
            for f in np.argsort(-probabilities)[:top]}
