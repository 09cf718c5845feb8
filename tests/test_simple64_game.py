"""Simple64 as a two-player game: pysc2's players list, the start, the end and its reward, the
built-in AI, the paths between the mains, replays of games against the AI."""
import numpy as np
import pytest
from pysc2.agents import random_agent
from pysc2.env import sc2_env
from pysc2.lib import actions, units

from minigames import BatchEnv, SC2Env, replay
from minigames.bots import DIFFICULTIES
from minigames.game import Game, View
from minigames.maps import simple64_terrain as terrain
from minigames.units import TABLE
from minigames.world import Order
from tests.engine_helpers import run

F = actions.FUNCTIONS
AGENT = sc2_env.Agent(sc2_env.Race.terran)
SCREEN = 32


def bot(difficulty="very_easy"):
    return sc2_env.Bot(sc2_env.Race.terran, sc2_env.Difficulty[difficulty])


def make_env(players, **kwargs):
    return SC2Env(map_name="Simple64", players=players,
                  agent_interface_format=sc2_env.AgentInterfaceFormat(
                      feature_dimensions=sc2_env.Dimensions(screen=SCREEN, minimap=SCREEN)),
                  random_seed=5, **kwargs)


def structures(game, player, env=0):
    world = game.world
    return np.flatnonzero(world.alive[env] & (world.owner[env] == player)
                          & TABLE.is_structure[world.unit_type[env]])


@pytest.mark.parametrize("players, message", [
    ([sc2_env.Agent(sc2_env.Race.zerg), bot()], "Terran only; got zerg"),
    ([AGENT, sc2_env.Bot(sc2_env.Race.terran, sc2_env.Difficulty.hard)],
     "plays very_easy, easy, medium; got hard"),
    ([AGENT], "Maps support 2 - 2 players"),
    ([bot(), bot()], "at least one agent"),
])
def test_players_the_embedded_game_cannot_seat_are_one_clear_error(players, message):
    with pytest.raises(ValueError, match=message):
        make_env(players)


def test_a_mini_game_still_takes_exactly_one_agent():
    with pytest.raises(ValueError, match="Single player maps require exactly one Agent"):
        SC2Env(map_name="MoveToBeacon", players=[AGENT, AGENT],
               agent_interface_format=sc2_env.AgentInterfaceFormat(
                   feature_dimensions=sc2_env.Dimensions(screen=16, minimap=16)))


def test_each_player_starts_at_its_own_start_location_with_a_command_center_and_12_scvs():
    env = make_env([AGENT, AGENT])
    first, second = env.reset()
    world = env.core.world
    centres = []
    for player, timestep in ((1, first), (2, second)):
        hall = np.flatnonzero(world.alive[0] & (world.owner[0] == player)
                              & (world.unit_type[0] == units.Terran.CommandCenter))
        assert len(hall) == 1
        centres.append(tuple(world.pos[0, hall[0]]))
        assert timestep.observation.player.player_id == player
        assert timestep.observation.player.minerals == 50
        assert timestep.observation.player.food_workers == 12
        assert timestep.observation.player.food_cap == 15
    assert sorted(centres) == sorted(terrain.START_LOCATIONS)


def test_fog_hides_the_enemy_base_from_each_player():
    env = make_env([AGENT, AGENT])
    for timestep in env.reset():
        relative = np.asarray(timestep.observation.feature_minimap.player_relative)
        assert (relative == 1).any()        # its own base
        assert not (relative == 4).any()   # no enemy seen at the start


def test_destroying_every_enemy_structure_wins_and_pays_plus_one_and_minus_one():
    env = make_env([AGENT, AGENT])
    env.reset()
    game = env.core
    game.world.kill(np.zeros(len(structures(game, 2)), np.int64), structures(game, 2))
    first, second = env.step([F.no_op(), F.no_op()])
    assert first.last() and second.last()
    assert (first.reward, second.reward) == (1, -1)
    assert first.discount == 0


def test_a_game_cut_at_game_steps_per_episode_is_a_tie_with_reward_zero():
    env = make_env([AGENT, bot()], game_steps_per_episode=64, step_mul=16)
    env.reset()
    rewards = []
    timestep = None
    for _ in range(4):
        timestep, = env.step([F.no_op()])
        rewards.append(timestep.reward)
    assert timestep.last()
    assert rewards == [0, 0, 0, 0]


def test_batch_env_pays_the_outcome_on_the_last_step_only():
    env = BatchEnv("Simple64", num_envs=2, screen_size=16, minimap_size=16, seed=3)
    env.reset()
    game = env.core
    lost = structures(game, 2, env=1)
    game.world.kill(np.ones(len(lost), np.int64), lost)
    ids = np.zeros(2, np.int64)
    _, reward, done = env.step(ids, np.full((2, 13), -1))
    assert done.tolist() == [False, True]
    assert reward.tolist() == [0.0, 1.0]


