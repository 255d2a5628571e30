"""Building files: per-floor Nav2 maps, ``building.yaml``, an Open-RMF export and a PNG picture.

Layout of a saved building folder (DESIGN.md section 2; ``<h>`` = 16 hex digits of the file's
sha256)::

    building.yaml              floors, links, floor table, manifest: what ``load_building`` reads
    L0.yaml                    Nav2 map_server map of floor 0 (stable name; ``image: L0.<h>.pgm``)
    L0.<h>.pgm                 its trinary image (free 254, occupied 0, unknown 205)
    L0.<h>.npz                 the floor's log-odds grid, lossless (so a reload continues exactly)
    <name>.building.yaml       Open-RMF / traffic-editor building (reference_image coordinates)
    <name>_L0.<h>.png          the level drawings of that export (all floors on one canvas)
    <name>.png                 a picture: floors side by side, elevator links drawn

**One generation per save.** ``save_building`` replaces the whole building at once:

1. every floor's PGM and NPZ, the level drawings and the pictures are encoded in memory; a floor
   that cannot be encoded keeps its previously saved layer (or is left out), the others go on;
2. the data files are written under content-addressed names (each through a temporary, fsync,
   rename; a file already there with the same content is not rewritten), so nothing the current
   ``building.yaml`` names is ever overwritten; then the folder is fsynced;
3. **commit**: ``building.yaml``, with a manifest ``files: {name: sha256}`` of every data file,
   replaces the old one by one atomic rename (folder fsynced again);
4. the stable pointer files (``L<n>.yaml``, ``<name>.building.yaml``, ``<name>.png``) are
   replaced, each atomically, to name the new data files;
5. every file of this package that the new generation does not name is deleted: the previous
   generation's data files, floors the new building lacks (``L2.*`` of a larger building), and
   temporaries of a killed save (see :mod:`multifloor_slam.io.generation_files`).

A crash before step 3 leaves the old building (its files are untouched); from step 3 on the new
one. Every Nav2 map YAML names an image that exists at every instant: a pointer is replaced only
once its image is written, and deleted before its image. ``load_building`` checks the manifest and
names the file that is missing or differs. Buildings of format 1 (fixed file names, no manifest)
still load. A save fails as a whole (``MapFileError``, old building intact) when a file cannot be
written; a floor that cannot be *encoded* does not stop the others: they are committed and then
:class:`PartialSaveError` lists what is missing.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import logging
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import yaml

from multifloor_slam.errors import MapFileError
from multifloor_slam.io.atomic_file import fsync_dir, write_atomic
from multifloor_slam.io.building_load import (
    FORMAT,
    READABLE_FORMATS,
    load_building,
    read_layer,
    reason,
    verify_manifest,
)
from multifloor_slam.io.building_render import Canvas, encode_png, render_building
from multifloor_slam.io.generation_files import (
    BUILDING_YAML,
    data_name,
    file_sha256,
    previous_package_files,
    read_building_dict,
    remove_stale,
    sha256_hex,
)
from multifloor_slam.io.nav2_map import (
    NAV2_FREE_THRESH,
    NAV2_OCCUPIED_THRESH,
    PIXEL_FREE,
    PIXEL_OCCUPIED,
    PIXEL_UNKNOWN,
    decode_pgm,
    encode_pgm,
    nav2_map_yaml,
    trinary_image,
)
from multifloor_slam.io.open_rmf import dump_open_rmf, open_rmf_building
from multifloor_slam.maps.building import Building, ElevatorLink, FloorLayer
from multifloor_slam.maps.occupancy_layer import OccupancyLayer
from multifloor_slam.navigation.derived_cache import DERIVED
from multifloor_slam.navigation.free_space import ROBOT_RADIUS_M, Mask
from multifloor_slam.navigation.nav_graph import NavGraphParams
from multifloor_slam.navigation.staging import StagingParams, with_staging

#: What an encoder raises for a layer it cannot encode (too large, out of memory, OpenCV).
ENCODING_ERRORS = (MapFileError, cv2.error, MemoryError, ValueError, OverflowError)
_log = logging.getLogger(__name__)


class PartialSaveError(MapFileError):
    """The building was saved, but some floors or exports could not be encoded.

    Attributes:
        path: the ``building.yaml`` written.
        failed: one line per missing part (``floor L1 (PNG encoding failed; ...)``).
    """

    def __init__(self, path: Path, failed: list[str]) -> None:
        super().__init__(f'saved {path} without: ' + '; '.join(failed))
        self.path = path
        self.failed = failed


def _dump_yaml(data: dict[str, Any]) -> bytes:
    return yaml.safe_dump(data, sort_keys=False, default_flow_style=None).encode('utf-8')


def _layer_npz(layer: OccupancyLayer) -> bytes:
    buf = io.BytesIO()
    np.savez_compressed(
        buf,
        logodds=layer.logodds,
        cell_offset=np.asarray(layer.cell_offset, np.int64),
        resolution=np.float64(layer.resolution),
    )
    return buf.getvalue()


# ---- building.yaml ------------------------------------------------------------------------------
def _staging_entry(link: ElevatorLink, floor: int) -> dict[str, Any]:
    """``staging: {x, y, yaw, method}`` of a stop (the tagged point in front of the doors)."""
    if floor not in link.staging:
        return {}
    x, y, yaw = link.staging[floor]
    method = link.staging_method.get(floor, 'manual')
    pose = {'x': round(x, 4), 'y': round(y, 4), 'yaw': round(yaw, 4), 'method': method}
    return {'staging': pose}


def building_dict(
    building: Building,
    floor_files: dict[int, dict[str, str]],
    files: dict[str, str],
    open_rmf: str | None = None,
    picture: str | None = None,
) -> dict[str, Any]:
    """The content of ``building.yaml``: the floors in ``floor_files`` with their data files."""
    floors = [
        {
            'label': fl.label,
            'index': int(index),
            'elevation_m': round(float(fl.elevation_m), 4),
            'elevation_measured': bool(fl.elevation_measured),
            'map': f'{fl.label}.yaml',
            **floor_files[index],
        }
        for index, fl in sorted(building.floors.items())
        if index in floor_files
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
                    **_staging_entry(link, f),
                }
                for f in link.floors
            ],
        }
        for link in building.links
    ]
    data: dict[str, Any] = {
        'format': FORMAT,
        'name': building.name,
        'resolution': float(building.resolution),
        'frames': 'one frame per floor, all aligned at the elevator shafts (x, y shared)',
        'floors': floors,
        'elevator_links': links,
    }
    if open_rmf:
        data['open_rmf'] = open_rmf
    if picture:
        data['picture'] = picture
    if building.floor_table is not None:
        data['floor_table'] = building.floor_table
    data['files'] = dict(sorted(files.items()))
    return data


# ---- save ---------------------------------------------------------------------------------------
_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


@contextlib.contextmanager
def _folder_lock(folder: Path) -> Iterator[None]:
    """One save at a time per folder in this process (two processes must not share a folder)."""
    with _LOCKS_GUARD:
        lock = _LOCKS.setdefault(os.path.realpath(folder), threading.Lock())
    with lock:
        yield


class _Generation:
    """The files of one save, encoded in memory, then written in the order of the protocol."""

    def __init__(self, building: Building, base: Path) -> None:
        self.building = building
        self.base = base
        self.previous = read_building_dict(base / BUILDING_YAML)
        # Read now: the pointer files (a format-1 Open-RMF export names its drawings) change.
        self.previous_files = (
            previous_package_files(self.previous, base) if self.previous else set()
        )
        self.data: dict[str, bytes] = {}  # content-addressed data files
        self.files: dict[str, str] = {}  # their manifest: name -> sha256
        self.pointers: dict[str, bytes] = {}  # stable names, replaced after the commit
        self.failed: list[str] = []
        self.masks: dict[int, Mask] = {}  # traversable masks, shared by staging and RMF graphs
        self.robot_radius_m = ROBOT_RADIUS_M

    def _add(self, stem: str, ext: str, content: bytes) -> str:
        digest = sha256_hex(content)
        name = data_name(stem, ext, digest)
        self.data[name], self.files[name] = content, digest
        return name

    def _previous_layer(self, index: int) -> OccupancyLayer | None:
        prev = self.previous
        with contextlib.suppress(TypeError, ValueError):
            if prev and float(prev.get('resolution', -1)) == self.building.resolution:
                return self._previous_entry_layer(prev, index)
        return None

    def _previous_entry_layer(self, prev: dict[str, Any], index: int) -> OccupancyLayer | None:
        for entry in prev.get('floors') or []:
            if isinstance(entry, dict) and entry.get('index') == index:
                try:
                    verify_manifest(self.base, prev.get('files'), self.base / BUILDING_YAML)
                    return read_layer(self.base, entry, self.building.layer_params)
                except MapFileError:
                    return None
        return None

    def encode(self) -> tuple[Building, dict[int, dict[str, str]]]:
        """Encode every floor (independently), then the export and the picture."""
        b = self.building
        kept: dict[int, FloorLayer] = {}
        floor_files: dict[int, dict[str, str]] = {}
        for index, fl in sorted(b.floors.items()):
            layer: OccupancyLayer | None = fl.layer
            try:
                pgm, npz = encode_pgm(trinary_image(fl.layer)), _layer_npz(fl.layer)
            except ENCODING_ERRORS as err:
                layer, why = self._previous_layer(index), reason(err)
                try:
                    if layer is None:
                        raise MapFileError('no previous save of it')
                    pgm, npz = encode_pgm(trinary_image(layer)), _layer_npz(layer)
                except ENCODING_ERRORS:
                    self.failed.append(f'floor {fl.label} ({why}; not saved)')
                    continue
                self.failed.append(f'floor {fl.label} ({why}; its previous save was kept)')
            assert layer is not None
            kept[index] = dataclasses.replace(fl, layer=layer)
            files = {
                'image': self._add(fl.label, 'pgm', pgm),
                'layer': self._add(fl.label, 'npz', npz),
            }
            floor_files[index] = files
            self.pointers[f'{fl.label}.yaml'] = _dump_yaml(nav2_map_yaml(files['image'], layer))
        return dataclasses.replace(b, floors=kept), floor_files

    def encode_staging(self, view: Building, params: StagingParams) -> Building:
        """The links with fresh staging poses (the map may have changed since the last save)."""
        self.robot_radius_m = params.robot_radius_m  # the nav graphs keep the same clearance
        try:
            links = with_staging(view, params, self.masks, cache=DERIVED)
            return dataclasses.replace(view, links=links)
        except ENCODING_ERRORS as err:
            self.failed.append(f'the elevator staging poses ({reason(err)})')
            return view

    def encode_extras(self, view: Building) -> tuple[str | None, str | None]:
        """The Open-RMF export with its drawings, and the picture; each may fail alone."""
        name = view.name
        rmf = picture = None
        try:
            canvas = Canvas(view)
            drawings = {
                i: (
                    f'{name}_{fl.label}',
                    encode_png(canvas.image(fl.layer), f'{fl.label} drawing'),
                )
                for i, fl in view.floors.items()
            }
            names = {i: self._add(stem, 'png', png) for i, (stem, png) in drawings.items()}
            rmf = f'{name}.building.yaml'
            nav = NavGraphParams(robot_radius_m=self.robot_radius_m)
            export = open_rmf_building(view, canvas, names, self.masks, nav, DERIVED)
            self.pointers[rmf] = dump_open_rmf(export)
        except ENCODING_ERRORS as err:
            self.failed.append(f'the Open-RMF export ({reason(err)})')
        try:
            png = encode_png(render_building(view), 'the picture')
            picture = f'{name}.png'
            self.pointers[picture] = png
        except ENCODING_ERRORS as err:
            self.failed.append(f'the picture ({reason(err)})')
        return rmf, picture

    def write_and_commit(self, building_yaml: bytes) -> None:
        """Steps 2 and 3: data files, then ``building.yaml``; on failure remove what was added."""
        created: list[Path] = []
        try:
            for name, content in self.data.items():
                path = self.base / name
                if path.is_file():
                    with contextlib.suppress(OSError):
                        if file_sha256(path) == self.files[name]:
                            continue  # same content, same name: already there
                    write_atomic(path, content)
                else:
                    write_atomic(path, content)
                    created.append(path)
            fsync_dir(self.base)
            write_atomic(self.base / BUILDING_YAML, building_yaml)
        except MapFileError:
            for path in created:
                with contextlib.suppress(OSError):
                    path.unlink()
            raise
        fsync_dir(self.base)

    def replace_pointers(self, path: Path) -> None:
        """Step 4: the stable names, each atomically, once the data they name is committed."""
        for name, content in self.pointers.items():
            target = self.base / name
            with contextlib.suppress(OSError):
                if target.read_bytes() == content:
                    continue
            try:
                write_atomic(target, content)
            except MapFileError as err:
                raise MapFileError(
                    f'saved {path}, but {err} (old files stay until the next save)'
                ) from err
        fsync_dir(self.base)

    def clean(self) -> None:
        """Step 5: every file of the package that this generation does not name."""
        keep = set(self.files) | set(self.pointers)
        try:
            removed = remove_stale(self.base, keep, self.previous_files, self.building.name)
        except OSError as err:
            _log.warning('saved %s, but could not remove old files: %s', self.base, err)
            return
        if removed:
            _log.debug('removed %d old files from %s', len(removed), self.base)


def save_building(building: Building, out_dir: Path, staging: StagingParams | None = None) -> Path:
    """Save the building into ``out_dir`` as one generation; returns ``building.yaml``'s path.

    A mapper's building is ``mapper.building``, after ``mapper.flush()``. See the module
    docstring for the protocol. Every elevator stop gets its staging pose (``staging``; poses
    marked ``manual`` are kept), and the Open-RMF export a navigation graph per level (with the
    staging robot radius). Both are reused from the previous saves of this process while a
    floor's map is unchanged (:mod:`multifloor_slam.navigation.derived_cache`).

    Raises:
        PartialSaveError: saved, but a floor (kept from the previous save when there is one), the
            Open-RMF export or the picture could not be encoded; the message lists them.
        MapFileError: nothing was saved (folder not writable, disk full); the old building stays.
    """
    out_dir = Path(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise MapFileError(f'cannot create {out_dir}: {err.strerror or err}') from err
    path = out_dir / BUILDING_YAML
    with _folder_lock(out_dir):
        gen = _Generation(building, out_dir)
        view, floor_files = gen.encode()
        view = gen.encode_staging(view, staging or StagingParams())
        rmf, picture = gen.encode_extras(view)
        content = building_dict(view, floor_files, gen.files, rmf, picture)
        gen.write_and_commit(_dump_yaml(content))
        gen.replace_pointers(path)
        gen.clean()
    if gen.failed:
        raise PartialSaveError(path, gen.failed)
    return path


__all__ = [
    'ENCODING_ERRORS',
    'FORMAT',
    'NAV2_FREE_THRESH',
    'NAV2_OCCUPIED_THRESH',
    'PIXEL_FREE',
    'PIXEL_OCCUPIED',
    'PIXEL_UNKNOWN',
    'READABLE_FORMATS',
    'Canvas',
    'PartialSaveError',
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
