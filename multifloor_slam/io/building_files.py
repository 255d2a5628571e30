"""Building files: per-floor Nav2 maps, ``building.yaml``, an Open-RMF export and a PNG picture.

Layout of a saved building directory (DESIGN.md section 2)::

    building.yaml              floors, elevator links, floor table: what ``load_building`` reads
    L0.yaml, L0.pgm            Nav2 map_server map of floor 0 (trinary; loadable as is)
    L0.npz                     the floor's log-odds grid, lossless (so a reload continues exactly)
    <name>.building.yaml       Open-RMF / traffic-editor building (reference_image coordinates)
    <name>_L0.png              the level drawings of that export (all floors on one canvas)
    <name>.png                 a picture: floors side by side, elevator links drawn

Every file is first written to a temporary file in the same directory and fsynced; only when all
of them were written are they renamed into place (``building.yaml`` last). A full disk or an
unwritable directory raises :class:`MapFileError` and leaves the previous files untouched.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import math
import os
import tempfile
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import yaml
from numpy.typing import NDArray

from multifloor_slam.errors import MapFileError
from multifloor_slam.maps.building import Building, ElevatorLink, FloorLayer
from multifloor_slam.maps.occupancy_layer import LayerParams, OccupancyLayer
from multifloor_slam.maps.params import MapperParams

FORMAT = 'multifloor_slam/building 1'
PIXEL_FREE, PIXEL_OCCUPIED, PIXEL_UNKNOWN = 254, 0, 205
#: Thresholds written into a trinary map YAML. They must separate the three fixed pixel values:
#: unknown 205 is occ = 50/255 = 0.1961, so a ``free_thresh`` of 0.25 would load every unknown
#: cell as free (ros-navigation/navigation2 PR #5278 fixed map_saver to write 0.196, as ROS 1 did).
#: The layer's own thresholds decide which cells are drawn free / occupied before that.
NAV2_OCCUPIED_THRESH, NAV2_FREE_THRESH = 0.65, 0.196
_PALETTE = [(0, 0, 220), (0, 160, 0), (220, 0, 0), (0, 140, 220), (160, 0, 160), (0, 160, 160)]


# ---- atomic writes ------------------------------------------------------------------------------
class StagedFiles:
    """Write files to temporaries, then rename them all into place at once.

    Use as a context manager: ``add()`` each file's bytes inside, and leaving the block normally
    renames them (in the order added); an exception removes the temporaries and leaves the
    directory as it was.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self._staged: list[tuple[Path, Path]] = []

    def __enter__(self) -> StagedFiles:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise MapFileError(f'cannot create {self.directory}: {err.strerror or err}') from err
        return self

    def add(self, name: str, data: bytes) -> None:
        """Write ``data`` to a temporary next to ``name`` and fsync it."""
        final = self.directory / name
        try:
            fd, tmp = tempfile.mkstemp(prefix=f'.{name}.', suffix='.tmp', dir=self.directory)
        except OSError as err:
            raise MapFileError(f'cannot write in {self.directory}: {err.strerror or err}') from err
        self._staged.append((Path(tmp), final))
        try:
            with os.fdopen(fd, 'wb') as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.chmod(tmp, 0o644)
        except OSError as err:
            raise MapFileError(f'cannot write {final}: {err.strerror or err}') from err

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is not None:
            self._discard()
            return
        try:
            for tmp, final in self._staged:
                os.replace(tmp, final)
        except OSError as err:
            self._discard()
            raise MapFileError(f'cannot rename into {self.directory}: {err}') from err
        with contextlib.suppress(OSError):  # make the renames durable where the OS allows it
            dfd = os.open(self.directory, os.O_RDONLY)
            try:
                os.fsync(dfd)
            finally:
                os.close(dfd)

    def _discard(self) -> None:
        for tmp, _ in self._staged:
            with contextlib.suppress(OSError):
                tmp.unlink()
        self._staged.clear()


