"""bench.game_summary (bench.build_order's figures): what it reports of a game's build and train actions."""
import types

import keras
import numpy as np
import pytest
from pysc2.env import environment
from pysc2.lib import actions
from s2clientprotocol import error_pb2

import minigames
import network
import utils
from bench import game_summary

F = actions.FUNCTIONS


class ScriptedGame:
    """Three agent steps; the game refuses the Supply Depot ordered at the first one."""

    def __init__(self):
        self.loop = 0

    def timestep(self, step_type, action_result=()):
        player = types.SimpleNamespace(army_count=0, minerals=75, food_used=13, food_cap=15)
        observation = types.SimpleNamespace(game_loop=[self.loop], player=player,
                                            action_result=list(action_result))
        reward = -1 if step_type == environment.StepType.LAST else 0
        return environment.TimeStep(step_type, reward, 1.0, observation)

    def reset(self):
        return [self.timestep(environment.StepType.FIRST)]

    def step(self, calls):
        self.loop += 8
        refused = [error_pb2.CantFindPlacementLocation] if self.loop == 8 else []
        last = self.loop == 24
        return [self.timestep(environment.StepType.LAST if last else environment.StepType.MID,
                              refused)]


def test_a_refused_build_is_reported_with_the_games_reason():
    calls = iter([F.Build_SupplyDepot_screen("now", (3, 4)), F.Train_SCV_quick("now"),
                  F.Attack_minimap("now", (20, 20))])
    summary = game_summary.play(ScriptedGame(), lambda timestep: next(calls), count=10)
    assert summary["actions"] == [
        {"game_loop": 0, "function": "Build_SupplyDepot_screen", "accepted": False,
         "refused": ["CantFindPlacementLocation"]},
        {"game_loop": 8, "function": "Train_SCV_quick", "accepted": True}]
    assert summary["attacks"] == [{"game_loop": 16, "army": 0}]
    assert summary["outcome"] == -1
    assert summary["end"] == {"game_loop": 24, "army": 0, "minerals": 75, "supply": [13, 15]}


def test_likeliest_functions_are_the_available_ones_by_the_networks_probability():
    keras.utils.set_random_seed(0)
    spec = utils.Spec(16, 16)
    model = network.make_model("fullyconv", spec)
    env = minigames.BatchEnv(num_envs=1, screen_size=16, minimap_size=16, seed=0)
    inputs = utils.preprocess(env.reset(), spec)
    available = [F.no_op.id, F.select_army.id, F.Move_screen.id]
    inputs["available_actions"][:] = 0.0
    inputs["available_actions"][0, available] = 1.0
    reset, memory = np.ones(1, np.float32), model.initial_state(1)
    likeliest = game_summary.likeliest_functions(model, inputs, reset, memory, top=2)
    logits = model.encode({**inputs, "reset": reset, "function_id": np.zeros(1, np.int32),
                           **memory})["function"][0].numpy()[available]
    probabilities = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()
    expected = {F[f].name: p for f, p in zip(available, probabilities)}
    two_best = sorted(expected, key=expected.get, reverse=True)[:2]
    assert list(likeliest) == two_best
    assert list(likeliest.values()) == pytest.approx([expected[n] for n in two_best], abs=1e-3)
