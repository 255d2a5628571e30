"""Reading a saved building: ``load_building`` and the checks that name the bad file.

Reads format 2 (content-addressed data files and a manifest of their sha256, see
:mod:`multifloor_slam.io.building_files`) and format 1 (fixed names, no manifest). Every problem is
one :class:`MapFileError` line naming the file: missing, not YAML, binary, truncated, of another
save (its sha256 differs from the manifest), not a Nav2 map, or two floors with one index.
"""

from __future__ import annotations

import contextlib
import re
import zipfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from multifloor_slam.errors import ConfigError, MapFileError
from multifloor_slam.io.generation_files import BUILDING_YAML, file_sha256, is_plain_name
from multifloor_slam.io.nav2_map import decode_pgm, read_nav2_map_yaml
from multifloor_slam.maps.building import Building, ElevatorLink, FloorLayer
from multifloor_slam.maps.occupancy_layer import LayerParams, OccupancyLayer
from multifloor_slam.maps.params import MapperParams
from multifloor_slam.navigation.staging import with_staging

FORMAT = 'multifloor_slam/building 2'
#: Formats ``load_building`` reads: 1 (fixed names, no manifest) and 2 (the current one).
READABLE_FORMATS = ('multifloor_slam/building 1', FORMAT)
_SHA256 = re.compile(r'^[0-9a-f]{64}$')


def one_line(text: object) -> str:
    """``text`` with every run of white space (newlines too) made one space."""
    return ' '.join(str(text).split())


def reason(err: BaseException) -> str:
    """A one-line description of a foreign exception (``Type: message``)."""
    text = one_line(err)
    if isinstance(err, MapFileError):
        return text or type(err).__name__
    return f'{type(err).__name__}: {text}' if text else type(err).__name__


def verify_manifest(base: Path, files: object, source: Path) -> None:
    """Every listed file exists and has its sha256 (a folder mixing two saves fails here)."""
    if files is None:
        return
    if not isinstance(files, dict):
        raise MapFileError(f'{source}: "files" must map file names to sha256 digests')
    for name, digest in files.items():
        if not is_plain_name(name) or not _SHA256.match(str(digest)):
            raise MapFileError(f'{source}: bad "files" entry {name!r}')
        target = base / name
        try:
            actual = file_sha256(target)
        except FileNotFoundError as err:
            raise MapFileError(f'{target}: missing (listed in {source})') from err
        except OSError as err:
            raise MapFileError(f'cannot read {target}: {err.strerror or err}') from err
        if actual != digest:
            raise MapFileError(
                f'{target} does not match {source} (sha256 differs): it belongs to another save '
                'or was changed'
            )


def _read_npz(path: Path) -> tuple[np.ndarray, tuple[int, int]]:
    try:
        with np.load(path, allow_pickle=False) as data:
            logodds = np.asarray(data['logodds'], np.float32)
            offset = np.asarray(data['cell_offset']).reshape(-1)
    except FileNotFoundError as err:
        raise MapFileError(f'{path}: missing') from err
    except (OSError, ValueError, EOFError, KeyError, TypeError, AttributeError,
            zipfile.BadZipFile, zlib.error) as err:  # fmt: skip
        raise MapFileError(f'{path} is not a readable floor layer ({reason(err)})') from err
    if logodds.ndim != 2 or offset.shape != (2,):
        raise MapFileError(f'{path} is not a readable floor layer (bad array shapes)')
    return logodds, (int(offset[0]), int(offset[1]))


def read_layer(base: Path, entry: dict[str, Any], params: LayerParams) -> OccupancyLayer:
    """One floor entry's layer: its NPZ, else rebuilt from its Nav2 map."""
    layer = OccupancyLayer(params)
    npz = entry.get('layer')
    if npz and (base / str(npz)).is_file():
        layer.load_grid(*_read_npz(base / str(npz)))
        return layer
    # No lossless layer: rebuild it from the Nav2 map (occupied/free at the clamps).
    if not entry.get('map'):
        raise MapFileError(f'{base / str(npz)}: missing' if npz else 'a floor names no map')
    map_yaml = base / str(entry['map'])
    meta = read_nav2_map_yaml(map_yaml)
    image = map_yaml.parent / meta['image']
    try:
        raw = image.read_bytes()
    except FileNotFoundError as err:
        raise MapFileError(f'{image}: missing (the image of {map_yaml})') from err
    except OSError as err:
        raise MapFileError(f'cannot read {image}: {err.strerror or err}') from err
    img = decode_pgm(raw, str(image))
    p = layer.params
    occ = 1.0 - img.astype(np.float32) / 255.0
    if meta['negate']:
        occ = 1.0 - occ
    lo = np.zeros(img.shape, np.float32)
    lo[occ > meta['occupied_thresh']] = p.l_max
    lo[occ < meta['free_thresh']] = p.l_min
    res, origin = meta['resolution'], meta['origin']
    layer.load_grid(lo[::-1], (round(origin[1] / res), round(origin[0] / res)))
    return layer


