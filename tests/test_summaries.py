"""summaries: the run's settings, one episode_reward_sum point per episode, the game strip."""
import glob

import numpy as np
import tensorflow as tf

import summaries


def events(folder):
    """{tag: [(step, summary value)]} of every event file in `folder`."""
    found = {}
    for path in glob.glob(f"{folder}/events.out.tfevents.*"):
        for event in tf.compat.v1.train.summary_iterator(path):
            for value in event.summary.value:
                found.setdefault(value.tag, []).append((event.step, value))
    return found


def test_episode_scores_get_one_step_each_numbered_from_the_first_new_episode(tmp_path):
    writer = tf.summary.create_file_writer(str(tmp_path))
    summaries.write_episode_scores(writer, [3.0, 5.0], 1)
    summaries.write_episode_scores(writer, [7.0], 3)
    writer.close()
    points = events(tmp_path)["episode_reward_sum"]
    assert [step for step, _ in points] == [1, 2, 3]
    assert [float(tf.make_ndarray(value.tensor)) for _, value in points] == [3.0, 5.0, 7.0]


def test_settings_are_written_as_hparams_and_as_a_text_table(tmp_path):
    writer = tf.summary.create_file_writer(str(tmp_path))
    summaries.write_settings(writer, "run1", {"learning_rate": 0.005, "model_name": "fullyconv",
                                              "target_mean": None})
    writer.close()
    found = events(tmp_path)
    assert "_hparams_/session_start_info" in found
    text = tf.make_ndarray(found["settings"][0][1].tensor).item().decode()
    assert "| learning_rate | 0.005 |" in text and "| target_mean | None |" in text


def test_the_episode_strip_puts_frames_from_start_to_end_side_by_side():
    frames = [np.full((4, 5, 3), i, np.uint8) for i in range(20)]
    strip = summaries.episode_strip(frames, count=3)
    assert strip.shape == (1, 4, 15, 3)
    assert [strip[0, 0, 5 * i, 0] for i in range(3)] == [0, 10, 19]
    assert summaries.episode_strip(frames[:2], count=8).shape == (1, 4, 10, 3)
