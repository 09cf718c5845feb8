"""bench.game_summary (bench.build_order's figures): what it reports of a game's build and train actions."""
import types

from pysc2.env import environment
from pysc2.lib import actions
from s2clientprotocol import error_pb2

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
