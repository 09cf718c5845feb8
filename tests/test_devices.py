"""loops.configure_devices: --gpu_use places the work on GPUs with memory growth, or hides them.

This machine has no GPU, so TensorFlow's device functions are replaced by recorders and fake GPUs:
what is checked is the code path, not a real placement (distributed.learner_device and the actors'
environment are tested in test_distributed.py).
"""
import pytest
import tensorflow as tf

import loops

FAKE_GPUS = [tf.config.PhysicalDevice("/physical_device:GPU:0", "GPU"),
             tf.config.PhysicalDevice("/physical_device:GPU:1", "GPU")]


@pytest.fixture
def devices(monkeypatch):
    """Record the calls configure_devices makes; `devices.gpus` is what TensorFlow 'sees'."""
    class Recorder:
        gpus = []
        memory_growth = []
        visible = []

    monkeypatch.setattr(tf.config, "list_physical_devices",
                        lambda kind=None: Recorder.gpus if kind == "GPU" else [])
    monkeypatch.setattr(tf.config.experimental, "set_memory_growth",
                        lambda device, enable: Recorder.memory_growth.append((device.name, enable)))
    monkeypatch.setattr(tf.config, "set_visible_devices",
                        lambda found, kind=None: Recorder.visible.append((list(found), kind)))
    return Recorder


def test_gpu_use_turns_on_memory_growth_on_every_gpu(devices):
    devices.gpus = FAKE_GPUS
    loops.configure_devices(True)
    assert devices.memory_growth == [("/physical_device:GPU:0", True),
                                     ("/physical_device:GPU:1", True)]
    assert devices.visible == []  # every GPU stays visible: TensorFlow places the work on GPU:0


def test_without_gpu_use_tensorflow_sees_no_gpu(devices):
    devices.gpus = FAKE_GPUS
    loops.configure_devices(False)
    assert devices.visible == [([], "GPU")]
    assert devices.memory_growth == []


def test_gpu_use_without_a_gpu_says_so_and_runs_on_the_cpu(devices, caplog):
    devices.gpus = []
    with caplog.at_level("WARNING"):
        loops.configure_devices(True)
    assert "sees no GPU; running on the CPU" in caplog.text
    assert devices.memory_growth == [] and devices.visible == []
