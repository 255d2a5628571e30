"""``multifloor-slam process``: a bag in, a building and a report out, without middleware."""

from __future__ import annotations

import json
import logging
import resource
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from multifloor_slam.errors import BagError, ConfigError, MultifloorError
from multifloor_slam.floors.floor_table import FloorTable
from multifloor_slam.floors.params import FloorEstimatorParams
from multifloor_slam.io.bag_reader import BagReader
from multifloor_slam.io.bag_stats import Coverage
from multifloor_slam.maps.mapper import BuildingMapper, MapperParams
from multifloor_slam.pipeline.building_pipeline import BuildingPipeline
from multifloor_slam.pipeline.elevator_stage import ElevatorStage
from multifloor_slam.pipeline.floor_stage import FloorStage, FloorStageParams
from multifloor_slam.pipeline.map_stage import MapStage, MapStageParams

log = logging.getLogger(__name__)

#: How elevator states are obtained.
DETECTOR_MODES = ('auto', 'run', 'recorded', 'off')


@dataclass(frozen=True)
class ProcessOptions:
    """What to read and how to process it.

    Attributes:
        topics: stream kind -> topic (None: the contract's default name).
        detector: ``run`` runs the YOLO detector on the camera topic, ``recorded`` uses the
            bag's ``elevator/state``, ``off`` uses neither, ``auto`` runs the detector when the
            bag has a camera topic.
        detector_rate_hz: at most this many frames per second go to the detector (0 = all).
        detector_params: overrides for ``DetectorParams`` (model_path, device, imgsz, ...).
        floor_params: floor estimator parameters.
        floor_stage_params: pressure unit, temperature pairing, start floor rule.
        mapper_params: map layer parameters.
        map_stage_params: event timing and rates of the map stage.
        floor_table: a known floor table (YAML) to start from.
        initial_floor: the floor the recording starts on (None: the floor table's saved
            floor, else ``floor_stage_params.initial_floor``).
        progress: show a progress bar with an ETA on stderr.
    """

    topics: dict[str, str | None] = field(default_factory=dict)
    detector: str = 'auto'
    detector_rate_hz: float = 0.0
    detector_params: dict[str, Any] = field(default_factory=dict)
    floor_params: FloorEstimatorParams = field(default_factory=FloorEstimatorParams)
    floor_stage_params: FloorStageParams = field(default_factory=FloorStageParams)
    mapper_params: MapperParams | None = None
    map_stage_params: MapStageParams = field(default_factory=MapStageParams)
    floor_table: Path | None = None
    initial_floor: int | None = None
    progress: bool = True


