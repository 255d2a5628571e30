"""The Open-RMF / traffic-editor export of a building (``<name>.building.yaml``).

Field names follow ``rmf_building_map_tools`` (``building_map/{level,lift,edge,vertex}.py``):
vertices ``[x, y, z, name, {param: [type, value]}]``, lanes ``[i, j, {graph_idx, bidirectional,
...}]``, param types 1 string, 2 int, 3 double, 4 bool. Its nav-graph generator marks a vertex
inside a lift's cabin with ``lift: <name>`` on every level the lift serves, which is how RMF
plans across floors; so each level gets, per lift, a cabin vertex at the lift centre joined by a
lane to the staging vertex in front of the doors, and the staging vertex joined to the level's
roadmap (:mod:`multifloor_slam.navigation.nav_graph`).
"""

from __future__ import annotations

import json
import math
from typing import Any, cast

import numpy as np
import yaml

from multifloor_slam.io.building_render import Canvas
from multifloor_slam.maps.building import Building, ElevatorLink, FloorLayer
from multifloor_slam.maps.scan_geometry import wrap_angle
from multifloor_slam.navigation.derived_cache import DerivedCache, grid_digest
from multifloor_slam.navigation.free_space import Mask, traversable
from multifloor_slam.navigation.nav_graph import NavGraph, NavGraphParams, build_nav_graph

_STRING, _INT, _DOUBLE, _BOOL = 1, 2, 3, 4


def lift_name(link: ElevatorLink) -> str:
    """The lift's name in the export."""
    return f'lift_{link.id}'


def staging_name(link: ElevatorLink, label: str) -> str:
    """Name of the staging vertex of ``link`` on level ``label``."""
    return f'{lift_name(link)}_{label}_staging'


def cabin_name(link: ElevatorLink, label: str) -> str:
    """Name of the cabin vertex of ``link`` on level ``label``."""
    return f'{lift_name(link)}_{label}_cabin'


def _door_yaw(link: ElevatorLink, floor: int) -> float | None:
    """Direction from the car to its opening on ``floor`` (the staging heading points back)."""
    if floor not in link.staging or link.staging_method.get(floor) == 'car':
        return None
    return link.staging[floor][2] + math.pi


def _lift(
    building: Building, link: ElevatorLink, canvas: Canvas, labels: dict[int, str]
) -> dict[str, Any]:
    """One ``lifts:`` entry: the cabin turned so its (first) door faces the staging pose.

    In the lift's frame ``width`` runs along x and ``depth`` along y; a door on the ``front``
    side sits at ``(0, depth / 2)``. Floors whose opening faces another side get another door.
    """
    served = [f for f in link.floors if f in labels]
    doors_yaw = {f: _door_yaw(link, f) for f in served}
    ref = next((y for y in doors_yaw.values() if y is not None), math.pi / 2.0)
    yaw = wrap_angle(ref - math.pi / 2.0)
    w, d = float(building.car_width_m), float(building.car_depth_m)
    sides = {  # quarter turns from the front, counter-clockwise: (x, y, motion axis)
        0: (0.0, d / 2.0, 0.0),
        1: (-w / 2.0, 0.0, math.pi / 2.0),
        2: (0.0, -d / 2.0, 0.0),
        3: (w / 2.0, 0.0, math.pi / 2.0),
    }
    doors: dict[str, Any] = {}
    level_doors: dict[str, list[str]] = {}
    for f in served:
        door = doors_yaw[f]
        quarter = 0 if door is None else round(wrap_angle(door - ref) / (math.pi / 2.0)) % 4
        name = f'door{quarter + 1}'
        x, y, axis = sides[quarter]
        span = w if quarter in (0, 2) else d
        doors[name] = {
            'door_type': 2,
            'x': round(x, 3),
            'y': round(y, 3),
            'motion_axis_orientation': round(axis, 6),
            'width': round(min(span, 1.0), 3),
        }
        level_doors[labels[f]] = [name]
    u, v = canvas.pixel(link.x, link.y)
    first, last = labels[served[0]], labels[served[-1]]
    return {
        'x': round(u, 3),
        'y': round(v, 3),
        'yaw': round(yaw, 6),
        'width': w,
        'depth': d,
        'reference_floor_name': first,
        'initial_floor_name': first,
        'lowest_floor': first,
        'highest_floor': last,
        'level_doors': level_doors,
        'doors': dict(sorted(doors.items())),
    }


