"""Run a pysc2 agent on a map and report its episode scores, like `python -m pysc2.bin.agent`.

    python -m minigames.play --agent pysc2.agents.scripted_agent.MoveToBeacon --episodes 10
    python -m minigames.play --map_name DefeatRoaches --agent pysc2.agents.scripted_agent.DefeatRoaches
    python -m minigames.play --agent pysc2.agents.random_agent.RandomAgent --gif random.gif
    python -m minigames.play --episodes 200 --replay_dir replays/   # record demonstrations
    python -m minigames.play --map_name BuildMarines --agent agents.economy.BuildMarines
    python -m minigames.play --map_name Simple64 --agent agents.marine_rush.MarineRush \
        --difficulty easy --episodes 100 --replay_dir replays/   # against the built-in AI
    python -m minigames.play --map_name Simple64 --agent agents.marine_rush.MarineRush \
        --episodes 1000 --num_envs 16 --replay_dir replays/   # 16 games at a time

The environment comes from `minigames.make_env`: real StarCraft II when it is installed, the embedded
engine otherwise (`--backend` chooses). --seed seeds the games and numpy's global generator, which
pysc2's random agent draws from, so every agent's scores repeat. A progress bar (tqdm, on a
terminal) counts the episodes; the last line is the scores as JSON, with how many of the agent's
actions the game refused, by reason (pysc2's `action_result`, e.g. CantFindPlacementLocation).

With `--num_envs K > 1` (embedded engine) K copies of the agent play K games at a time, which the
engine steps together (several times faster per game than one at a time): environment e plays
games with seed `--seed` + e, as `minigames.BatchEnv` seeds them, so they are other games than
`--num_envs 1` plays; each agent is stepped as `run_loop` steps it (its game's last step included)
and reset before each of its games. The episodes are the first ones each environment plays
(environment e plays episodes // K games, one more when e < episodes % K); games started beyond
them are neither counted nor recorded.
"""
import collections
import importlib
import json

import numpy as np
import tqdm
from absl import app, flags, logging

import minigames
from minigames import action_format, bots, maps, pysc2_batch_env, render
from minigames import sc2_env as embedded_env
from pysc2.env import environment, run_loop, sc2_env
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
flags.DEFINE_integer("num_envs", 1, "Games played at once, one agent each (embedded engine; "
                     "see the module docstring).", lower_bound=1)
FLAGS = flags.FLAGS


def load_agent(path):
    module_name, _, class_name = path.rpartition(".")
    try:
        return getattr(importlib.import_module(module_name), class_name)()
    except (ImportError, AttributeError, ValueError) as error:
        raise app.UsageError(f"Cannot load agent {path!r}: {error}") from None


class Tally:
    """The finished episodes' scores and outcomes, and the refused actions, with a progress bar."""

    def __init__(self, episodes):
        self.scores, self.outcomes = [], []
        self.refused = collections.Counter()  # the game's reason -> actions it refused
        self.progress = tqdm.tqdm(total=episodes, unit="episode", disable=None,
                                  dynamic_ncols=True)

    def add(self, timestep):
        """Count one TimeStep the agent is given."""
        self.refused.update(error_pb2.ActionResult.Name(int(r))
                            for r in timestep.observation.action_result)
        if timestep.last():
            self.scores.append(int(timestep.observation.score_cumulative.score))
            self.outcomes.append(int(timestep.reward))
            self.progress.update()
            self.progress.set_postfix(score=self.scores[-1], mean=f"{np.mean(self.scores):.2f}")


def play_one_at_a_time(agent, env, tally):
    """pysc2's run_loop, counting every TimeStep the agent is given."""
    step = agent.step

    def step_and_count(obs):
        tally.add(obs)
        if FLAGS.gif and obs.last() and len(tally.scores) == 1:
            render.write_gif(env.frames, FLAGS.gif)
            logging.info("wrote %s", FLAGS.gif)
        return step(obs)

    agent.step = step_and_count
    run_loop.run_loop([agent], env, max_episodes=FLAGS.episodes)