@dataclass
class ProcessReport:
    """What ``process`` found and how long it took; written as ``report.json``."""

    bag: str
    out_dir: str
    building_yaml: str
    picture: str
    bag_start_s: float
    bag_duration_s: float
    wall_s: float
    detector: str
    floors: list[dict[str, Any]]
    rides: list[dict[str, Any]]
    links: list[dict[str, Any]]
    floor_trace: list[tuple[float, int, bool]]
    counts: dict[str, int]
    stage_seconds: dict[str, float]
    map_stats: dict[str, int]
    floor_stats: dict[str, int]
    read_stats: dict[str, Any]
    peak_rss_mb: float
    bag_used: dict[str, Any] = field(default_factory=dict)
    #: trips of the robot: car stops it stayed in are ``stops``; ``to`` is where it left the car
    trips: list[dict[str, Any]] = field(default_factory=list)

    @property
    def partial(self) -> bool:
        """Only part of the bag could be read (it ends early or is corrupt)."""
        return bool(self.bag_used) and not self.bag_used.get('complete', True)

    def partial_line(self) -> str:
        """One line saying how much of the bag was used ('' when all of it was)."""
        return (
            f'partial input: {Coverage.from_dict(self.bag_used).describe()}'
            if self.partial
            else ''
        )

    @property
    def used_duration_s(self) -> float:
        """Seconds of the bag that were read (all of it unless the read stopped early)."""
        return float(self.bag_used.get('used_s', self.bag_duration_s))

    @property
    def realtime_factor(self) -> float:
        """Bag seconds processed per wall-clock second."""
        return self.used_duration_s / self.wall_s if self.wall_s > 0 else float('inf')

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        d = dict(self.__dict__)
        d['realtime_factor'] = self.realtime_factor
        d['partial'] = self.partial
        return d

    def summary(self) -> str:
        """A few human lines for the terminal."""
        span = f'{self.bag_duration_s:.0f} s'
        if self.partial:
            span = f'only {self.used_duration_s:.0f} s of {self.bag_used["span_s"]:.0f} s read'
        lines = [
            f'bag: {self.bag} ({span}) processed in {self.wall_s:.1f} s '
            f'({self.realtime_factor:.1f}x real time, detector: {self.detector})',
        ]
        if self.partial:
            lines.append(f'PARTIAL INPUT: {self.partial_line().removeprefix("partial input: ")}')
        lines += [
            f'floors: {len(self.floors)}, rides: {len(self.rides)}, '
            f'elevator links: {len(self.links)}',
        ]
        stayed = sum(len(t['stops']) for t in self.trips)
        if stayed:
            lines.append(
                f'trips: {len(self.trips)} (robot exits), car stops: {len(self.rides)} '
                f'({stayed} with the robot staying in)'
            )
        for f in self.floors:
            lines.append(
                f'  {f["label"]:>4}  index {f["index"]:>3}  elevation {f["elevation_m"]:6.2f} m  '
                f'{f["occupied_cells"]:>7} occupied cells'
            )
        for r in self.rides:
            t0, t1 = r['t_start'] - self.bag_start_s, r['t_end'] - self.bag_start_s
            lines.append(
                f'  ride at {t0:7.1f}-{t1:7.1f} s  {r["from_label"]} -> '
                f'{r["to_label"]}  dz {r["dz_m"]:+.2f} m  confidence {r["confidence"]:.2f}'
            )
        lines.append(f'building: {self.building_yaml}')
        lines.append(f'picture:  {self.picture}')
        return '\n'.join(lines)


def _make_elevator_stage(options: ProcessOptions) -> ElevatorStage:
    from multifloor_slam.elevators.detector import DetectorParams, ElevatorDetector
    from multifloor_slam.elevators.state import ElevatorStateMachine

    detector = ElevatorDetector(DetectorParams(**options.detector_params))
    return ElevatorStage(detector, ElevatorStateMachine())


def make_pipeline(
    options: ProcessOptions, elevator_stage: ElevatorStage | None
) -> BuildingPipeline:
    """The stages as ``process`` connects them (the nodes build the same from their parameters)."""
    table = _load_table(options.floor_table) if options.floor_table else None
    floor_stage = FloorStage(
        options.floor_stage_params, options.floor_params, table, options.initial_floor
    )
    mapper_params = options.mapper_params or MapperParams()
    map_stage = MapStage(BuildingMapper(mapper_params), options.map_stage_params)
    return BuildingPipeline(floor_stage, map_stage, elevator_stage)


def _load_table(path: Path) -> FloorTable:
    """The floor table at ``path``; an error names the file."""
    try:
        return FloorTable.load(path)
    except MultifloorError as err:
        if str(path) in str(err):
            raise
        raise ConfigError(f'floor table {path}: {err}') from err


def stream_topics(bag: BagReader, options: ProcessOptions) -> tuple[dict[str, str | None], str]:
    """The streams to read (kind -> topic, None = default) and the resolved detector mode."""
    topics = options.topics
    streams: dict[str, str | None] = {
        kind: topics.get(kind) for kind in ('pressure', 'scan', 'pose')
    }
    if topics.get('odom') or bag.has_topic('odom'):
        streams['odom'] = topics.get('odom')  # the heading across rides (anchor_yaw: odom)
    if topics.get('temperature') or bag.has_topic('barometer/temperature'):
        streams['temperature'] = topics.get('temperature')
    mode = options.detector
    if mode not in DETECTOR_MODES:
        raise BagError(f'detector mode {mode!r}: use one of {", ".join(DETECTOR_MODES)}')
    has_camera = bool(topics.get('image')) or any(
        bag.has_topic(t) for t in ('camera/image_raw', 'camera/image_raw/compressed')
    )
    if mode == 'auto':
        mode = 'run' if has_camera else 'off'
    if mode == 'run':
        streams['image'] = topics.get('image')
    elif mode == 'recorded':
        streams['elevator_state'] = topics.get('elevator_state')
    return streams, mode


