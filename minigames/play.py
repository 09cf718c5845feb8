"""Run a pysc2 agent on a map and report its episode scores, like `python -m pysc2.bin.agent`.

    python -m minigames.play --agent pysc2.agents.scripted_agent.MoveToBeacon --episodes 10
    python -m minigames.play --map_name DefeatRoaches --agent pysc2.agents.scripted_agent.DefeatRoaches
    python -m minigames.play --agent pysc2.agents.random_agent.RandomAgent --gif random.gif
    python -m minigames.play --episodes 200 --replay_dir replays/   # record demonstrations
    python -m minigames.play --map_name BuildMarines --agent agents.economy.BuildMarines
    python -m minigames.play --map_name Simple64 --agent agents.marine_rush.MarineRush \
        --difficulty easy --episodes 100 --replay_dir replays/   # against the built-in AI

The environment comes from `minigames.make_env`: real StarCraft II when it is installed, the embedded
engine otherwise (`--backend` chooses). --seed seeds the games and numpy's global generator, which
pysc2's random agent draws from, so every agent's scores repeat. A progress bar (tqdm, on a
terminal) counts the episodes; the last line is the scores as JSON, with how many of the agent's
actions the game refused, by reason (pysc2's `action_result`, e.g. CantFindPlacementLocation).
"""
import collections
import importlib
import json

import numpy as np
import tqdm
from absl import app, flags, logging

import minigames
from minigames import bots, maps, pysc2_batch_env, render
from pysc2.env import run_loop, sc2_env
from s2clientprotocol import error_pb2

flags.DEFINE_string("map_name", "MoveToBeacon", "Map to play (the embedded engine plays "
                    f"{', '.join(sorted(maps.MAPS))}).")
flags.DEFINE_string("agent", "pysc2.agents.scripted_agent.MoveToBeacon",
                    "Python path of a pysc2 agent class.")
flags.DEFINE_integer("episodes", 10, "Episodes to play.")
flags.DEFINE_integer("screen_size", 64, "Feature screen resolution.")
flags.DEFINE_integer("minimap_size", 64, "Feature minimap resolution.")
flags.DEFINE_integer("step_mul", 8, "Game loops per agent step.")
flags.DEFINE_integer("seed", 1, "Seed of the games and of numpy's global generator (which "
                     "pysc2's random agent uses).")
flags.DEFINE_bool("use_feature_units", True, "Report feature_units (agents such as "
                  "CollectMineralShardsFeatureUnits need them).")
flags.DEFINE_enum("difficulty", "very_easy", [d.name for d in sc2_env.Difficulty],
                  "The built-in AI's difficulty on two-player maps (the embedded engine plays "
                  f"{', '.join(bots.DIFFICULTIES)}).")
flags.DEFINE_enum("backend", "auto", minigames.backend.BACKENDS, "Which game to run.")
flags.DEFINE_string("gif", None, "Write the first episode as a GIF here (embedded engine only).")
flags.DEFINE_string("replay_dir", None, "Save every episode's replay in this folder.")
FLAGS = flags.FLAGS


def load_agent(path):
    module_name, _, class_name = path.rpartition(".")
    try:
        return getattr(importlib.import_module(module_name), class_name)()
    except (ImportError, AttributeError, ValueError) as error:
        raise app.UsageError(f"Cannot load agent {path!r}: {error}") from None


def main(argv):
    del argv
    np.random.seed(FLAGS.seed)
    agent = load_agent(FLAGS.agent)
    backend = minigames.choose_backend(FLAGS.backend)
    if FLAGS.gif and backend != "embedded":
        raise app.UsageError("--gif needs the embedded engine (--backend embedded).")
    if backend == "embedded" and FLAGS.map_name not in maps.MAPS:
        raise app.UsageError(f"--map_name {FLAGS.map_name!r}: the embedded engine plays "
                             f"{', '.join(sorted(maps.MAPS))}.")
    players = pysc2_batch_env.players(FLAGS.map_name, difficulty=FLAGS.difficulty)
    two_player = len(players) == 2
    env = minigames.make_env(
        backend, map_name=FLAGS.map_name, players=players,
        agent_interface_format=sc2_env.AgentInterfaceFormat(
            feature_dimensions=sc2_env.Dimensions(screen=FLAGS.screen_size,
                                                  minimap=FLAGS.minimap_size),
            use_feature_units=FLAGS.use_feature_units),
        step_mul=FLAGS.step_mul, random_seed=FLAGS.seed, visualize=bool(FLAGS.gif),
        save_replay_episodes=1 if FLAGS.replay_dir else 0, replay_dir=FLAGS.replay_dir)
    scores = []
    outcomes = []
    refused = collections.Counter()  # the game's reason -> actions it refused
    step = agent.step
    progress = tqdm.tqdm(total=FLAGS.episodes, unit="episode", disable=None, dynamic_ncols=True)

    def step_and_record(obs):
        refused.update(error_pb2.ActionResult.Name(int(r)) for r in obs.observation.action_result)
        if obs.last():
            scores.append(int(obs.observation.score_cumulative.score))
            outcomes.append(int(obs.reward))
            progress.update()
            progress.set_postfix(score=scores[-1], mean=f"{np.mean(scores):.2f}")
            if FLAGS.gif and len(scores) == 1:
                render.write_gif(env.frames, FLAGS.gif)
                logging.info("wrote %s", FLAGS.gif)
        return step(obs)

    agent.step = step_and_record
    with env, progress:
        run_loop.run_loop([agent], env, max_episodes=FLAGS.episodes)
    result = {"agent": FLAGS.agent, "map": FLAGS.map_name, "backend": backend,
              "seed": FLAGS.seed, "episodes": len(scores), "refused": dict(sorted(refused.items()))}
    if two_player:  # pysc2's outcome reward on the last step: +1 win, -1 loss, 0 tie
        result.update(difficulty=FLAGS.difficulty, wins=outcomes.count(1),
                      losses=outcomes.count(-1), ties=outcomes.count(0),
                      win_rate=round(outcomes.count(1) / len(outcomes), 3))
    else:
        result.update(mean=round(float(np.mean(scores)), 2),
                      std=round(float(np.std(scores)), 2), min=min(scores), max=max(scores))
    print(json.dumps(result))


def cli():
    import startup  # the project's --verbose flag (the engine itself does not need it)

    startup.define_verbose_flag()
    app.run(main)


if __name__ == "__main__":
    import startup

    startup.prepare()  # a quiet start, or a hint when outside the project's environment
    cli()