@pytest.mark.parametrize("difficulty", list(DIFFICULTIES))
def test_the_built_in_ai_builds_its_economy_and_army(difficulty):
    """Left alone for five game minutes, each difficulty has its SCVs, a depot, its Barracks
    and Marines."""
    game = Game("Simple64", 1, View((16, 16), (16, 16)), seeds=[2], bots={2: difficulty})
    run(game, 5 * 60 * 16)
    world = game.world
    own = world.alive[0] & (world.owner[0] == 2)
    count = {t: int((own & (world.unit_type[0] == t)).sum())
             for t in (units.Terran.SCV, units.Terran.SupplyDepot, units.Terran.Barracks,
                       units.Terran.Marine)}
    settings = DIFFICULTIES[difficulty]
    assert count[units.Terran.SCV] == settings.workers
    assert count[units.Terran.SupplyDepot] >= 1
    assert count[units.Terran.Barracks] == settings.barracks
    assert count[units.Terran.Marine] >= 2


def test_a_medium_ai_destroys_an_idle_player():
    game = Game("Simple64", 1, View((16, 16), (16, 16)), seeds=[4], bots={2: "medium"})
    end = np.array([14 * 60 * 16])
    game.advance(int(end[0]), end)
    assert game.over()[0]
    assert game.map.outcome(game)[0].tolist() == [-1, 1]


def test_a_marine_walks_from_one_main_to_the_other_over_pathable_ground_only():
    game = Game("Simple64", 1, View((16, 16), (16, 16)), seeds=[0])
    world = game.world
    marine = world.spawn(np.array([0]), units.Terran.Marine, 1,
                         np.array([terrain.START_LOCATIONS[0]]) + [0.0, -4.0])
    goal = np.array(terrain.START_LOCATIONS[1]) + [0.0, 4.0]
    world.give_orders(np.array([0]), marine, Order.MOVE, goal[None])
    pathable = game.map.pathable()
    height = game.map.map_size[1]
    for _ in range(200):
        run(game, 8)
        x, y = world.pos[0, marine[0]]
        assert pathable[height - 1 - int(y), int(x)]
        if world.order_count[0, marine[0]] == 0:
            break
    assert world.order_count[0, marine[0]] == 0  # arrived, well before 200 * 8 game loops
    assert np.hypot(*(world.pos[0, marine[0]] - goal)) < 1.0


def test_a_replay_against_the_built_in_ai_plays_back_to_the_same_game(tmp_path):
    env = make_env([AGENT, bot("easy")], step_mul=8)
    agent = random_agent.RandomAgent()
    agent.setup(env.observation_spec()[0], env.action_spec()[0])
    np.random.seed(0)  # RandomAgent draws from numpy's global generator
    timestep, = env.reset()
    for _ in range(60):
        timestep, = env.step([agent.step(timestep)])
    record = replay.load(env.save_replay(str(tmp_path)))
    assert record["bots"] == {"2": "easy"}
    assert len(record["actions"]) > 0
    played = list(replay.play_back(record))
    assert played[-1].observation.game_loop[0] == timestep.observation.game_loop[0]
    for key in ("feature_screen", "feature_minimap", "player", "single_select"):
        np.testing.assert_array_equal(played[-1].observation[key], timestep.observation[key])
    # Observing only the loops the converter keeps changes nothing in them (fog included).
    sparse = list(replay.play_back(record, observe_every=8))
    every = {int(t.observation.game_loop[0]): t.observation for t in played}
    assert len(every) > 2 * len(sparse) > 0
    for timestep in sparse:
        theirs = every[int(timestep.observation.game_loop[0])]
        for key in ("feature_screen", "feature_minimap", "player", "last_actions"):
            np.testing.assert_array_equal(timestep.observation[key], theirs[key])


def test_move_camera_moves_the_view_over_the_whole_map():
    env = make_env([AGENT, bot()])
    timestep, = env.reset()
    start = env.core.world.camera[0, 0].copy()
    own = np.argwhere(np.asarray(timestep.observation.feature_minimap.player_relative) == 1)
    far_corner = [0, 0] if own.mean(axis=0)[0] > SCREEN / 2 else [SCREEN - 1, SCREEN - 1]
    timestep, = env.step([F.move_camera(far_corner)])
    moved = env.core.world.camera[0, 0]
    assert np.hypot(*(moved - start)) > 20
    # The screen now shows no own unit (the base is far away), the minimap still shows the base.
    assert not (np.asarray(timestep.observation.feature_screen.player_relative) == 1).any()
    assert (np.asarray(timestep.observation.feature_minimap.player_relative) == 1).any()


def test_a_score_index_pays_each_agent_its_own_score_change():
    """score_index >= 0 on a melee map: each agent is paid the change of its own
    score_cumulative[score_index] (here spent_minerals, index 11), as pysc2 pays it."""
    env = make_env([AGENT, AGENT], score_index=11)
    env.reset()
    env.step([F.no_op(), F.no_op()])  # pysc2 pays nothing on the first step after a reset
    env.core.world.score_cumulative[0, 0, 11] += 50  # player 1 spends 50 minerals
    first, second = env.step([F.no_op(), F.no_op()])
    assert (first.reward, second.reward) == (50, 0)
