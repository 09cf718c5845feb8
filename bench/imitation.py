"""Imitation of DeepMind's scripted MoveToBeacon agent, end to end; prints one JSON line.

    python -m bench.imitation [--episodes 200] [--screen_size 16] [--max_agent_steps 150000]

1. Records --episodes games of `pysc2.agents.scripted_agent.MoveToBeacon` on the embedded engine
   (one replay per game, as `minigames.play --replay_dir` does) at --screen_size (the minimap
   the same), so that the demonstrator clicks on the grid the network predicts.
2. Converts them to .hkl (`trajectory_generator.convert_all`): MB per 1,000 kept steps and kept
   steps converted per second.
3. Trains by supervised learning (`supervised.train`, run.py's flags: --model_name,
   --learning_rate, --max_agent_steps is the budget in training examples, ...); every 10th game is
   held out: function-id and screen-argument accuracy on it (exact pixel, and within one pixel).
4. Loads the saved checkpoint as `run.py --load_model` does and plays --eval_episodes games on the
   embedded BatchEnv with the most likely actions (loops.evaluate, greedy): the SL agent's mean
   score against the demonstrator's.

Everything is written to a temporary folder (--keep_dir keeps it).
"""
import json
import os
import tempfile
import time

import keras
import numpy as np
from absl import app, flags, logging

import minigames  # first: it applies pysc2's Python 3.11 fix
from pysc2.agents import scripted_agent
from pysc2.env import sc2_env

import agent as agent_lib
import checkpoints
import cli_flags
import loops
import network
import supervised
import trajectory_generator
import utils

cli_flags.define_flags()
flags.DEFINE_integer("episodes", 200, "Demonstration games to record.")
flags.DEFINE_string("keep_dir", None, "Keep the replays, .hkl files, model and TensorBoard logs "
                    "here (default: a temporary folder).")
FLAGS = flags.FLAGS
FLAGS.set_default("eval_episodes", 50)
# Training examples when --max_agent_steps is not given: about 3.5 passes over 200 games.
TRAINING_EXAMPLES = 150_000


def record_demonstrations(replay_dir, episodes, screen_size, step_mul, seed):
    """Play `episodes` games of the scripted agent, one replay each; returns their scores."""
    env = minigames.SC2Env(
        map_name="MoveToBeacon", players=[sc2_env.Agent(sc2_env.Race.terran)],
        agent_interface_format=sc2_env.AgentInterfaceFormat(
            feature_dimensions=sc2_env.Dimensions(screen=screen_size, minimap=screen_size)),
        step_mul=step_mul, random_seed=seed, save_replay_episodes=1, replay_dir=replay_dir)
    agent = scripted_agent.MoveToBeacon()
    agent.setup(env.observation_spec()[0], env.action_spec()[0])
    scores = []
    for _ in range(episodes):
        timestep = env.reset()[0]
        while not timestep.last():
            timestep = env.step([agent.step(timestep)])[0]
        scores.append(float(timestep.observation.score_cumulative.score))
    env.close()
    return scores


def main(argv):
    del argv
    loops.configure_devices(FLAGS.gpu_use)
    keras.utils.set_random_seed(FLAGS.seed)
    spec = utils.Spec(FLAGS.screen_size, FLAGS.screen_size)
    with tempfile.TemporaryDirectory() as scratch:
        folder = FLAGS.keep_dir or scratch
        replay_dir, hkl_dir = os.path.join(folder, "replays"), os.path.join(folder, "hkl")

        start = time.time()
        demonstrator = record_demonstrations(replay_dir, FLAGS.episodes, FLAGS.screen_size,
                                             FLAGS.step_mul, FLAGS.seed)
        logging.info("Recorded %d games in %.0f s: mean score %.2f", len(demonstrator),
                     time.time() - start, np.mean(demonstrator))

        start = time.time()
        converted, failures = trajectory_generator.convert_all(replay_dir, hkl_dir)
        conversion_seconds = time.time() - start
        steps = sum(s for _, s in converted)
        megabytes = sum(os.path.getsize(p) for p, _ in converted) / 1e6

        checkpoint = os.path.join(checkpoints.models_dir(folder), "imitation.weights.h5")
        metadata = checkpoints.model_description(
            FLAGS.model_name, "MoveToBeacon", spec, FLAGS.seed,
            demonstrator="pysc2.agents.scripted_agent.MoveToBeacon")
        config = cli_flags.sl_config_from_flags(max_examples=TRAINING_EXAMPLES)
        result = supervised.train(
            hkl_dir, FLAGS.model_name, spec, config, log_dir=os.path.join(folder, "tensorboard"),
            save=lambda model, progress: checkpoints.save_model(model, checkpoint,
                                                                {**metadata, **progress}))

        model = network.make_model(FLAGS.model_name, spec)
        checkpoints.load_model(model, checkpoint, spec)
        env = minigames.BatchEnv(num_envs=min(FLAGS.eval_episodes, 16),
                                 screen_size=spec.screen_size, minimap_size=spec.minimap_size,
                                 step_mul=FLAGS.step_mul, seed=FLAGS.seed + 1,
                                 use_feature_units=model.uses_feature_units)
        scores = loops.evaluate(agent_lib.A2CAgent(model, seed=FLAGS.seed + 1), env, spec,
                                FLAGS.eval_episodes, greedy=True)
        env.close()
    print(json.dumps({
        "model_name": FLAGS.model_name, "screen_size": spec.screen_size, "seed": FLAGS.seed,
        "episodes": FLAGS.episodes, "kept_steps": steps, "conversion_failures": len(failures),
        "hkl_mb_per_1000_steps": round(megabytes / steps * 1000, 3),
        "conversion_steps_per_second": round(steps / conversion_seconds, 1),
        "train_files": result.train_files, "held_out_files": result.held_out_files,
        "training_examples": result.examples, "training_seconds": round(result.seconds, 1),
        "checkpoint_examples": result.saved["examples"],
        **{f"held_out_{head}_accuracy": round(result.saved[f"accuracy/{head}"], 4)
           for head in ("function", "screen", "screen_within_1px", "action")},
        "sl_eval_episodes": len(scores), "sl_mean": round(float(np.mean(scores)), 2),
        "sl_std": round(float(np.std(scores)), 2),
        "demonstrator_mean": round(float(np.mean(demonstrator)), 2),
        "demonstrator_std": round(float(np.std(demonstrator)), 2),
        "sl_over_demonstrator": round(float(np.mean(scores) / np.mean(demonstrator)), 3),
    }))


if __name__ == "__main__":
    app.run(main, flags_parser=cli_flags.parse_flags)
