"""``multifloor-slam process`` with the real command line: partial bags and early checks.

A bag damaged in the middle is used as far as it can be read; the building is saved, the summary
and ``report.json`` say how much of the bag was used, and the exit status is 3. Everything the
command is given is checked before the bag is read: a bad ``--out``, ``--truth``,
``--resolution`` or ``--floor-table`` is one error line and exit status 2, even with a bag that
could not be read at all (so the check came first).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from cli_helpers import cli, corrupt_middle, unwritable_dir
from small_sim import SMALL_SIM

from multifloor_slam.sim.simulator import SimResult, simulate

CONFIG = SMALL_SIM


@pytest.fixture(scope='module')
def sim(tmp_path_factory: pytest.TempPathFactory) -> SimResult:
    return simulate(CONFIG, tmp_path_factory.mktemp('sim'))


@pytest.fixture(scope='module')
def garbled(tmp_path_factory: pytest.TempPathFactory, sim: SimResult) -> Path:
    """A bag whose MCAP file is garbage: any attempt to read it fails."""
    bag = tmp_path_factory.mktemp('garbled') / 'bag'
    shutil.copytree(sim.bag_path, bag)
    (bag / 'bag.mcap').write_bytes(b'\x89MCAP0\r\n' + b'\x07' * 4096)
    return bag


def test_a_bag_damaged_in_the_middle_is_used_as_far_as_it_goes(
    sim: SimResult, tmp_path: Path
) -> None:
    bag = tmp_path / 'damaged'
    shutil.copytree(sim.bag_path, bag)
    corrupt_middle(bag / 'bag.mcap', at=0.4)
    out = tmp_path / 'building'
    res = cli('process', bag, '--out', out)
    assert res.rc == 3, res.err
    assert 'Traceback' not in res.err
    warning = [x for x in res.err.splitlines() if x.startswith('multifloor-slam process: warning')]
    assert len(warning) == 1 and 'partial input: used' in warning[0], res.err
    assert 'corrupt' in warning[0]
    # The building is saved from what could be read.
    assert (out / 'building.yaml').is_file() and (out / 'L0.yaml').is_file()
    report = json.loads((out / 'report.json').read_text())
    used = report['bag_used']
    assert report['partial'] is True and used['complete'] is False
    assert used['span_s'] == pytest.approx(sim.duration_s, abs=0.5)
    assert 0.15 * used['span_s'] < used['used_s'] < 0.6 * used['span_s']
    assert used['used_fraction'] == pytest.approx(used['used_s'] / used['span_s'])
    streams = ('scan', 'pose', 'odom', 'barometer/pressure')
    expected = sum(sim.message_counts[t] for t in streams)
    assert used['messages_expected'] == expected
    assert 0 < used['messages_read'] < 0.6 * expected
    assert used['by_topic']['/scan'][1] == sim.message_counts['scan']
    assert (
        'corrupt' in used['read_error']
        and used['read_error'] == report['read_stats']['read_error']
    )
    # The summary says it too, in place of the full span.
    assert 'PARTIAL INPUT: used' in res.out
    assert f'only {used["used_s"]:.0f} s of {used["span_s"]:.0f} s read' in res.out


def test_a_whole_bag_reports_all_of_it_used(sim: SimResult, tmp_path: Path) -> None:
    out = tmp_path / 'building'
    res = cli('process', sim.bag_path, '--out', out)
    assert res.rc == 0, res.err
    assert 'partial' not in res.err and 'PARTIAL' not in res.out
    report = json.loads((out / 'report.json').read_text())
    used = report['bag_used']
    assert report['partial'] is False and used['complete'] is True
    assert used['used_fraction'] == 1.0 and used['messages_read'] == used['messages_expected']


def test_a_bad_output_folder_is_refused_before_the_bag_is_read(
    garbled: Path, tmp_path: Path
) -> None:
    a_file = tmp_path / 'a_file'
    a_file.write_text('x')
    for out in (a_file, a_file / 'below'):
        line = cli('process', garbled, '--out', out).one_line_error('process')
        assert line.startswith(f'multifloor-slam process: error: --out {out}'), line
        assert 'is a file' in line
    ro = unwritable_dir(tmp_path)
    if ro is None:
        pytest.skip('no unwritable folder on this machine')
    for out in (ro, ro / 'missing' / 'building'):
        line = cli('process', garbled, '--out', out).one_line_error('process')
        assert f'--out {out}' in line and 'cannot write' in line, line


@pytest.mark.parametrize('value', ['0', '-0.05', 'nan', 'inf'])
def test_a_bad_resolution_is_refused_not_replaced(
    garbled: Path, tmp_path: Path, value: str
) -> None:
    res = cli('process', garbled, '--out', tmp_path / 'out', '--resolution', value)
    assert '--resolution' in res.one_line_error('process')
    assert not (tmp_path / 'out').exists()


@pytest.mark.parametrize(
    ('option', 'value'), [('--staging-distance', '0'), ('--robot-radius', '-1')]
)
def test_bad_staging_options_are_refused(
    garbled: Path, tmp_path: Path, option: str, value: str
) -> None:
    res = cli('process', garbled, '--out', tmp_path / 'out', option, value)
    assert option in res.one_line_error('process')
    assert not (tmp_path / 'out').exists()


def test_a_wrong_truth_folder_or_floor_table_is_refused_before_processing(
    garbled: Path, sim: SimResult, tmp_path: Path
) -> None:
    for truth in (tmp_path, tmp_path / 'missing', sim.bag_path / 'bag.mcap'):
        line = cli('process', garbled, '--out', tmp_path / 'o', '--truth', truth).one_line_error(
            'process'
        )
        assert f'--truth {truth}' in line, line
    line = cli('process', garbled, '--out', tmp_path / 'o', '--floor-table', tmp_path)
    assert '--floor-table' in line.one_line_error('process')
    assert not (tmp_path / 'o').exists()
    # The right ground truth still scores a whole bag.
    res = cli('process', sim.bag_path, '--out', tmp_path / 'ok', '--truth', sim.ground_truth_dir)
    assert res.rc == 0, res.err
    assert 'against the ground truth' in res.out