def _lane(params: dict[str, Any] | None = None) -> dict[str, Any]:
    lane: dict[str, Any] = {
        'bidirectional': [_BOOL, True],
        'graph_idx': [_INT, 0],
        'orientation': [_STRING, ''],
    }
    lane.update(params or {})
    return lane


def _nav_graph(
    fl: FloorLayer,
    label: str,
    lifts: list[ElevatorLink],
    masks: dict[int, Mask],
    params: NavGraphParams,
    cache: DerivedCache | None,
) -> NavGraph:
    """The level's graph, from ``cache`` while the map, the staging points and params match."""
    served = [link for link in lifts if fl.index in link.staging]
    points = np.array([link.staging[fl.index][:2] for link in served], np.float64).reshape(-1, 2)
    names = [staging_name(link, label) for link in served]
    key = None
    if cache is not None:
        pts = points.round(6).tolist()
        tags = tuple((n, *xy) for n, xy in zip(names, pts, strict=True))
        key = ('nav_graph', grid_digest(fl), tags, params)
        hit = cache.get(key)
        if hit is not None:
            return cast(NavGraph, hit)
    mask = masks.get(fl.index)
    if mask is None or mask.robot_radius_m != params.robot_radius_m:
        mask = masks[fl.index] = traversable(fl, params.robot_radius_m)
    graph = build_nav_graph(mask, points, names, params)
    if cache is not None:
        cache.put(key, graph)
    return graph


def _level_graph(
    floor: int,
    label: str,
    graph: NavGraph,
    canvas: Canvas,
    lifts: list[ElevatorLink],
) -> tuple[list[list[Any]], list[list[Any]]]:
    """Vertices and lanes of one level (pixel coordinates, after the two measurement ones)."""
    served = [link for link in lifts if floor in link.staging]
    base = 2  # vertices 0 and 1 carry the level's measurement
    vertices: list[list[Any]] = []
    for (x, y), name in zip(graph.vertices, graph.names, strict=True):
        u, v = canvas.pixel(float(x), float(y))
        extra = {'is_holding_point': [_BOOL, True]} if name else {}
        vertices.append([round(u, 3), round(v, 3), 0.0, name, extra])
    lanes: list[list[Any]] = [
        [int(a) + base, int(b) + base, _lane()] for a, b in graph.lanes.tolist()
    ]
    for link in served:
        name = staging_name(link, label)
        if name not in graph.names:
            continue  # the staging point's piece of the map was pruned (cannot happen: tagged)
        u, v = canvas.pixel(link.x, link.y)
        vertices.append([round(u, 3), round(v, 3), 0.0, cabin_name(link, label), {}])
        cabin = base + len(vertices) - 1
        lanes.append([base + graph.index(name), cabin, _lane()])
    return vertices, lanes