# ---- images -------------------------------------------------------------------------------------
def trinary_image(layer: OccupancyLayer) -> NDArray[np.uint8]:
    """The layer as a Nav2 trinary image: free 254, occupied 0, unknown 205.

    Row 0 is the top (largest y), as map_server expects.
    """
    if layer.shape[0] == 0:
        return np.full((1, 1), PIXEL_UNKNOWN, np.uint8)
    tri = layer.trinary()[::-1]
    img = np.full(tri.shape, PIXEL_UNKNOWN, np.uint8)
    img[tri == 0] = PIXEL_FREE
    img[tri == 100] = PIXEL_OCCUPIED
    return img


def encode_pgm(img: NDArray[np.uint8]) -> bytes:
    """Binary PGM (P5) bytes, the format Nav2's map_saver writes."""
    h, w = img.shape
    return f'P5\n{w} {h}\n255\n'.encode('ascii') + np.ascontiguousarray(img).tobytes()


def decode_pgm(data: bytes) -> NDArray[np.uint8]:
    """Read a binary 8-bit PGM (comments allowed)."""
    tokens: list[bytes] = []
    pos = 0
    while len(tokens) < 4:
        while pos < len(data) and data[pos : pos + 1].isspace():
            pos += 1
        if data[pos : pos + 1] == b'#':
            pos = data.index(b'\n', pos) + 1
            continue
        end = pos
        while end < len(data) and not data[end : end + 1].isspace():
            end += 1
        tokens.append(data[pos:end])
        pos = end
    if tokens[0] != b'P5' or int(tokens[3]) > 255:
        raise MapFileError('only 8-bit binary PGM (P5) maps are supported')
    w, h = int(tokens[1]), int(tokens[2])
    pixels = np.frombuffer(data, np.uint8, count=w * h, offset=pos + 1)
    return pixels.reshape(h, w)


def _encode_png(img: NDArray[np.uint8]) -> bytes:
    ok, buf = cv2.imencode('.png', img)
    if not ok:
        raise MapFileError('PNG encoding failed')
    return buf.tobytes()


def _dump_yaml(data: dict[str, Any]) -> bytes:
    return yaml.safe_dump(data, sort_keys=False, default_flow_style=None).encode('utf-8')


def nav2_map_yaml(image: str, layer: OccupancyLayer) -> dict[str, Any]:
    """The Nav2 map_server YAML of a layer saved as ``image``."""
    ox, oy = layer.origin_xy if layer.shape[0] else (0.0, 0.0)
    return {
        'image': image,
        'mode': 'trinary',
        'resolution': float(layer.resolution),
        'origin': [round(float(ox), 6), round(float(oy), 6), 0.0],
        'negate': 0,
        'occupied_thresh': NAV2_OCCUPIED_THRESH,
        'free_thresh': NAV2_FREE_THRESH,
    }


def _layer_npz(layer: OccupancyLayer) -> bytes:
    buf = io.BytesIO()
    np.savez_compressed(
        buf,
        logodds=layer.logodds,
        cell_offset=np.asarray(layer.cell_offset, np.int64),
        resolution=np.float64(layer.resolution),
    )
    return buf.getvalue()


