"""Train the elevator detector from scratch on generated scenes, or fine-tune it on user photos.

Offline by construction: the network is built from the committed ``models/elevator_yolo.yaml``
(no pretrained download), ``plots=False`` (no font download), ``amp=False`` (no AMP check that
downloads a reference model) and ``YOLO_OFFLINE=1``. The final weights are Ultralytics' stripped
checkpoint (no optimizer state, FP16), a few MB, ready to ship as ``models/elevator_yolo.pt``.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from multifloor_slam.errors import ConfigError, ModelError
from multifloor_slam.sim.elevator_scenes import SceneParams, write_dataset

LOG = logging.getLogger(__name__)


def repo_models_dir() -> Path:
    """The ``models/`` directory next to the package (source checkout or install share)."""
    return Path(__file__).resolve().parents[2] / 'models'


def default_model_yaml() -> Path:
    """The committed network definition ``elevator_yolo.yaml`` (share dir when installed)."""
    try:
        from ament_index_python.packages import get_package_share_directory

        share = Path(get_package_share_directory('multifloor_slam')) / 'models'
        if (share / 'elevator_yolo.yaml').is_file():
            return share / 'elevator_yolo.yaml'
    except Exception:
        pass
    return repo_models_dir() / 'elevator_yolo.yaml'


@dataclass(frozen=True)
class TrainParams:
    """What to train and how.

    Attributes:
        out_dir: working directory (data set, Ultralytics run, final weights).
        images: number of generated images (ignored when ``data`` is given).
        epochs: training epochs (an upper bound when ``time_h`` is set).
        imgsz: training image size.
        seed: data-set and training seed.
        batch: batch size.
        workers: data-loader workers (0 = main process; best on a small CPU).
        device: ``'cpu'``, ``'cuda:0'``, ... .
        time_h: wall-clock budget in hours (0 = use ``epochs``); Ultralytics fits the schedule.
        data: a user's YOLO data YAML; empty = generate a synthetic data set.
        weights: start from these weights (fine-tuning); empty = from scratch.
        model_yaml: network definition for training from scratch; empty = the committed one.
        val_fraction: share of generated images held out for validation.
        cache: cache decoded images in RAM.
    """

    out_dir: str
    images: int = 2000
    epochs: int = 30
    imgsz: int = 320
    seed: int = 0
    batch: int = 16
    workers: int = 0
    device: str = 'cpu'
    time_h: float = 0.0
    data: str = ''
    weights: str = ''
    model_yaml: str = ''
    val_fraction: float = 0.05
    cache: bool = True

    def __post_init__(self) -> None:
        if not self.out_dir:
            raise ConfigError('out_dir must be set')
        if self.images < 2 or self.epochs < 1 or self.batch < 1 or self.workers < 0:
            raise ConfigError('images >= 2, epochs >= 1, batch >= 1 and workers >= 0 required')
        if self.imgsz < 64 or self.imgsz % 32:
            raise ConfigError(f'imgsz must be a multiple of 32 and >= 64, got {self.imgsz}')
        if self.time_h < 0:
            raise ConfigError('time_h must be >= 0')
        for name in ('data', 'weights', 'model_yaml'):
            value = getattr(self, name)
            if value and not Path(value).is_file():
                raise ConfigError(f'{name} file not found: {value}')


def train(params: TrainParams) -> Path:
    """Train and return the path of the final weights ``<out_dir>/elevator_yolo.pt``.

    Raises:
        ConfigError: invalid parameters.
        ModelError: Ultralytics failed to build or train the model.
    """
    from multifloor_slam.elevators.detector import import_yolo

    YOLO = import_yolo()  # noqa: N806 - the class, as Ultralytics names it

    out = Path(params.out_dir).resolve()
    out.mkdir(parents=True, exist_ok=True)
    if params.data:
        data = Path(params.data).resolve()
    else:
        LOG.info('generating %d images (seed %d) in %s', params.images, params.seed, out)
        data = write_dataset(
            out / 'dataset',
            params.images,
            params.seed,
            val_fraction=params.val_fraction,
            params=SceneParams(width=params.imgsz),
        )
    source = params.weights or params.model_yaml or str(default_model_yaml())
    try:
        model = YOLO(source, task='detect')
        model.train(
            data=str(data),
            epochs=params.epochs,
            time=params.time_h or None,
            imgsz=params.imgsz,
            batch=params.batch,
            workers=params.workers,
            device=params.device,
            seed=params.seed,
            deterministic=True,
            cache='ram' if params.cache else False,
            plots=False,
            amp=False,
            project=str(out),
            name='run',
            exist_ok=True,
            close_mosaic=max(1, min(5, params.epochs // 5)),
            patience=1000,
            verbose=False,
        )
    except (RuntimeError, ValueError, FileNotFoundError, KeyError) as err:
        raise ModelError(f'training failed: {err}') from err
    run = out / 'run' / 'weights'
    best = run / 'best.pt' if (run / 'best.pt').is_file() else run / 'last.pt'
    if not best.is_file():
        raise ModelError(f'training produced no weights in {run}')
    from ultralytics.utils.torch_utils import strip_optimizer

    final = out / 'elevator_yolo.pt'
    fd, tmp = tempfile.mkstemp(dir=out, prefix='.elevator_yolo.', suffix='.pt')
    os.close(fd)
    shutil.copyfile(best, tmp)
    strip_optimizer(tmp)
    os.chmod(tmp, 0o644)
    os.replace(tmp, final)
    LOG.info('weights written to %s', final)
    return final


__all__ = ['TrainParams', 'default_model_yaml', 'repo_models_dir', 'train']
