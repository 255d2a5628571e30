"""Nav2 ``map_server`` maps: a layer's trinary image, PGM bytes, the map YAML, reading them.

A floor's Nav2 map is ``<label>.yaml`` (fields ``image, mode, resolution, origin, negate,
occupied_thresh, free_thresh``) beside a binary 8-bit PGM with free 254, occupied 0, unknown 205,
row 0 at the top, as Nav2's ``map_saver`` writes it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import yaml
from numpy.typing import NDArray

from multifloor_slam.errors import MapFileError
from multifloor_slam.maps.occupancy_layer import OccupancyLayer

PIXEL_FREE, PIXEL_OCCUPIED, PIXEL_UNKNOWN = 254, 0, 205
#: Thresholds written into a trinary map YAML. They must separate the three fixed pixel values:
#: unknown 205 is occ = 50/255 = 0.1961, so a ``free_thresh`` of 0.25 would load every unknown
#: cell as free (ros-navigation/navigation2 PR #5278 fixed map_saver to write 0.196, as ROS 1 did).
#: The layer's own thresholds decide which cells are drawn free / occupied before that.
NAV2_OCCUPIED_THRESH, NAV2_FREE_THRESH = 0.65, 0.196
NAV2_KEYS = ('image', 'mode', 'resolution', 'origin', 'negate', 'occupied_thresh', 'free_thresh')
#: A map YAML is a few hundred bytes; anything much larger is not one.
MAX_MAP_YAML_BYTES = 64 * 1024


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


def decode_pgm(data: bytes, name: str = 'PGM') -> NDArray[np.uint8]:
    """Read a binary 8-bit PGM (comments allowed).

    Raises:
        MapFileError: ``data`` is not a complete 8-bit binary PGM (``name`` is in the message).
    """
    tokens: list[bytes] = []
    pos = 0
    while len(tokens) < 4 and pos < len(data):
        while pos < len(data) and data[pos : pos + 1].isspace():
            pos += 1
        if data[pos : pos + 1] == b'#':
            nl = data.find(b'\n', pos)
            pos = len(data) if nl < 0 else nl + 1
            continue
        end = pos
        while end < len(data) and not data[end : end + 1].isspace():
            end += 1
        if end > pos:
            tokens.append(data[pos:end])
        pos = end
    if len(tokens) < 4 or tokens[0] != b'P5' or not all(t.isdigit() for t in tokens[1:]):
        raise MapFileError(f'{name} is not a binary PGM (P5) image')
    w, h, maxval = (int(t) for t in tokens[1:])
    if maxval > 255 or maxval == 0:
        raise MapFileError(f'{name}: only 8-bit binary PGM (P5) maps are supported')
    if w == 0 or h == 0 or len(data) < pos + 1 + w * h:
        raise MapFileError(f'{name} is truncated ({w} x {h} pixels announced)')
    pixels = np.frombuffer(data, np.uint8, count=w * h, offset=pos + 1)
    return pixels.reshape(h, w)


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


def read_nav2_map_yaml(path: Path) -> dict[str, Any]:
    """Read and check a Nav2 map YAML (image, resolution, origin and thresholds).

    Raises:
        MapFileError: the file is missing, unreadable or not a Nav2 map YAML (the file is named).
    """
    try:
        if path.stat().st_size > MAX_MAP_YAML_BYTES:
            raise MapFileError(f'{path} is not a Nav2 map YAML (too large)')
        meta = yaml.safe_load(path.read_bytes().decode('utf-8'))
    except FileNotFoundError as err:
        raise MapFileError(f'{path}: missing') from err
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as err:
        raise MapFileError(f'{path} is not a Nav2 map YAML ({type(err).__name__})') from err
    try:
        if not isinstance(meta, dict) or not isinstance(meta.get('image'), str):
            raise TypeError('no image')
        origin = [float(v) for v in meta['origin']]
        out = {
            'image': meta['image'],
            'resolution': float(meta['resolution']),
            'origin': origin,
            'negate': int(meta.get('negate', 0)),
            'occupied_thresh': float(meta['occupied_thresh']),
            'free_thresh': float(meta['free_thresh']),
        }
        if len(origin) < 2 or not out['resolution'] > 0:
            raise ValueError('bad origin or resolution')
    except (KeyError, TypeError, ValueError) as err:
        raise MapFileError(
            f'{path} is not a Nav2 map YAML (needs image, resolution, origin, thresholds)'
        ) from err
    return out


__all__ = [
    'NAV2_FREE_THRESH',
    'NAV2_KEYS',
    'NAV2_OCCUPIED_THRESH',
    'PIXEL_FREE',
    'PIXEL_OCCUPIED',
    'PIXEL_UNKNOWN',
    'decode_pgm',
    'encode_pgm',
    'nav2_map_yaml',
    'read_nav2_map_yaml',
    'trinary_image',
]