# ---- common canvas for the export and the picture -----------------------------------------------
class _Canvas:
    """All floors on one pixel grid (one pixel = one cell, row 0 = top)."""

    def __init__(self, building: Building) -> None:
        boxes = []
        for fl in building.floors.values():
            if fl.layer.shape[0]:
                r0, c0 = fl.layer.cell_offset
                h, w = fl.layer.shape
                boxes.append((r0, c0, r0 + h, c0 + w))
        self.res = building.resolution
        if boxes:
            self.r0 = min(b[0] for b in boxes)
            self.c0 = min(b[1] for b in boxes)
            self.r1 = max(b[2] for b in boxes)
            self.c1 = max(b[3] for b in boxes)
        else:
            self.r0 = self.c0 = 0
            self.r1 = self.c1 = 1

    @property
    def shape(self) -> tuple[int, int]:
        return self.r1 - self.r0, self.c1 - self.c0

    def image(self, layer: OccupancyLayer) -> NDArray[np.uint8]:
        out = np.full(self.shape, PIXEL_UNKNOWN, np.uint8)
        if layer.shape[0]:
            r0, c0 = layer.cell_offset
            h, w = layer.shape
            top = self.r1 - (r0 + h)
            out[top : top + h, c0 - self.c0 : c0 - self.c0 + w] = trinary_image(layer)
        return out

    def pixel(self, x: float, y: float) -> tuple[float, float]:
        """Continuous pixel coordinates (u right, v down) of a floor-frame point."""
        return x / self.res - self.c0, self.r1 - y / self.res


# ---- Open-RMF -----------------------------------------------------------------------------------
def open_rmf_building(building: Building, canvas: _Canvas) -> dict[str, Any]:
    """An Open-RMF ``*.building.yaml`` (traffic-editor format, ``reference_image`` coordinates).

    Every level's drawing is the floor map on the common canvas, so all levels share pixel
    coordinates; identical fiducials on every level and a measurement per level give RMF the
    alignment and the metres-per-pixel scale. Lifts sit at the mean car position of each link.
    """
    name = building.name
    h, w = canvas.shape
    levels: dict[str, Any] = {}
    for _, fl in sorted(building.floors.items()):
        levels[fl.label] = {
            'elevation': round(float(fl.elevation_m), 4),
            'drawing': {'filename': f'{name}_{fl.label}.png'},
            'fiducials': [[0.0, 0.0, 'f0'], [float(w), 0.0, 'f1'], [0.0, float(h), 'f2']],
            'vertices': [[0.0, float(h), 0.0, ''], [float(w), float(h), 0.0, '']],
            'measurements': [[0, 1, {'distance': [3, round(w * canvas.res, 6)]}]],
            'lanes': [],
            'walls': [],
            'doors': [],
            'floors': [],
            'models': [],
            'layers': {},
        }
    lifts: dict[str, Any] = {}
    labels = {i: fl.label for i, fl in building.floors.items()}
    for link in building.links:
        served = [labels[f] for f in link.floors if f in labels]
        if len(served) < 2:
            continue
        u, v = canvas.pixel(link.x, link.y)
        lifts[f'lift_{link.id}'] = {
            'x': round(u, 3),
            'y': round(v, 3),
            'yaw': 0.0,
            'width': float(building.car_width_m),
            'depth': float(building.car_depth_m),
            'reference_floor_name': served[0],
            'initial_floor_name': served[0],
            'lowest_floor': served[0],
            'highest_floor': served[-1],
            'level_doors': {label: ['door1'] for label in served},
            'doors': {
                'door1': {
                    'door_type': 2,
                    'x': round(building.car_depth_m / 2.0, 3),
                    'y': 0.0,
                    'motion_axis_orientation': round(math.pi / 2.0, 6),
                    'width': round(min(building.car_width_m, 1.0), 3),
                }
            },
        }
    first = min(building.floors) if building.floors else 0
    return {
        'name': name,
        'coordinate_system': 'reference_image',
        'reference_level_name': labels.get(first, 'L0'),
        'levels': levels,
        'lifts': lifts,
    }


