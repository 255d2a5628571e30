"""Every command reports bad input the same way: one line on stderr, exit status 2.

The real command line runs in a subprocess (``python -m multifloor_slam``), as a user runs it.
An unexpected exception (a bug) keeps its traceback.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
from cli_helpers import cli, unwritable_dir

from multifloor_slam.cli import main as cli_main
from multifloor_slam.errors import EXIT_BAD_INPUT, EXIT_PARTIAL, BagError


def test_simulate_into_a_file_or_below_one_is_one_line(tmp_path: Path) -> None:
    a_file = tmp_path / 'notes.txt'
    a_file.write_text('x')
    for out in (a_file, a_file / 'sub'):
        line = cli('simulate', out, '--duration', '10', '--no-camera').one_line_error('simulate')
        assert str(a_file) in line and 'is a file' in line
    # OUT_DIR/ground_truth a file: refused before simulating (--force replaces only a bag).
    out = tmp_path / 'sim'
    out.mkdir()
    (out / 'ground_truth').write_text('x')
    res = cli('simulate', out, '--duration', '10', '--no-camera', '--force')
    assert 'ground_truth' in res.one_line_error('simulate')
    assert not (out / 'bag').exists()


def test_simulate_into_an_unwritable_folder_is_one_line(tmp_path: Path) -> None:
    ro = unwritable_dir(tmp_path)
    if ro is None:
        pytest.skip('no unwritable folder on this machine')
    res = cli('simulate', ro / 'missing' / 'sim', '--duration', '10', '--no-camera')
    line = res.one_line_error('simulate')
    assert 'cannot write' in line and str(ro) in line


def test_train_into_a_file_is_refused_before_any_work(tmp_path: Path) -> None:
    a_file = tmp_path / 'weights.pt'
    a_file.write_text('x')
    line = cli('train', '--out', a_file, '--images', '2', '--epochs', '1').one_line_error('train')
    assert '--out' in line and 'is a file' in line


def test_bad_values_and_missing_paths_exit_2(tmp_path: Path) -> None:
    res = cli('simulate', tmp_path / 'x', '--floors', '13')
    assert 'floors must be 1..12' in res.one_line_error('simulate')
    res = cli('floors', tmp_path / 'missing.csv')
    assert 'does not exist' in res.one_line_error('floors')
    res = cli('process', tmp_path / 'missing_bag', '--out', tmp_path / 'out')
    assert 'missing_bag' in res.one_line_error('process')
    assert not (tmp_path / 'out').exists()


def test_an_unexpected_exception_keeps_its_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def bug(args: argparse.Namespace) -> int:
        raise ZeroDivisionError('a bug')

    monkeypatch.setattr('multifloor_slam.cli.floors.run', bug)
    with pytest.raises(ZeroDivisionError):
        cli_main.main(['floors', 'x.csv'])


def test_handled_errors_are_one_line_and_oserrors_name_their_file(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def missing(args: argparse.Namespace) -> int:
        raise FileNotFoundError(2, 'No such file or directory', '/data/x.yaml')

    monkeypatch.setattr('multifloor_slam.cli.floors.run', missing)
    assert cli_main.main(['floors', 'x.csv']) == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert err == (
        'multifloor-slam floors: error: cannot use /data/x.yaml: No such file or directory\n'
    )

    def listing(args: argparse.Namespace) -> int:
        raise BagError('bag b has no topic /scan for scan. The bag has:\n  /a [t] (1 msgs)')

    monkeypatch.setattr('multifloor_slam.cli.floors.run', listing)
    assert cli_main.main(['floors', 'x.csv']) == EXIT_BAD_INPUT
    lines = capsys.readouterr().err.splitlines()
    assert (
        lines[0]
        == 'multifloor-slam floors: error: bag b has no topic /scan for scan. The bag has:'
    )
    assert lines[1:] == ['  /a [t] (1 msgs)']  # detail lines follow, indented

    def partial(args: argparse.Namespace) -> int:
        return EXIT_PARTIAL

    monkeypatch.setattr('multifloor_slam.cli.floors.run', partial)
    assert cli_main.main(['floors', 'x.csv']) == EXIT_PARTIAL
