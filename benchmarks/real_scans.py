"""Per-floor maps on real laser logs played as multi-floor buildings, beside two reference mappers.

    PYTHONPATH=. python benchmarks/real_scans.py [--buildings default rb2 rb3] [--camera]
                                                 [--work out/real_scans] [--json FILE]
                                                 [--mapper '{"revisit_global": false}'] [--tag T]

Needs ``../shared`` next to the repository (the real-scan building tools and the Radish laser
logs); without it the benchmark says so and exits 0. For each building it:

1. builds the bag with ``../shared/tools/realbuilding/make_bag.py`` (cached under ``--work``: same
   arguments, same bytes);
2. processes it with ``process_bag`` (detector ``off``: rides from the barometer alone; with
   ``--camera`` also ``run``, the YOLO detector on the bag's camera);
3. runs ``baselines.py`` (``oracle``: knows the floors and the SLAM jumps; ``split``: knows the
   floors, keeps the jumping ``/pose``) once per building;
4. scores every output with ``score.py`` and prints per floor occupied IoU, free IoU and
   contamination beside the oracle's and split's, and whether the issue's targets hold:
   IoU >= 0.95 x oracle, contamination <= oracle + 1 point, free IoU >= oracle - 0.05.

The references (``truth/``, ``oracle``) take free space only from returning beams. Compare the
mapper's rules with ``--mapper '{"no_return_free": "cap"}' --tag _cap`` (no-return beams free
up to ``max_free_range_m``, the old rule) against the default (up to the neighbouring returns).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / 'shared'
TOOLS = SHARED / 'tools' / 'realbuilding'

#: name -> make_bag.py arguments (different logs, orders and seeds).
BUILDINGS: dict[str, list[str]] = {
    'default': [],
    'rb2': ['--floors', 'fhw', 'fr101', 'edmonton', '--seed', '5'],
    'rb3': ['--floors', 'seattle', 'edmonton', 'fr101', '--seed', '11'],
    'rb4': ['--floors', 'fr101', 'acapulco', 'fhw', '--seed', '3'],
}

IOU_RATIO = 0.95
CONTAM_POINTS = 0.01
FREE_IOU_GAP = 0.05


def _load_score() -> ModuleType:
    sys.path.insert(0, str(TOOLS))
    spec = importlib.util.spec_from_file_location('realbuilding_score', TOOLS / 'score.py')
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # (its dataclasses look their module up)
    spec.loader.exec_module(mod)
    return mod


def _run(cmd: list[str]) -> None:
    res = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if res.returncode != 0:
        raise RuntimeError(f'{" ".join(cmd)} failed:\n{res.stdout[-2000:]}\n{res.stderr[-2000:]}')


def build(name: str, work: Path) -> Path:
    """The building's folder (bag/ + truth/), made by make_bag.py unless already there."""
    root = work / name
    args = BUILDINGS[name]
    stamp = root / 'make_bag_args.json'
    made = (root / 'truth' / 'truth.json').exists() and stamp.exists()
    if made and json.loads(stamp.read_text()) == args:
        return root
    root.mkdir(parents=True, exist_ok=True)
    _run([sys.executable, str(TOOLS / 'make_bag.py'), '--out', str(root), '--force', *args])
    stamp.write_text(json.dumps(args))
    return root


def baselines(root: Path) -> Path:
    out = root / 'base'
    if not (out / 'oracle').is_dir() or not (out / 'split').is_dir():
        _run([sys.executable, str(TOOLS / 'baselines.py'), str(root), str(out)])
    return out


def process(
    root: Path, detector: str, mapper: dict[str, Any] | None = None, tag: str = ''
) -> tuple[Path, dict[str, Any]]:
    from multifloor_slam.maps.params import MapperParams
    from multifloor_slam.pipeline.process import ProcessOptions, process_bag

    out = root / f'out_{detector}{tag}'
    params = MapperParams(**mapper) if mapper else None
    t0 = time.perf_counter()
    options = ProcessOptions(detector=detector, progress=False, mapper_params=params)
    report = process_bag(root / 'bag', out, options)
    info = {
        'wall_s': time.perf_counter() - t0,
        'rides': len(report.rides),
        'links': len(report.links),
        'map_stats': report.map_stats,
    }
    return out, info


def _floor(result: dict[str, Any], j: int) -> dict[str, Any]:
    return result['floors'][j]


