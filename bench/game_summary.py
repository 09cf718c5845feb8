"""One game's summary for `bench.build_order`: its build and train actions, attacks and end.

Apart from the benchmark (which defines command-line flags) so that a test can import it.
"""
from pysc2.lib import actions
from s2clientprotocol import error_pb2

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