# ---- picture ------------------------------------------------------------------------------------
def render_building(building: Building, max_panel_px: int = 900) -> NDArray[np.uint8]:
    """A BGR picture: the floors side by side (lowest left) on one scale, links drawn."""
    canvas = _Canvas(building)
    h, w = canvas.shape
    scale = min(1.0, max_panel_px / max(h, w))
    ph, pw = max(1, round(h * scale)), max(1, round(w * scale))
    head, gap = 40, 12
    floors = sorted(building.floors.items())
    n = max(1, len(floors))
    img = np.full((ph + head + gap, n * (pw + gap) + gap, 3), 255, np.uint8)
    anchors: dict[int, list[tuple[int, int]]] = {}
    for k, (_, fl) in enumerate(floors):
        x0 = gap + k * (pw + gap)
        panel = cv2.resize(canvas.image(fl.layer), (pw, ph), interpolation=cv2.INTER_AREA)
        img[head : head + ph, x0 : x0 + pw] = panel[:, :, None]
        cv2.rectangle(img, (x0 - 1, head - 1), (x0 + pw, head + ph), (120, 120, 120), 1)
        text = f'{fl.label}  z={fl.elevation_m:.2f} m'
        cv2.putText(img, text, (x0 + 4, 28), cv2.FONT_HERSHEY_SIMPLEX, 0.7, (0, 0, 0), 2)
        for link in building.links:
            pos = link.positions.get(fl.index)
            if pos is None:
                continue
            u, v = canvas.pixel(*pos)
            pt = (x0 + round(u * scale), head + round(v * scale))
            color = _PALETTE[link.id % len(_PALETTE)]
            cv2.circle(img, pt, 7, color, 2)
            cv2.putText(
                img, f'E{link.id}', (pt[0] + 9, pt[1] - 6), cv2.FONT_HERSHEY_SIMPLEX, 0.5, color, 1
            )
            anchors.setdefault(link.id, []).append(pt)
    for link_id, pts in anchors.items():
        color = _PALETTE[link_id % len(_PALETTE)]
        for a, b in itertools.pairwise(pts):
            cv2.line(img, a, b, color, 1, cv2.LINE_AA)
    return img


# ---- save / load --------------------------------------------------------------------------------
def building_dict(building: Building) -> dict[str, Any]:
    """The content of ``building.yaml``."""
    name = building.name
    floors = [
        {
            'label': fl.label,
            'index': int(index),
            'elevation_m': round(float(fl.elevation_m), 4),
            'elevation_measured': bool(fl.elevation_measured),
            'map': f'{fl.label}.yaml',
            'layer': f'{fl.label}.npz',
        }
        for index, fl in sorted(building.floors.items())
    ]
    links = [
        {
            'id': int(link.id),
            'x': round(link.x, 4),
            'y': round(link.y, 4),
            'floors': [int(f) for f in link.floors],
            'rides': int(link.rides),
            'stops': [
                {
                    'floor': int(f),
                    'x': float(link.positions[f][0]),
                    'y': float(link.positions[f][1]),
                    'count': int(link.counts.get(f, 1)),
                }
                for f in link.floors
            ],
        }
        for link in building.links
    ]
    data: dict[str, Any] = {
        'format': FORMAT,
        'name': name,
        'resolution': float(building.resolution),
        'frames': 'one frame per floor, all aligned at the elevator shafts (x, y shared)',
        'floors': floors,
        'elevator_links': links,
        'open_rmf': f'{name}.building.yaml',
        'picture': f'{name}.png',
    }
    if building.floor_table is not None:
        data['floor_table'] = building.floor_table
    return data


def save_building(building: Building, out_dir: Path) -> Path:
    """Write every building file into ``out_dir`` atomically; returns ``building.yaml``'s path.

    A mapper's building is ``mapper.building``, after ``mapper.flush()``.
    """
    out_dir = Path(out_dir)
    name = building.name
    canvas = _Canvas(building)
    with StagedFiles(out_dir) as staged:
        for fl in building.floors.values():
            staged.add(f'{fl.label}.pgm', encode_pgm(trinary_image(fl.layer)))
            staged.add(f'{fl.label}.npz', _layer_npz(fl.layer))
            staged.add(f'{fl.label}.yaml', _dump_yaml(nav2_map_yaml(f'{fl.label}.pgm', fl.layer)))
            staged.add(f'{name}_{fl.label}.png', _encode_png(canvas.image(fl.layer)))
        staged.add(f'{name}.building.yaml', _dump_yaml(open_rmf_building(building, canvas)))
        staged.add(f'{name}.png', _encode_png(render_building(building)))
        staged.add('building.yaml', _dump_yaml(building_dict(building)))
    return out_dir / 'building.yaml'