def compare(
    name: str, ours: dict[str, Any], oracle: dict[str, Any], split: dict[str, Any]
) -> bool:
    """Print the per-floor table; True when every floor meets the targets."""
    print(
        f'{"floor":5s} {"log":9s} | {"IoU":>5s} {"oracle":>6s} {"split":>5s} | '
        f'{"freeIoU":>7s} {"oracle":>6s} {"split":>5s} | '
        f'{"contam%":>7s} {"oracle":>6s} {"split":>6s} | targets'
    )
    ok_all = True
    for j, row in enumerate(ours['floors']):
        o, s = _floor(oracle, j), _floor(split, j)
        iou = row.get('occ_iou', 0.0)
        free = row.get('free_iou', 0.0)
        con = row.get('contamination', 1.0)
        o_iou, o_free = o.get('occ_iou', 0.0), o.get('free_iou', 0.0)
        o_con = o.get('contamination', 1.0)
        checks = {
            'iou': iou >= IOU_RATIO * o_iou,
            'contam': con <= o_con + CONTAM_POINTS,
            'free': free >= o_free - FREE_IOU_GAP,
        }
        ok = all(checks.values()) and bool(row.get('output'))
        ok_all &= ok
        verdict = 'ok' if ok else 'MISS ' + ','.join(k for k, v in checks.items() if not v)
        print(
            f'{row["label"]:5s} {row["dataset"][:9]:9s} | '
            f'{iou:5.3f} {o_iou:6.3f} {s.get("occ_iou", 0.0):5.3f} | '
            f'{free:7.3f} {o_free:6.3f} {s.get("free_iou", 0.0):5.3f} | '
            f'{100 * con:7.2f} {100 * o_con:6.2f} {100 * s.get("contamination", 1.0):6.2f} | '
            f'{verdict}'
        )
    if ours['extra_outputs']:
        print('  unmatched output maps (fragments):', ', '.join(ours['extra_outputs']))
    print(
        f'{name}: floors {ours["n_out"]}/{ours["n_ref"]}, min IoU {ours["min_occ_iou"]:.3f}, '
        f'max contamination {100 * ours["max_contamination"]:.2f} %, '
        f'targets {"met" if ok_all else "MISSED"}'
    )
    return ok_all


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument(
        '--buildings', nargs='+', default=['default', 'rb2', 'rb3'], choices=sorted(BUILDINGS)
    )
    ap.add_argument('--camera', action='store_true', help='also run the detector on the camera')
    ap.add_argument(
        '--work', type=Path, default=REPO / 'out' / 'real_scans', help='bags, outputs (cached)'
    )
    ap.add_argument('--json', type=Path, default=None, help='write every score here')
    ap.add_argument(
        '--mapper',
        type=json.loads,
        default=None,
        help='MapperParams overrides as JSON, e.g. \'{"revisit_global": false}\'',
    )
    ap.add_argument('--tag', default='', help='suffix of the output folders (out_off<TAG>)')
    args = ap.parse_args(argv)
    if not (TOOLS / 'make_bag.py').exists() or not (SHARED / 'data' / 'laser-logs').is_dir():
        print(f'real_scans: skipped: {SHARED} (real-scan building tools and laser logs) is absent')
        return 0
    score = _load_score()
    results: dict[str, Any] = {}
    all_ok = True
    for name in args.buildings:
        print(f'\n=== {name}: make_bag.py {" ".join(BUILDINGS[name]) or "(defaults)"}')
        try:
            root = build(name, args.work)
        except RuntimeError as err:
            print(f'{name}: could not build: {err}')
            all_ok = False
            continue
        base = baselines(root)
        truth = root / 'truth'
        oracle = score.score(truth, base / 'oracle')
        split = score.score(truth, base / 'split')
        results[name] = {'oracle': oracle, 'split': split}
        for detector in ['off'] + (['run'] if args.camera else []):
            out, info = process(root, detector, args.mapper, args.tag)
            ours = score.score(truth, out)
            results[name][detector] = {'score': ours, **info}
            stats = info['map_stats']
            print(
                f'-- detector {detector}: {info["wall_s"]:.1f} s, rides {info["rides"]}, '
                f'links {info["links"]}, '
                f'scans integrated {stats.get("scans_integrated", 0)}, revisits accepted '
                f'{stats.get("icp_accepted", 0)} / rejected {stats.get("icp_rejected", 0)}'
            )
            all_ok &= compare(f'{name} ({detector})', ours, oracle, split)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, default=float))
    print('\nreal-scan buildings: targets', 'met' if all_ok else 'MISSED')
    return 0


if __name__ == '__main__':
    sys.exit(main())
