"""A2C from a supervised checkpoint: does the policy keep what it learned? Prints one JSON line.

    python -m bench.imitation --keep_dir /tmp/imitation      # makes the supervised checkpoint
    python -m bench.finetune_from_sl --sl_model /tmp/imitation/Models/imitation.weights.h5 \\
        --max_agent_steps 60000 --variants plain,low_rate,warmup,kl,warmup_kl

First the supervised (SL) agent itself plays --eval_episodes games sampling its actions, as A2C
acts: its mean is the score to keep. Then, for each variant, A2C starts from the checkpoint on the
same seed's games for --max_agent_steps agent steps (loops.train, every other run.py flag applies):

    plain        A2C's defaults (learning rate 5e-3), no warm-up, no penalty: the README's old path
    low_rate     learning rate --low_rate, no warm-up, no penalty
    warmup       value-head-only updates for the first 20,000 agent steps (finetune.py)
    kl           the KL penalty toward the SL policy (FINETUNE_DEFAULTS' weight), no warm-up
    warmup_kl    both, at A2C's learning rate
    warmup_kl_low_rate   both, at --low_rate: hyperparameters.FINETUNE_DEFAULTS, what run.py does

(the warm-up, weight and low rate are FINETUNE_DEFAULTS'; flags given on the command line, such
as --kl_weight, apply to every variant).

For each: the lowest 100-episode mean once 100 episodes have ended, the final 100-episode mean,
both as a fraction of the SL agent's mean, and whether issue 13's target holds (never below 0.9 of
the SL agent's mean, ending at least as high). Then the fine-tuned agent plays the games the SL
agent played at the start (the same seeds, sampling its actions): its mean there compares the two
policies on the same games, where the training episodes' means also carry the games' luck.
Nothing is saved.
"""
import dataclasses
import json
import time

import keras
import numpy as np
import tensorflow as tf
from absl import app, flags

import agent as agent_lib
import checkpoints
import cli_flags
import finetune
import hyperparameters
import loops
import network
import utils

cli_flags.define_flags()
flags.DEFINE_string("sl_model", None, "The supervised checkpoint (.weights.h5).")
flags.DEFINE_list("variants", ["plain", "low_rate", "warmup", "kl", "warmup_kl"],
                  "Which ways of fine-tuning to run (see the module docstring).")
flags.DEFINE_float("low_rate", hyperparameters.FINETUNE_DEFAULTS["learning_rate"],
                   "The learning rate of the *_low_rate variants.")
flags.mark_flag_as_required("sl_model")
FLAGS = flags.FLAGS
FLAGS.set_default("eval_episodes", 100)
FLAGS.set_default("max_agent_steps", 60_000)


def variant_config(name):
    """A2CConfig of variant `name` (flags given on the command line apply to every variant)."""
    base = hyperparameters.default_config(FLAGS.model_name)
    warmup = {"critic_warmup_steps": hyperparameters.FINETUNE_DEFAULTS["critic_warmup_steps"]}
    kl = {"kl_weight": hyperparameters.FINETUNE_DEFAULTS["kl_weight"]}
    low_rate = {"learning_rate": FLAGS.low_rate}
    settings = {"plain": {}, "low_rate": low_rate, "warmup": warmup, "kl": kl,
                "warmup_kl": {**warmup, **kl}, "warmup_kl_low_rate": {**warmup, **kl, **low_rate}}
    if name not in settings:
        raise app.UsageError(f"--variants: unknown variant {name!r}; choose from "
                             f"{', '.join(settings)}")
    config = cli_flags.a2c_config_from_flags(dataclasses.replace(base, **settings[name]))
    if name in ("plain", "low_rate"):
        config = dataclasses.replace(config, kl_weight=0.0, critic_warmup_steps=0)
    return config


def load(spec):
    model = network.make_model(FLAGS.model_name, spec)
    checkpoints.load_model(model, FLAGS.sl_model, spec)
    return model


def running_means(scores):
    """The mean of the last 100 scores after each episode from the 100th on (of them all when
    fewer than 100 ended)."""
    scores = np.asarray(scores, float)
    window = min(loops.MEAN_WINDOW, len(scores))
    return np.convolve(scores, np.ones(window) / window, mode="valid")


def fine_tune(name, spec, sl_mean):
    config = variant_config(name)
    keras.utils.set_random_seed(FLAGS.seed)
    model = load(spec)
    reference = load(spec) if config.kl_weight else None
    agent = finetune.FineTuneAgent(model, config, reference, seed=FLAGS.seed)
    env = loops.make_batch_env("embedded", FLAGS.environment, FLAGS.num_envs, spec,
                               FLAGS.step_mul, FLAGS.seed, model.uses_feature_units)
    start = time.time()
    runner = loops.train(agent, env, spec, config, FLAGS.max_agent_steps,
                         tf.summary.create_noop_writer(), FLAGS.log_interval)
    seconds = time.time() - start
    env.close()
    if not runner.finished_episodes:
        raise app.UsageError(f"no episode ended within --max_agent_steps "
                             f"{FLAGS.max_agent_steps}; give more")
    means = running_means(runner.finished_episodes)
    lowest, final = float(means.min()), float(means[-1])
    evaluated = sampled_mean(model, spec)
    return {"learning_rate": config.learning_rate, "kl_weight": config.kl_weight,
            "critic_warmup_steps": config.critic_warmup_steps,
            "lowest_mean_100": round(lowest, 2), "final_mean_100": round(final, 2),
            "lowest_over_sl": round(lowest / sl_mean, 3),
            "final_over_sl": round(final / sl_mean, 3),
            "target_met": bool(lowest >= 0.9 * sl_mean and final >= sl_mean),
            "eval_mean": round(evaluated, 2), "eval_over_sl": round(evaluated / sl_mean, 3),
            "episodes": len(runner.finished_episodes), "seconds": round(seconds, 1)}


def sampled_mean(model, spec):
    """The mean score of `model` sampling its actions over --eval_episodes games of --seed."""
    env = loops.make_batch_env("embedded", FLAGS.environment, FLAGS.num_envs, spec, FLAGS.step_mul,
                               FLAGS.seed, model.uses_feature_units)
    scores = loops.evaluate(agent_lib.A2CAgent(model, seed=FLAGS.seed), env, spec,
                            FLAGS.eval_episodes, greedy=False)
    env.close()
    return float(np.mean(scores))


def main(argv):
    del argv
    loops.configure_devices(FLAGS.gpu_use)
    keras.utils.set_random_seed(FLAGS.seed)
    spec = utils.Spec(FLAGS.screen_size, FLAGS.minimap_size)
    sl_mean = sampled_mean(load(spec), spec)
    results = {name: fine_tune(name, spec, sl_mean) for name in FLAGS.variants}
    print(json.dumps({"model_name": FLAGS.model_name, "seed": FLAGS.seed,
                      "agent_steps": FLAGS.max_agent_steps, "sl_eval_episodes": FLAGS.eval_episodes,
                      "sl_mean_sampled": round(sl_mean, 2), **results}))


if __name__ == "__main__":
    app.run(main, flags_parser=cli_flags.parse_flags)
