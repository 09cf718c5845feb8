"""render: GIF frames with the score and game loop written on them, and the minimap beside the
screen on maps whose playable area the camera does not cover."""
import numpy as np

from minigames import render
from minigames.game import Game, View


def game(map_name):
    return Game(map_name, 1, View(screen_size=(16, 16), minimap_size=(16, 16)), seeds=[0])


def test_a_frame_of_move_to_beacon_is_the_screen_with_the_score_written_on_it():
    beacon = game("MoveToBeacon")
    assert not render.has_minimap(beacon)
    screen = render.screen_rgb(beacon, 0)
    frame = render.frame_rgb(beacon, 0)
    assert frame.shape == screen.shape
    # The text box in the top-left corner: black with white letters; the rest untouched.
    corner = frame[:16, :100]
    assert (corner == 0).all(axis=-1).mean() > 0.5 and (corner > 200).all(axis=-1).any()
    np.testing.assert_array_equal(frame[20:], screen[20:])


def test_a_map_larger_than_the_camera_gets_the_minimap_beside_the_screen():
    zerglings = game("FindAndDefeatZerglings")
    assert render.has_minimap(zerglings)
    screen = render.screen_rgb(zerglings, 0)
    frame = render.frame_rgb(zerglings, 0)
    height, width = screen.shape[:2]
    assert frame.shape == (height, width + height // 2, 3)
    minimap = frame[-(height // 2):, width:]
    np.testing.assert_array_equal(minimap, render.minimap_rgb(zerglings, 0, height // 2))
    assert (minimap == 255).all(axis=-1).any()  # the camera's frame
    assert (minimap == render._OWN).all(axis=-1).any()  # the marines
