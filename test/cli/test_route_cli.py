"""``multifloor-slam route``: text and JSON output, the picture, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import pytest
from route_building import make_building

from multifloor_slam.cli.main import main
from multifloor_slam.io.building_files import save_building


@pytest.fixture(scope='module')
def saved(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The corridor building saved as files; the save finds each stop's staging pose."""
    folder = tmp_path_factory.mktemp('corridors') / 'building'
    save_building(make_building({0: (3.0, (0, 1)), 1: (20.0, (0, 1))}, staging=False), folder)
    return folder


def _route(capsys: pytest.CaptureFixture[str], *argv: str | Path) -> tuple[int, str, str]:
    rc = main(['route', *map(str, argv)])
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_json_output_lists_the_legs(saved: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, err = _route(capsys, saved / 'building.yaml', '--from', 'L0', '18', '2', '--to',
                          '1', '17', '2', '--json')  # fmt: skip
    assert rc == 0, err
    data = json.loads(out)
    assert [leg['kind'] for leg in data['legs']] == ['drive', 'ride', 'drive']
    ride = data['legs'][1]
    assert (ride['elevator'], ride['from_label'], ride['to_label']) == (1, 'L0', 'L1')
    assert data['legs'][0]['waypoints'][0] == [18.0, 2.0]
    assert data['legs'][-1]['waypoints'][-1] == [17.0, 2.0]


def test_text_output_and_the_picture(
    saved: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    png = tmp_path / 'route.png'
    rc, out, err = _route(capsys, saved, '--from', 'L0', '5', '2', '--to', 'L1', '6', '2',
                          '--png', png, '--robot-radius', '0.2')  # fmt: skip
    assert rc == 0, err
    lines = out.strip().splitlines()
    assert lines[0].startswith('1. drive on L0 from (5.00, 2.00)')
    assert lines[1].startswith('2. ride elevator E0 from L0 to L1')
    assert lines[-1].startswith('driven ')
    img = cv2.imread(str(png))
    assert img is not None and img.shape[1] > img.shape[0] > 40  # two panels side by side


@pytest.mark.parametrize(
    ('argv', 'message'),
    [
        (['--from', 'L0', '5', '2', '--to', 'L9', '6', '2'], "unknown floor 'L9'"),
        (['--from', 'L0', '5', '2', '--to', 'L1', '0.45', '2'], 'is inside an obstacle'),
        (['--from', 'L0', '5', '2', '--to', 'L1', '2', '7'], 'is in unknown space'),
        (['--from', 'L0', '5', '2', '--to', 'L1', '12', '6.75'], 'is unreachable from start'),
        (['--from', 'L0', 'five', '2', '--to', 'L1', '6', '2'], '--from: X and Y must be numbers'),
        (['--from', 'L0', '5', '2', '--to', 'L1', '6', '2', '--robot-radius', '-1'],
         'robot_radius_m must be'),
    ],
)  # fmt: skip
def test_bad_input_is_one_error_line(
    saved: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    rc, _, err = _route(capsys, saved, *argv)
    assert rc == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith('multifloor-slam route: error: '), err
    assert message in lines[0]


def test_a_missing_building_is_one_error_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rc, _, err = _route(capsys, tmp_path / 'nope.yaml', '--from', 'L0', '1', '1', '--to', 'L1',
                        '1', '1')  # fmt: skip
    assert rc == 2 and 'missing' in err