def process_bag(
    bag_path: Path, out_dir: Path, options: ProcessOptions | None = None
) -> ProcessReport:
    """Process a whole bag deterministically and write the building plus ``report.json``.

    Raises:
        BagError: the bag cannot be read or lacks a needed topic (the message lists its topics).
        MapFileError: the output cannot be written (the previous building stays intact).
    """
    from tqdm import tqdm

    options = options or ProcessOptions()
    out_dir = Path(out_dir)
    t_wall = time.perf_counter()
    with BagReader(bag_path) as bag:
        streams, mode = stream_topics(bag, options)
        pipe = make_pipeline(options, _make_elevator_stage(options) if mode == 'run' else None)
        resolved = {bag.resolve(kind, topic) for kind, topic in streams.items()}
        counts_by_topic = bag.message_counts
        total = sum(counts_by_topic.get(t, 0) for t in resolved)
        t_first, t_last = bag.start_time, bag.end_time
        counts: dict[str, int] = dict.fromkeys(streams, 0)
        counts['images_skipped_rate'] = 0
        min_dt = 1.0 / options.detector_rate_hz if options.detector_rate_hz > 0 else 0.0
        last_image_t = -float('inf')
        bar = tqdm(
            total=total,
            unit='msg',
            disable=not options.progress,
            desc='process',
            mininterval=0.5,
            dynamic_ncols=True,
        )
        with bar:
            for kind, rec in bag.read(streams):
                bar.update()
                counts[kind] += 1
                if kind == 'image':
                    if rec.t - last_image_t < min_dt:
                        counts['images_skipped_rate'] += 1
                        continue
                    last_image_t = rec.t
                pipe.feed(kind, rec)
        read_stats = dict(bag.stats.__dict__)
        read_stats['repaired'] = bag.repaired
        coverage = bag.coverage(sorted(resolved))
    building_yaml = pipe.save(out_dir)
    wall = time.perf_counter() - t_wall
    report = _report(pipe, bag_path, out_dir, building_yaml, (t_first, t_last), wall, mode)
    report.counts = counts
    report.read_stats = read_stats
    report.bag_used = coverage.to_dict()
    _write_json(out_dir / 'report.json', report.to_dict())
    return report


def _report(
    pipe: BuildingPipeline,
    bag_path: Path,
    out_dir: Path,
    building_yaml: Path,
    span: tuple[float, float],
    wall: float,
    mode: str,
) -> ProcessReport:
    mapper = pipe.mapper
    floors = []
    for index, fl in sorted(mapper.floors.items()):
        floors.append(
            {
                'index': index,
                'label': fl.label,
                'elevation_m': float(fl.elevation_m),
                'occupied_cells': int(fl.layer.occupied_mask().sum()),
            }
        )
    links = [
        {
            'id': link.id,
            'x': float(link.x),
            'y': float(link.y),
            'floors': [int(f) for f in link.floors],
        }
        for link in mapper.links
    ]
    return ProcessReport(
        bag=str(bag_path),
        out_dir=str(out_dir),
        building_yaml=str(building_yaml),
        picture=str(_picture(out_dir)),
        bag_start_s=float(span[0]),
        bag_duration_s=float(span[1] - span[0]),
        wall_s=float(wall),
        detector=mode,
        floors=floors,
        rides=[json.loads(r.to_json()) for r in pipe.rides],
        links=links,
        floor_trace=pipe.floor_trace,
        counts={},
        stage_seconds=dict(pipe.timer.seconds),
        map_stats={**mapper.stats, **pipe.map_stage.counts},
        floor_stats=pipe.floor_stage.stats,
        read_stats={},
        peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
        trips=[t.to_dict() for t in pipe.floor_stage.trips.finish(span[1])],
    )


def _picture(out_dir: Path) -> Path:
    pngs = sorted(out_dir.glob('*.png'))
    return pngs[0] if pngs else out_dir / 'building.png'


def _write_json(path: Path, data: dict[str, Any]) -> None:
    from multifloor_slam.io.atomic_file import write_atomic

    write_atomic(path, (json.dumps(data, indent=1, default=float) + '\n').encode())