def _read_layer(base: Path, entry: dict[str, Any], params: LayerParams) -> OccupancyLayer:
    layer = OccupancyLayer(params)
    npz = entry.get('layer')
    if npz and (base / npz).is_file():
        with np.load(base / npz) as data:
            row0, col0 = (int(v) for v in data['cell_offset'])
            layer.load_grid(data['logodds'], (row0, col0))
        return layer
    # No lossless layer: rebuild it from the Nav2 map (occupied/free at the clamps).
    map_yaml = base / entry['map']
    meta = yaml.safe_load(map_yaml.read_text())
    img = decode_pgm((map_yaml.parent / meta['image']).read_bytes())
    p = layer.params
    occ = 1.0 - img.astype(np.float32) / 255.0
    if int(meta.get('negate', 0)):
        occ = 1.0 - occ
    lo = np.zeros(img.shape, np.float32)
    lo[occ > float(meta['occupied_thresh'])] = p.l_max
    lo[occ < float(meta['free_thresh'])] = p.l_min
    res = float(meta['resolution'])
    origin = meta['origin']
    offset = (round(origin[1] / res), round(origin[0] / res))
    layer.load_grid(lo[::-1], offset)
    return layer


def load_building(path: Path, params: MapperParams | None = None) -> Building:
    """Read a saved building (``building.yaml`` or its directory): same layers and links.

    ``params`` gives the layers' sensor model and the car size (the file's resolution and name
    win over its defaults). ``BuildingMapper.from_building`` continues mapping the result.
    """
    path = Path(path)
    if path.is_dir():
        path = path / 'building.yaml'
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as err:
        raise MapFileError(f'cannot read building file {path}: {err}') from err
    if not isinstance(data, dict) or 'floors' not in data:
        raise MapFileError(f'{path} is not a multifloor_slam building file')
    params = (params or MapperParams()).for_building(
        float(data['resolution']) if 'resolution' in data else None,
        str(data['name']) if data.get('name') else None,
    )
    base = path.parent
    layer_params = params.layer_params()
    floors: dict[int, FloorLayer] = {}
    try:
        for entry in data['floors'] or []:
            index = int(entry['index'])
            layer = _read_layer(base, entry, layer_params)
            floors[index] = FloorLayer(
                index,
                layer,
                float(entry.get('elevation_m', 0.0)),
                bool(entry.get('elevation_measured', True)),
            )
        links: list[ElevatorLink] = []
        for entry in data.get('elevator_links') or []:
            link = ElevatorLink(int(entry['id']), rides=int(entry.get('rides', 0)))
            for stop in entry.get('stops') or []:
                f = int(stop['floor'])
                link.positions[f] = (float(stop['x']), float(stop['y']))
                link.counts[f] = int(stop.get('count', 1))
            links.append(link)
    except (OSError, KeyError, TypeError, ValueError, yaml.YAMLError) as err:
        raise MapFileError(f'building file {path} is incomplete or corrupt: {err!r}') from err
    return Building(
        floors=floors,
        links=sorted(links, key=lambda link: link.id),
        floor_table=data.get('floor_table'),
        name=params.building_name,
        layer_params=layer_params,
        car_width_m=params.car_width_m,
        car_depth_m=params.car_depth_m,
    )


__all__ = [
    'FORMAT',
    'StagedFiles',
    'building_dict',
    'decode_pgm',
    'encode_pgm',
    'load_building',
    'nav2_map_yaml',
    'open_rmf_building',
    'render_building',
    'save_building',
    'trinary_image',
]
