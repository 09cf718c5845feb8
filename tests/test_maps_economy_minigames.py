"""The rules of CollectMineralsAndGas and BuildMarines (pysc2_fidelity.md 4.7 and 4.8), their
observations through pysc2's API, and this project's scripted agents on them."""
import numpy as np
from pysc2.env import sc2_env
from pysc2.lib import actions, features, units

import minigames
from agents import economy as economy_agents
from minigames import economy, production
from minigames.maps import economy_minigames as maps
from tests.engine_helpers import action, make_game, of_type, run, select

F = actions.FUNCTIONS
SC = features.ScoreCumulative
PLAYER = features.Player
SCV, MARINE = units.Terran.SCV, units.Terran.Marine


def test_collect_minerals_and_gas_starts_as_the_map_script_says():
    game = make_game("CollectMineralsAndGas", n=8)
    world = game.world
    sides = set()
    for e in range(8):
        hall = of_type(game, maps.COMMAND_CENTER, e)
        assert len(hall) == 1 and np.allclose(world.pos[e, hall[0]], (29.5, 28.5))
        scvs = world.pos[e, of_type(game, SCV, e)]
        dx = np.round(scvs[:, 0] - maps.COMMAND_CENTER_POINT[0], 6)
        assert len(scvs) == 12 and set(np.abs(dx)) == {3.5, 4.5}
        sides.add(np.sign(dx[0]))
        assert sorted(np.round(scvs[:, 1] - maps.COMMAND_CENTER_POINT[1], 6)) == sorted(
            list(maps.SCV_ROWS) * 2)
        fields = of_type(game, maps.MINERAL_FIELD, e)
        geysers = of_type(game, maps.GEYSER, e)
        assert len(fields) == 16 and (world.minerals_left[e, fields] == 1500).all()
        assert len(geysers) == 4 and (world.vespene_left[e, geysers] == 2000).all()
    assert sides == {-1.0, 1.0}  # the SCVs start on either side
    batch = game.observe()
    assert (batch["player"][:, PLAYER.minerals] == 50).all()
    assert (batch["player"][:, PLAYER.food_used] == 12).all()
    assert (batch["player"][:, PLAYER.food_cap] == 15).all()
    assert (batch["player"][:, PLAYER.idle_worker_count] == 12).all()
    assert not world.selected.any()
    assert game.map.episode_loops == 6720 and np.allclose(world.camera[:, 0], (32.94, 25.0))


def test_collect_minerals_and_gas_scores_what_is_collected_not_what_is_left():
    game = make_game("CollectMineralsAndGas")
    world = game.world
    scvs = of_type(game, SCV)
    fields = of_type(game, maps.MINERAL_FIELD)
    economy.gather(game, np.zeros(12, int), scvs, np.resize(fields[:8], 12))
    run(game, 600)
    collected = world.score_cumulative[0, 0, SC.collected_minerals]
    assert collected > 0 and game.score[0] == collected
    select(game, 0, of_type(game, maps.COMMAND_CENTER))
    game.apply(*action(F.Train_SCV_quick.id, queued=0))  # spending does not lower the score
    run(game, 1)
    assert game.score[0] >= collected and world.minerals[0, 0] < 50 + game.score[0] - 40


def test_build_marines_has_the_left_fields_and_scores_each_marine():
    game = make_game("BuildMarines")
    world = game.world
    fields = of_type(game, maps.MINERAL_FIELD)
    assert len(fields) == 8 and (world.pos[0, fields, 0] <= 25).all()
    assert len(of_type(game, maps.GEYSER)) == 0
    assert game.map.episode_loops == 14400
    barracks = world.spawn([0, 0], maps.BARRACKS, 1, np.array([[38.5, 24.5], [38.5, 31.5]]))
    world.minerals[0, 0] = 500.0
    select(game, 0, barracks)
    for _ in range(3):
        game.apply(*action(F.Train_Marine_quick.id, queued=0))
    run(game, 399)
    assert game.score[0] == 0
    run(game, 1)
    assert game.score[0] == 2  # one at each Barracks (the least busy takes each order)
    run(game, 400)
    assert game.score[0] == 3 == len(of_type(game, MARINE))


def test_build_marines_command_cards_are_reduced():
    game = make_game("BuildMarines")
    world = game.world
    select(game, 0, of_type(game, SCV)[:1])
    available = set(np.flatnonzero(game.interface.available(1)[0]))
    assert {F.Harvest_Gather_screen.id, F.Build_SupplyDepot_screen.id, F.Smart_screen.id} <= \
        available
    assert not available & {F.Move_screen.id, F.Attack_screen.id, F.Stop_quick.id,
                            F.Build_Refinery_screen.id, F.Build_CommandCenter_screen.id}
    select(game, 0, of_type(game, maps.COMMAND_CENTER))
    available = set(np.flatnonzero(game.interface.available(1)[0]))
    assert {F.Train_SCV_quick.id, F.Rally_Workers_screen.id} <= available
    barracks = world.spawn([0], maps.BARRACKS, 1, np.array([[38.5, 24.5]]))
    select(game, 0, barracks)
    available = set(np.flatnonzero(game.interface.available(1)[0]))
    assert F.Train_Marine_quick.id in available and F.Rally_Units_screen.id not in available
    full = make_game("CollectMineralsAndGas")
    full_barracks = full.world.spawn([0], maps.BARRACKS, 1, np.array([[38.5, 24.5]]))
    select(full, 0, full_barracks)
    assert full.interface.available(1)[0, F.Rally_Units_screen.id]


