"""The rules of CollectMineralShards, DefeatRoaches, DefeatZerglingsAndBanelings and
FindAndDefeatZerglings (pysc2_fidelity.md 4.3 to 4.6)."""
import numpy as np
import pytest
from pysc2.env import sc2_env
from pysc2.lib import actions, features, units

import minigames
from minigames.maps import collect_mineral_shards as cms
from minigames.maps import defeat_roaches as dr
from minigames.maps import find_and_defeat_zerglings as fdz
from tests.engine_helpers import action, make_game, of_type, run

F = actions.FUNCTIONS
MARINE, ROACH = units.Terran.Marine, units.Zerg.Roach
ZERGLING, BANELING = units.Zerg.Zergling, units.Zerg.Baneling


def test_collect_mineral_shards_start_pickup_and_respawn():
    game = make_game("CollectMineralShards", n=20)
    world = game.world
    for e in range(20):
        marines, shards = of_type(game, MARINE, e), of_type(game, cms.SHARD, e)
        assert len(marines) == 2 and len(shards) == cms.SHARD_COUNT
        distance = np.hypot(*(world.pos[e, shards][:, None] - world.pos[e, marines][None]).T)
        assert distance.min() >= cms.SHARD_MIN_DISTANCE
    assert not world.selected.any()
    marine, shard = of_type(game, MARINE)[0], of_type(game, cms.SHARD)[0]
    world.pos[0, marine] = world.pos[0, shard] + (0.8, 0.0)  # discs meet (0.375 + 0.5)
    run(game, 1)
    assert game.score[0] == 1 and world.minerals[0, 0] == 100
    assert len(of_type(game, cms.SHARD)) == cms.SHARD_COUNT - 1
    world.remove(np.zeros(cms.SHARD_COUNT - 1, int), of_type(game, cms.SHARD))
    run(game, 1)
    assert len(of_type(game, cms.SHARD)) == cms.SHARD_COUNT  # a new field of shards


@pytest.mark.parametrize("map_name,wave,reward,reinforcements", [
    ("DefeatRoaches", [ROACH] * 4, 10, 5),
    ("DefeatZerglingsAndBanelings", [ZERGLING] * 6 + [BANELING] * 4, 5, 4)])
def test_wave_maps_start_reward_and_send_the_next_wave(map_name, wave, reward, reinforcements):
    game = make_game(map_name, n=10)
    world = game.world
    for e in range(10):
        marines = of_type(game, MARINE, e)
        assert len(marines) == dr.START_MARINES and world.selected[e, 0, marines].all()
        xs, ys = world.pos[e, marines].T
        assert np.allclose(xs, xs[0]) and np.allclose(np.sort(ys), ys.min() + np.arange(9))
        enemies = np.flatnonzero(world.alive[e] & (world.owner[e] == 2))
        assert sorted(world.unit_type[e, enemies]) == sorted(wave)
        assert np.all(np.abs(world.pos[e, enemies, 0] - xs[0]) > 10)  # on the other side
    enemies = np.flatnonzero(world.alive[0] & (world.owner[0] == 2))
    marines = of_type(game, MARINE)
    world.health[0, marines[0]] = 0.0  # a marine dies: -1
    world.health[0, marines[1]] = 20.0
    world.health[0, enemies[0]] = 0.0  # an enemy dies: +reward
    run(game, 1)
    assert game.score[0] == reward - 1
    world.health[0, enemies[1:]] = 0.0  # the rest of the wave dies
    run(game, 1)
    assert game.score[0] == len(wave) * reward - 1
    marines = of_type(game, MARINE)
    assert len(marines) == dr.START_MARINES - 1 + reinforcements
    assert world.selected[0, 0, marines].all()
    assert sorted(world.health[0, marines])[0] == 20.0  # survivors keep their hit points
    assert len(np.flatnonzero(world.alive[0] & (world.owner[0] == 2))) == len(wave)


def test_wave_maps_end_when_every_marine_is_dead():
    env = minigames.SC2Env(map_name="DefeatRoaches", players=[sc2_env.Agent(sc2_env.Race.terran)],
                           agent_interface_format=sc2_env.AgentInterfaceFormat(
                               feature_dimensions=sc2_env.Dimensions(32, 32)), random_seed=1)
    env.reset()
    env.step([F.no_op()])  # pysc2 pays no reward on the first step after a reset
    world = env.core.world
    world.health[0, of_type(env.core, MARINE)] = 0.0
    timestep = env.step([F.no_op()])[0]
    assert timestep.last() and timestep.discount == 0.0
    assert timestep.reward == -dr.START_MARINES


def test_find_and_defeat_zerglings_start_camera_and_fog():
    game = make_game("FindAndDefeatZerglings", n=5, use_feature_units=True)
    world = game.world
    for e in range(5):
        marines = of_type(game, MARINE, e)
        assert np.allclose(np.hypot(*(world.pos[e, marines] - fdz.CENTRE).T), 1.0)
        assert world.selected[e, 0, marines].all()
        lings = world.pos[e, of_type(game, ZERGLING, e)]
        assert len(lings) == fdz.ZERGLINGS
        spacing = np.hypot(*(lings[:, None] - lings[None]).T)
        assert spacing[~np.eye(len(lings), dtype=bool)].min() >= fdz.SPACING - 1e-9
        assert 8.0 <= np.hypot(*(lings[0] - fdz.CENTRE)) <= 9.0
    batch = game.observe()
    minimap = batch["feature_minimap"]
    # Only what the marines see is visible; zerglings in the fog are not drawn.
    visible = minimap[:, features.MINIMAP_FEATURES.visibility_map.index] == 2
    assert visible.any(axis=(1, 2)).all() and not visible.all()
    row, col = game.vision.cell_of(world.pos)
    in_sight = game.vision.grid[np.arange(5)[:, None], 0, row, col] == 2
    lings = world.alive & (world.unit_type == ZERGLING)
    seen = (batch["feature_units"][..., features.FeatureUnit.alliance] == 4).sum(axis=1)
    on_screen = np.zeros(5, int)
    for e in range(5):  # zerglings in sight whose centre is on the screen (x 20-44, y 13-37)
        x, y = world.pos[e, lings[e] & in_sight[e]].T
        on_screen[e] = np.sum((x >= 20) & (x < 44) & (y > 13) & (y <= 37))
    assert np.array_equal(seen, on_screen) and np.all(seen < fdz.ZERGLINGS)
    # The camera moves, and the screen follows it.
    before = batch["feature_screen"][0, features.SCREEN_FEATURES.player_relative.index].copy()
    game.apply(*action(F.move_camera.id, n=5, minimap=(10, 10)))
    assert not np.allclose(world.camera[0, 0], (32.0, 25.0))
    after = game.observe()["feature_screen"][0, features.SCREEN_FEATURES.player_relative.index]
    assert not np.array_equal(before, after)


def test_find_and_defeat_zerglings_scores_and_respawns_far_from_the_marines():
    game = make_game("FindAndDefeatZerglings")
    world = game.world
    lings = of_type(game, ZERGLING)
    world.health[0, lings] = 0.0
    world.health[0, of_type(game, MARINE)[0]] = 0.0
    run(game, 1)
    assert game.score[0] == fdz.ZERGLINGS - 1
    new = world.pos[0, of_type(game, ZERGLING)]
    marines = world.pos[0, of_type(game, MARINE)]
    assert len(new) == fdz.ZERGLINGS
    assert np.hypot(*(new[:, None] - marines[None]).T).min() >= fdz.RESPAWN_DISTANCE
    assert game.map.episode_loops == 2880
