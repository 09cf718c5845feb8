"""`python -m minigames.play` reports its games and how many of the agent's actions the game refused."""
import collections
import json
import os
import subprocess
import sys

import numpy as np
from s2clientprotocol import error_pb2

from agents.marine_rush import MarineRush
from tests.engine_helpers import simple64_against_very_easy

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SEED = 3  # (any game: the marine rush orders Marines into full queues, which the game refuses)


def refusals_of_one_game(seed):
    """The marine rush's game of `seed`, as `minigames.play --seed` plays it, counted here."""
    np.random.seed(seed)
    env = simple64_against_very_easy(seed=seed)
    agent = MarineRush()
    agent.setup(env.observation_spec()[0], env.action_spec()[0])
    agent.reset()
    timestep, = env.reset()
    refused = collections.Counter()
    while True:
        refused.update(error_pb2.ActionResult.Name(int(r))
                       for r in timestep.observation.action_result)
        if timestep.last():
            return int(timestep.reward), dict(refused)
        timestep, = env.step([agent.step(timestep)])


def test_play_reports_the_outcome_and_the_refused_actions_by_reason():
    result = subprocess.run(
        [sys.executable, "-m", "minigames.play", "--map_name", "Simple64", "--agent",
         "agents.marine_rush.MarineRush", "--episodes", "1", "--screen_size", "32",
         "--minimap_size", "32", "--seed", str(SEED), "--backend", "embedded"],
        cwd=REPO, capture_output=True, text=True, check=True,
        env={**os.environ, "PYTHONPATH": REPO})
    report = json.loads(result.stdout.strip().splitlines()[-1])
    outcome, refused = refusals_of_one_game(SEED)
    assert refused, "the game refused nothing: the test shows nothing"
    assert report["refused"] == refused
    assert (report["wins"], report["losses"], report["ties"]) == (
        int(outcome == 1), int(outcome == -1), int(outcome == 0))
