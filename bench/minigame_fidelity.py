"""DeepMind's agents on the embedded mini-games, next to the real game's published figures.

For each map, pysc2's `random_agent.RandomAgent` and every scripted agent pysc2 (or this project,
`agents/`) has for it play `--episodes` episodes through `pysc2.env.run_loop` on `minigames.SC2Env`
at 64x64 feature layers; one JSON line per map gives each agent's mean, std, min and max score and
the episode length in agent steps, beside SC2LE's published random-policy mean (and max) and, for
the economy maps, other published means for scale.

    python -m bench.minigame_fidelity [--episodes 30] [--maps MoveToBeacon,DefeatRoaches]
"""
import json

import numpy as np
from absl import app, flags, logging

import minigames
from agents import economy
from minigames import maps
from pysc2.agents import random_agent, scripted_agent
from pysc2.env import run_loop, sc2_env

flags.DEFINE_integer("episodes", 30, "Episodes per agent and map.")
flags.DEFINE_list("maps", sorted(maps.MINI_GAMES), "Mini-games to measure.")
flags.DEFINE_integer("size", 64, "Screen and minimap resolution.")
flags.DEFINE_integer("seed", 1, "Seed of the environments and of numpy (RandomAgent draws "
                     "from numpy's global generator).")
FLAGS = flags.FLAGS

# SC2LE (arXiv:1708.04782) Table 1, random policy: mean (max); pysc2_fidelity.md section 5.1.
SC2LE_RANDOM = {"MoveToBeacon": (1, 6), "CollectMineralShards": (17, 35),
                "FindAndDefeatZerglings": (4, 19), "DefeatRoaches": (1, 46),
                "DefeatZerglingsAndBanelings": (23, 118), "CollectMineralsAndGas": (12, 750),
                "BuildMarines": (0, 5)}
# Other published means for scale (pysc2_fidelity.md section 5.1, engine_data.md section 4.2).
PUBLISHED = {
    "CollectMineralsAndGas": {"deepmind_human": 6880, "rule_based_lzhbrian": 4802,
                              "sc2le_fullyconv": 3978},
    "BuildMarines": {"deepmind_human": 138, "rule_based_lzhbrian": 127, "sc2le_fullyconv": 3},
}
SCRIPTED = {
    "MoveToBeacon": [scripted_agent.MoveToBeacon],
    "CollectMineralShards": [scripted_agent.CollectMineralShards,
                             scripted_agent.CollectMineralShardsFeatureUnits],
    "DefeatRoaches": [scripted_agent.DefeatRoaches],
    "CollectMineralsAndGas": [economy.CollectMineralsAndGas],
    "BuildMarines": [economy.BuildMarines],
}


class ScoreRecorder:
    """Wraps an agent: keeps each episode's final score and its length in agent steps."""

    def __init__(self, agent):
        self.agent = agent
        self.scores, self.lengths = [], []
        self._steps = 0

    def setup(self, obs_spec, action_spec):
        self.agent.setup(obs_spec, action_spec)

    def reset(self):
        self._steps = 0
        self.agent.reset()

    def step(self, obs):
        self._steps += 1
        if obs.last():
            self.scores.append(int(obs.observation.score_cumulative.score))
            self.lengths.append(self._steps - 1)
        return self.agent.step(obs)


def play(agent_class, map_name, episodes, size, seed):
    np.random.seed(seed)
    recorder = ScoreRecorder(agent_class())
    env = minigames.SC2Env(
        map_name=map_name, players=[sc2_env.Agent(sc2_env.Race.terran)],
        agent_interface_format=sc2_env.AgentInterfaceFormat(
            feature_dimensions=sc2_env.Dimensions(screen=size, minimap=size),
            use_feature_units=True),
        random_seed=seed)
    with env:
        run_loop.run_loop([recorder], env, max_episodes=episodes)
    scores = np.array(recorder.scores)
    return {"mean": round(float(scores.mean()), 2), "std": round(float(scores.std()), 2),
            "min": int(scores.min()), "max": int(scores.max()), "episodes": len(scores),
            "mean_episode_steps": round(float(np.mean(recorder.lengths)), 1)}


def main(argv):
    del argv
    logging.set_verbosity(logging.WARNING)
    for map_name in FLAGS.maps:
        row = {"benchmark": "minigame_fidelity", "map": map_name,
               "screen": FLAGS.size, "seed": FLAGS.seed,
               "sc2le_random_policy": dict(zip(("mean", "max"), SC2LE_RANDOM[map_name])),
               **({"published_means": PUBLISHED[map_name]} if map_name in PUBLISHED else {})}
        agents = [random_agent.RandomAgent] + SCRIPTED.get(map_name, [])
        for agent_class in agents:
            row[f"{agent_class.__module__.split('.')[-1]}.{agent_class.__name__}"] = play(
                agent_class, map_name, FLAGS.episodes, FLAGS.size, FLAGS.seed)
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    app.run(main)