def play_together(agents, env, tally):
    """Each agent plays its environment's first games of `env` (a BatchEnv keeping its final
    observations), as run_loop plays one environment; see the module docstring."""
    n = env.num_envs
    games_left = [FLAGS.episodes // n + (e < FLAGS.episodes % n) for e in range(n)]
    aif = sc2_env.AgentInterfaceFormat(
        feature_dimensions=sc2_env.Dimensions(screen=env.screen_size, minimap=env.minimap_size),
        use_feature_units=FLAGS.use_feature_units)
    specs = embedded_env.interface_features(aif, env.map_name)
    for agent in agents:
        agent.setup(specs.observation_spec(), specs.action_spec())
    batch = env.reset()
    step_type = [environment.StepType.FIRST] * n
    reward = np.zeros(n)
    playing = [e for e in range(n) if games_left[e]]
    env.stop_recording([e for e in range(n) if not games_left[e]])
    for e in playing:
        agents[e].reset()
    while playing:
        function_ids = np.zeros(n, np.int64)
        arg_indices = np.full((n, len(env.arg_sizes)), -1, np.int64)
        for e in playing:
            first = step_type[e] == environment.StepType.FIRST
            timestep = environment.TimeStep(
                step_type=step_type[e], reward=0.0 if first else np.int32(reward[e]),
                discount=0.0 if first else 1.0,
                observation=embedded_env.to_pysc2_observation(batch, env.map_name, e))
            tally.add(timestep)
            function_ids[e], arg_indices[e] = action_format.function_call_to_indices(
                agents[e].step(timestep), env.screen_size[0], env.minimap_size[0])
        batch, reward, done = env.step(function_ids, arg_indices)
        step_type = [environment.StepType.MID] * n
        for e in np.flatnonzero(done):
            if e not in playing:
                continue
            last = environment.TimeStep(
                step_type=environment.StepType.LAST, reward=np.int32(reward[e]), discount=0.0,
                observation=embedded_env.to_pysc2_observation(env.final_observation,
                                                              env.map_name, e))
            tally.add(last)
            agents[e].step(last)  # as run_loop: the agent sees its game end; the action is unused
            games_left[e] -= 1
            if games_left[e]:
                step_type[e] = environment.StepType.FIRST
                agents[e].reset()
            else:
                playing.remove(e)
                env.stop_recording([e])


def main(argv):
    del argv
    np.random.seed(FLAGS.seed)
    backend = minigames.choose_backend(FLAGS.backend)
    if FLAGS.gif and backend != "embedded":
        raise app.UsageError("--gif needs the embedded engine (--backend embedded).")
    if FLAGS.num_envs > 1 and backend != "embedded":
        raise app.UsageError("--num_envs above 1 needs the embedded engine (--backend embedded).")
    if FLAGS.num_envs > 1 and FLAGS.gif:
        raise app.UsageError("--gif records one game: use it with --num_envs 1.")
    if backend == "embedded" and FLAGS.map_name not in maps.MAPS:
        raise app.UsageError(f"--map_name {FLAGS.map_name!r}: the embedded engine plays "
                             f"{', '.join(sorted(maps.MAPS))}.")
    players = pysc2_batch_env.players(FLAGS.map_name, difficulty=FLAGS.difficulty)
    tally = Tally(FLAGS.episodes)
    if FLAGS.num_envs == 1:
        agent = load_agent(FLAGS.agent)
        env = minigames.make_env(
            backend, map_name=FLAGS.map_name, players=players,
            agent_interface_format=sc2_env.AgentInterfaceFormat(
                feature_dimensions=sc2_env.Dimensions(screen=FLAGS.screen_size,
                                                      minimap=FLAGS.minimap_size),
                use_feature_units=FLAGS.use_feature_units),
            step_mul=FLAGS.step_mul, random_seed=FLAGS.seed, visualize=bool(FLAGS.gif),
            save_replay_episodes=1 if FLAGS.replay_dir else 0, replay_dir=FLAGS.replay_dir)
        with env, tally.progress:
            play_one_at_a_time(agent, env, tally)
    else:
        agents = [load_agent(FLAGS.agent) for _ in range(FLAGS.num_envs)]
        env = minigames.BatchEnv(
            map_name=FLAGS.map_name, num_envs=FLAGS.num_envs, screen_size=FLAGS.screen_size,
            minimap_size=FLAGS.minimap_size, step_mul=FLAGS.step_mul, seed=FLAGS.seed,
            use_feature_units=FLAGS.use_feature_units, replay_dir=FLAGS.replay_dir,
            save_replay_episodes=1 if FLAGS.replay_dir else 0, opponent=FLAGS.difficulty,
            keep_final_observations=True)
        with tally.progress:
            play_together(agents, env, tally)
        env.close()
    scores, outcomes = tally.scores, tally.outcomes
    result = {"agent": FLAGS.agent, "map": FLAGS.map_name, "backend": backend,
              "seed": FLAGS.seed, "episodes": len(scores),
              "refused": dict(sorted(tally.refused.items()))}
    if len(players) == 2:  # pysc2's outcome reward on the last step: +1 win, -1 loss, 0 tie
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