def test_sc2env_observations_carry_queues_and_action_results():
    env = minigames.SC2Env(
        map_name="CollectMineralsAndGas", players=[sc2_env.Agent(sc2_env.Race.terran)],
        agent_interface_format=sc2_env.AgentInterfaceFormat(
            feature_dimensions=sc2_env.Dimensions(screen=64, minimap=64)), random_seed=2)
    observation = env.reset()[0].observation
    assert observation.build_queue.shape == (0, 7) and observation.action_result.shape == (0,)
    hall = env.core.world.pos[0, of_type(env.core, maps.COMMAND_CENTER)[0]]
    pixel = np.floor(env.core.screen.to_pixels(
        hall, env.core.screen.camera_offset(env.core.world.camera[0, 0]))).astype(int)
    env.step([F.select_point("select", pixel)])
    observation = env.step([F.Train_SCV_quick("now")])[0].observation
    assert observation.build_queue[:, features.UnitLayer.unit_type].tolist() == [SCV]
    assert observation.production_queue[:, features.ProductionQueue.ability_id].tolist() == [
        F.Train_SCV_quick.ability_id]
    assert observation.player.minerals == 0 and observation.player.food_used == 13
    assert F.build_queue.id in observation.available_actions
    observation = env.step([F.Train_SCV_quick("now")])[0].observation
    assert observation.action_result.tolist() == [production.NOT_ENOUGH_MINERALS]
    assert observation.last_actions.tolist() == []
    observation = env.step([F.build_queue(0)])[0].observation
    assert observation.player.minerals == 50 and observation.build_queue.shape == (0, 7)


def test_economy_games_are_deterministic_and_restore_from_their_state():
    def play(map_name, seed, steps, state=None):
        env = minigames.BatchEnv(map_name, num_envs=3, screen_size=32, minimap_size=32,
                                 seed=seed)
        batch = env.reset()
        if state is not None:
            env.core.set_state(state)
        rng = np.random.default_rng(5)
        for _ in range(steps):
            priority = rng.random((3, len(F))) * batch["available_actions"]
            args = np.stack([rng.integers(0, max(s, 1), 3) for s in env.arg_sizes], -1)
            batch, _, _ = env.step(priority.argmax(axis=1), args)
        return env, batch

    for map_name in ("CollectMineralsAndGas", "BuildMarines"):
        first, a = play(map_name, 7, 60)
        second, b = play(map_name, 7, 60)
        for key in ("feature_screen", "player", "score_cumulative", "feature_minimap"):
            assert np.array_equal(a[key], b[key]), (map_name, key)
        state = first.core.get_state()
        restored, _ = play(map_name, 99, 0, state)
        assert np.array_equal(restored.core.ground.buildable, first.core.ground.buildable)
        assert np.array_equal(restored.core.world.queue_count, first.core.world.queue_count)


def _play_agent(agent, map_name, steps):
    env = minigames.SC2Env(
        map_name=map_name, players=[sc2_env.Agent(sc2_env.Race.terran)],
        agent_interface_format=sc2_env.AgentInterfaceFormat(
            feature_dimensions=sc2_env.Dimensions(screen=64, minimap=64)), random_seed=1)
    agent.setup(env.observation_spec()[0], env.action_spec()[0])
    timestep = env.reset()[0]
    agent.reset()
    for _ in range(steps):
        timestep = env.step([agent.step(timestep)])[0]
    return env, timestep.observation


def test_the_scripted_collect_minerals_and_gas_agent_mines_and_trains():
    env, observation = _play_agent(economy_agents.CollectMineralsAndGas(),
                                   "CollectMineralsAndGas", 240)
    assert observation.player.food_workers > 16
    assert observation.player.idle_worker_count == 0
    assert len(of_type(env.core, maps.SUPPLY_DEPOT)) >= 1
    assert len(of_type(env.core, units.Terran.Refinery)) >= 1
    assert observation.score_cumulative.score > 900


def test_the_scripted_build_marines_agent_builds_barracks():
    env, observation = _play_agent(economy_agents.BuildMarines(), "BuildMarines", 300)
    assert len(of_type(env.core, maps.BARRACKS)) >= 1
    assert len(of_type(env.core, maps.SUPPLY_DEPOT)) >= 1
    assert observation.player.food_workers >= 16