def open_rmf_building(
    building: Building,
    canvas: Canvas,
    drawings: dict[int, str] | None = None,
    masks: dict[int, Mask] | None = None,
    nav: NavGraphParams | None = None,
    cache: DerivedCache | None = None,
) -> dict[str, Any]:
    """An Open-RMF ``*.building.yaml`` (traffic-editor format, ``reference_image`` coordinates).

    Every level's drawing is the floor map on the common canvas, so all levels share pixel
    coordinates; identical fiducials on every level and a measurement per level give RMF the
    alignment and the metres-per-pixel scale. Lifts sit at the mean car position of each link,
    turned so a door faces each floor's staging pose (``ElevatorLink.staging``; links without
    staging get a door on the +y side). Every level gets a nav graph (graph 0) through its
    free space, joined to each lift's staging and cabin vertices. ``drawings`` names each
    floor's drawing file (default ``<name>_<label>.png``); ``masks`` are traversable masks by
    floor index (computed, and added, when missing or of another robot radius); with ``cache``
    a level's graph is reused while its map (by content), its staging points and ``nav`` match.
    """
    nav = nav or NavGraphParams()
    name = building.name
    h, w = canvas.shape
    masks = masks if masks is not None else {}
    labels = {i: fl.label for i, fl in building.floors.items()}
    lift_links = [
        link for link in building.links if len([f for f in link.floors if f in labels]) >= 2
    ]
    levels: dict[str, Any] = {}
    for index, fl in sorted(building.floors.items()):
        drawing = (drawings or {}).get(index, f'{name}_{fl.label}.png')
        graph = _nav_graph(fl, fl.label, lift_links, masks, nav, cache)
        vertices, lanes = _level_graph(index, fl.label, graph, canvas, lift_links)
        levels[fl.label] = {
            'elevation': round(float(fl.elevation_m), 4),
            'drawing': {'filename': drawing},
            'fiducials': [[0.0, 0.0, 'f0'], [float(w), 0.0, 'f1'], [0.0, float(h), 'f2']],
            'vertices': [[0.0, float(h), 0.0, ''], [float(w), float(h), 0.0, ''], *vertices],
            'measurements': [[0, 1, {'distance': [_DOUBLE, round(w * canvas.res, 6)]}]],
            'lanes': lanes,
            'walls': [],
            'doors': [],
            'floors': [],
            'models': [],
            'layers': {},
        }
    lifts = {lift_name(link): _lift(building, link, canvas, labels) for link in lift_links}
    first = min(building.floors) if building.floors else 0
    return {
        'name': name,
        'coordinate_system': 'reference_image',
        'reference_level_name': labels.get(first, 'L0'),
        'levels': levels,
        'lifts': lifts,
    }


#: The long per-level lists, written one JSON flow sequence per line by :func:`dump_open_rmf`.
_ROWS = ('vertices', 'lanes')


def dump_open_rmf(export: dict[str, Any]) -> bytes:
    """The export as YAML text, fast: the vertex and lane rows as one flow sequence a line.

    ``yaml.safe_dump`` builds a node per number (600 000 on two 150 m floors: 12 s in pure
    Python, 4 s with libyaml). A row such as ``[1.0, 2.0, 0.0, "E0", {"k": [4, true]}]`` is
    JSON, which is YAML flow syntax, so those rows are written with ``json.dumps`` into the YAML
    of the rest; the text reads back (``yaml.safe_load``) to the same structure.
    """
    skeleton = dict(export)
    rows: dict[str, list[Any]] = {}
    levels = {}
    for label, level in (export.get('levels') or {}).items():
        level = dict(level)
        for field in _ROWS:
            if field in level:
                marker = f'@rows{len(rows)}@'
                rows[marker] = level[field]
                level[field] = marker
        levels[label] = level
    skeleton['levels'] = levels
    dumper = getattr(yaml, 'CSafeDumper', yaml.SafeDumper)
    text = yaml.dump(skeleton, Dumper=dumper, sort_keys=False, default_flow_style=None)
    out: list[str] = []
    for line in text.splitlines(keepends=True):
        key, sep, value = line.rstrip('\n').partition(': ')
        marker = value.strip("'")
        if sep and marker in rows:
            if not rows[marker]:
                out.append(f'{key}: []\n')
                continue
            pad = ' ' * (len(key) - len(key.lstrip(' ')))
            out.append(f'{key}:\n')
            out.extend(f'{pad}- {json.dumps(row)}\n' for row in rows[marker])
        else:
            out.append(line)
    return ''.join(out).encode('utf-8')


__all__ = ['cabin_name', 'dump_open_rmf', 'lift_name', 'open_rmf_building', 'staging_name']
