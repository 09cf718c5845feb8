"""The first build and train actions of the Simple64 demonstrator and of an imitating network.

    python -m bench.build_order --model_path Models/Simple64_alphastar_sl_<...>.weights.h5

Plays one game of seed `--seed` against the built-in AI with the marine rush
(`agents.marine_rush.MarineRush`) and one with the network (the AlphaStar-style one unless
`--model_name` says otherwise; its most likely actions with `--greedy`), on the embedded engine's
pysc2 `SC2Env`, and prints one JSON line: each player's first `--count` actions whose function is
a Build_* or Train_* one (with the game loop it was issued at, whether the game accepted it and,
if not, why: the names of the ActionResult codes the game gave),
every attack order (its game loop and the army count then), how each game ended (its outcome,
last game loop, army, minerals and supply). With `--trace_until LOOP`, the network's part also
lists, for each of its steps up to that game loop, the minerals, the supply and its three likeliest
functions with their probabilities (among the available ones): where it leaves the demonstrator's
build order, this shows how close it came to the demonstrator's choice.
"""
import json

import keras
import numpy as np
from absl import app, flags

import minigames  # first: it applies pysc2's Python 3.11 fix
from minigames import batch_format, pysc2_batch_env

import agent as agent_lib
import checkpoints
import hyperparameters
import network
import utils
from agents.marine_rush import MarineRush
from bench import game_summary

flags.DEFINE_string("model_path", None, "Weights file of the network (run.py's Models/).")
flags.DEFINE_string("model_name", "alphastar", "Network of the weights file.")
flags.DEFINE_integer("size", 32, "Screen and minimap resolution (the model's).")
flags.DEFINE_integer("seed", 1, "Seed of both games.")
flags.DEFINE_integer("count", 10, "Build and train actions to list.")
flags.DEFINE_string("difficulty", "very_easy", "The built-in AI's difficulty.")
flags.DEFINE_bool("greedy", False, "The network takes its most likely actions (else it samples).")
flags.DEFINE_float("argument_temperature", 1.0, "The network draws its arguments from their "
                   "logits divided by this (run.py's flag of that name).")
flags.DEFINE_integer("trace_until", 0, "List the network's three likeliest functions at each "
                     "of its steps up to this game loop (0: none).")
flags.mark_flag_as_required("model_path")
FLAGS = flags.FLAGS


def make_env(uses_feature_units):
    return minigames.SC2Env(**pysc2_batch_env.env_kwargs(
        "Simple64", FLAGS.size, FLAGS.size, 8, uses_feature_units, FLAGS.seed,
        difficulty=FLAGS.difficulty))


def network_player(spec, trace):
    """(model, choose): choose(timestep) -> the network's FunctionCall; with --trace_until,
    each step up to that game loop is appended to `trace`."""
    model = network.make_model(FLAGS.model_name, spec)
    checkpoints.load_model(model, FLAGS.model_path, spec)
    agent = agent_lib.A2CAgent(model, hyperparameters.A2CConfig(), seed=FLAGS.seed,
                               argument_temperature=FLAGS.argument_temperature)
    state = {"memory": agent.initial_state(1), "reset": np.ones(1, np.float32)}

    def choose(timestep):
        batch = batch_format.stack_observations([timestep.observation])
        inputs = utils.preprocess(batch, spec)
        loop = int(timestep.observation.game_loop[0])
        if loop <= FLAGS.trace_until:
            player = timestep.observation.player
            likeliest = game_summary.likeliest_functions(model, inputs, state["reset"],
                                                         state["memory"])
            trace.append({"game_loop": loop, "minerals": int(player.minerals),
                          "supply": [int(player.food_used), int(player.food_cap)],
                          "likeliest": likeliest})
        function_id, arg_indices, _, state["memory"] = agent.step(
            inputs, state["reset"], state["memory"], FLAGS.greedy)
        state["reset"] = np.zeros(1, np.float32)
        return utils.to_function_call(function_id[0], arg_indices[0], spec.screen_size,
                                      spec.minimap_size)
    return model, choose


def main(argv):
    del argv
    keras.utils.set_random_seed(FLAGS.seed)
    spec = utils.Spec(FLAGS.size, FLAGS.size)
    rush = MarineRush()
    env = make_env(uses_feature_units=True)
    rush.setup(env.observation_spec()[0], env.action_spec()[0])
    rush.reset()
    demonstrator = game_summary.play(env, rush.step, FLAGS.count)
    trace = []
    model, choose = network_player(spec, trace)
    imitator = game_summary.play(make_env(model.uses_feature_units), choose, FLAGS.count)
    if FLAGS.trace_until:
        imitator["likeliest_functions"] = trace
    print(json.dumps({"benchmark": "build_order", "seed": FLAGS.seed,
                      "difficulty": FLAGS.difficulty, "model": FLAGS.model_path,
                      "demonstrator": demonstrator, "network": imitator}))


if __name__ == "__main__":
    app.run(main)