def _parse_yaml(path: Path, raw: bytes) -> dict[str, Any]:
    try:
        data = yaml.safe_load(raw.decode('utf-8'))
    except UnicodeDecodeError as err:
        raise MapFileError(f'{path} is not a building file (binary, not YAML text)') from err
    except yaml.YAMLError as err:
        where = getattr(err, 'problem_mark', None)
        line = f' at line {where.line + 1}' if where is not None else ''
        problem = getattr(err, 'problem', None) or type(err).__name__
        raise MapFileError(
            f'{path} is not a building file (invalid YAML: {problem}{line})'
        ) from err
    if not isinstance(data, dict) or not isinstance(data.get('floors'), list):
        raise MapFileError(f'{path} is not a multifloor_slam building file (no list of floors)')
    fmt = data.get('format')
    if fmt is not None and fmt not in READABLE_FORMATS:
        raise MapFileError(
            f'{path} has format {fmt!r}; this version reads {", ".join(READABLE_FORMATS)}'
        )
    return data


def _links(data: dict[str, Any], path: Path) -> list[ElevatorLink]:
    links: list[ElevatorLink] = []
    for k, entry in enumerate(data.get('elevator_links') or []):
        try:
            link = ElevatorLink(int(entry['id']), rides=int(entry.get('rides', 0)))
            for stop in entry.get('stops') or []:
                f = int(stop['floor'])
                link.positions[f] = (float(stop['x']), float(stop['y']))
                link.counts[f] = int(stop.get('count', 1))
                pose = stop.get('staging')
                if pose is not None:
                    link.staging[f] = (float(pose['x']), float(pose['y']), float(pose['yaw']))
                    link.staging_method[f] = str(pose.get('method', 'manual'))
        except (KeyError, TypeError, ValueError, AttributeError) as err:
            raise MapFileError(f'{path}: elevator link {k} is malformed ({reason(err)})') from err
        links.append(link)
    return sorted(links, key=lambda link: link.id)


def _load(path: Path, raw: bytes, params: MapperParams | None) -> Building:
    data = _parse_yaml(path, raw)
    try:
        params = (params or MapperParams()).for_building(
            float(data['resolution']) if 'resolution' in data else None,
            str(data['name']) if data.get('name') else None,
        )
    except (TypeError, ValueError, ConfigError) as err:
        raise MapFileError(f'{path}: bad resolution or name ({reason(err)})') from err
    base = path.parent
    verify_manifest(base, data.get('files'), path)
    layer_params = params.layer_params()
    floors: dict[int, FloorLayer] = {}
    names: dict[int, str] = {}
    for k, entry in enumerate(data['floors']):
        try:
            index = int(entry['index'])
            elevation = float(entry.get('elevation_m', 0.0))
        except (KeyError, TypeError, ValueError, AttributeError) as err:
            raise MapFileError(f'{path}: floor entry {k} has no valid index') from err
        label = str(entry.get('label', index))
        if index in floors:
            raise MapFileError(
                f'{path}: floors {names[index]} and {label} both have index {index} '
                '(one map per floor; fix the index of one)'
            )
        names[index] = label
        layer = read_layer(base, entry, layer_params)
        measured = bool(entry.get('elevation_measured', True))
        floors[index] = FloorLayer(index, layer, elevation, measured)
    building = Building(
        floors=floors,
        links=_links(data, path),
        floor_table=data.get('floor_table'),
        name=params.building_name,
        layer_params=layer_params,
        car_width_m=params.car_width_m,
        car_depth_m=params.car_depth_m,
    )
    # Buildings saved before staging poses existed get them now (stored ones are kept).
    building.links = with_staging(building, recompute=False)
    return building


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError as err:
        raise MapFileError(f'{path}: missing (no saved building there)') from err
    except OSError as err:
        raise MapFileError(f'cannot read building file {path}: {err.strerror or err}') from err


def building_yaml_path(path: str | Path) -> Path:
    """``building.yaml`` itself, or the ``building.yaml`` inside a building folder."""
    p = Path(path).expanduser()
    return p / BUILDING_YAML if p.is_dir() else p


def load_building(path: Path, params: MapperParams | None = None) -> Building:
    """Read a saved building (``building.yaml`` or its folder): same layers and links.

    ``params`` gives the layers' sensor model and the car size (the file's resolution and name
    win over its defaults). Elevator stops saved without a staging pose get one computed from
    the floor map. ``BuildingMapper.from_building`` continues mapping the result.

    Raises:
        MapFileError: one line naming the file that is missing, corrupt, of another save (its
            sha256 differs from the manifest), or two floors with one index.
    """
    path = building_yaml_path(path)
    raw = _read_bytes(path)
    try:
        return _load(path, raw, params)
    except MapFileError:
        # A save in another process may have replaced the generation while we read it.
        with contextlib.suppress(MapFileError):
            again = _read_bytes(path)
            if again != raw:
                return _load(path, again, params)
        raise


__all__ = [
    'FORMAT',
    'READABLE_FORMATS',
    'building_yaml_path',
    'load_building',
    'one_line',
    'read_layer',
    'reason',
    'verify_manifest',
]
