"""The backend factory: real StarCraft II when installed, the embedded engine otherwise."""
import pytest
from pysc2.env import sc2_env

import minigames
from minigames import backend


def test_auto_falls_back_to_embedded_without_the_game(tmp_path, monkeypatch):
    monkeypatch.setenv("SC2PATH", str(tmp_path))
    assert backend.choose_backend("auto") == "embedded"
    env = backend.make_env(
        "auto", map_name="MoveToBeacon", players=[sc2_env.Agent(sc2_env.Race.terran)],
        agent_interface_format=sc2_env.AgentInterfaceFormat(
            feature_dimensions=sc2_env.Dimensions(screen=16, minimap=16)))
    assert isinstance(env, minigames.SC2Env)


def test_sc2_without_the_game_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("SC2PATH", str(tmp_path))
    with pytest.raises(backend.BackendError, match="SC2PATH"):
        backend.choose_backend("sc2")


def test_installed_game_is_detected(tmp_path, monkeypatch):
    (tmp_path / "Versions").mkdir()
    monkeypatch.setenv("SC2PATH", str(tmp_path))
    assert backend.choose_backend("auto") == "sc2"


def test_unknown_backend():
    with pytest.raises(backend.BackendError, match="Unknown backend"):
        backend.choose_backend("gpu")
