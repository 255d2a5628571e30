"""Train the elevator detector: on generated scenes, on the real/synthetic mix, or on user photos.

With ``panels`` and ``doors`` (the real photo folders of ``../shared/data``) the data set is the
mix of :mod:`~multifloor_slam.elevators.datasets` and its data card is written next to the
weights as ``elevator_yolo.data_card.{json,md}``. With ``weights`` the network is built from the
YAML and the weights' matching layers are loaded, so a model with another class count (the old
4-class one) still gives its backbone.

Offline by construction: the network is built from the committed ``models/elevator_yolo.yaml``
(no pretrained download), ``plots=False`` (no font download), ``amp=False`` (no AMP check that
downloads a reference model) and ``YOLO_OFFLINE=1``. The final weights are Ultralytics' stripped
checkpoint (no optimizer state, FP16), a few MB, ready to ship as ``models/elevator_yolo.pt``.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from multifloor_slam.elevators.datasets import MixParams, build_mixed_dataset, write_data_card
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
        threads: torch CPU threads; 0 = Ultralytics' own choice (cores - 1, at most 8), which
            leaves a 2-core machine training on one core.
        time_h: wall-clock budget in hours (0 = use ``epochs``); Ultralytics fits the schedule.
        data: a user's YOLO data YAML; empty = generate a synthetic data set.
        weights: start from these weights (fine-tuning); empty = from scratch.
        model_yaml: network definition for training from scratch; empty = the committed one.
        val_fraction: share of generated images held out for validation.
        cache: cache decoded images in RAM.
        panels: real panel photo folder (``elevator-panels``); with ``doors``, train on the mix.
        doors: real ordinary-door photo folder (``ordinary-doors``).
        mix_scale: multiplies every image count of the mix (1 = the shipped recipe).
        hall_repeat: copies of each hall-call panel photo in the mix's train split.
        synthetic_scenes: fully drawn scenes in the mix's train split (scaled by ``mix_scale``).
        noise_images: noise images in the mix's train split (scaled by ``mix_scale``).
        close_ups: share of the mix's drawn landings framed on one door from close by.
    """

    out_dir: str
    images: int = 2000
    epochs: int = 30
    imgsz: int = 320
    seed: int = 0
    batch: int = 16
    workers: int = 0
    device: str = 'cpu'
    threads: int = 0
    time_h: float = 0.0
    data: str = ''
    weights: str = ''
    model_yaml: str = ''
    val_fraction: float = 0.05
    cache: bool = True
    panels: str = ''
    doors: str = ''
    mix_scale: float = 1.0
    hall_repeat: int = 3
    synthetic_scenes: int = 0
    noise_images: int = 50
    close_ups: float = 0.0

    def __post_init__(self) -> None:
        if not self.out_dir:
            raise ConfigError('out_dir must be set')
        if self.images < 2 or self.epochs < 1 or self.batch < 1 or self.workers < 0:
            raise ConfigError('images >= 2, epochs >= 1, batch >= 1 and workers >= 0 required')
        if self.threads < 0:
            raise ConfigError(f'threads must be >= 0, got {self.threads}')
        if self.imgsz < 64 or self.imgsz % 32:
            raise ConfigError(f'imgsz must be a multiple of 32 and >= 64, got {self.imgsz}')
        if self.time_h < 0:
            raise ConfigError('time_h must be >= 0')
        if bool(self.panels) != bool(self.doors):
            raise ConfigError('panels and doors go together (the real mix needs both)')
        if self.panels and self.data:
            raise ConfigError('give either data or panels/doors, not both')
        if self.mix_scale <= 0:
            raise ConfigError('mix_scale must be > 0')
        if self.synthetic_scenes < 0 or self.noise_images < 0:
            raise ConfigError('synthetic_scenes and noise_images must be >= 0')
        for name in ('data', 'weights', 'model_yaml'):
            value = getattr(self, name)
            if value and not Path(value).is_file():
                raise ConfigError(f'{name} file not found: {value}')


def _set_cpu_threads(threads: int) -> None:
    """Train with ``threads`` torch CPU threads.

    Ultralytics sets torch's thread count to its ``NUM_THREADS`` (cores - 1) when it selects the
    CPU, so the value is changed where it reads it; a version without it keeps its own choice.
    """
    import torch
    from ultralytics.utils import torch_utils

    if hasattr(torch_utils, 'NUM_THREADS'):
        torch_utils.NUM_THREADS = threads
    else:
        LOG.warning('this Ultralytics version chooses its own CPU threads; --threads ignored')
    torch.set_num_threads(threads)


def train(params: TrainParams) -> Path:
    """Train and return the path of the final weights ``<out_dir>/elevator_yolo.pt``.

    Raises:
        ConfigError: invalid parameters.
        ModelError: Ultralytics failed to build or train the model.
    """
    from multifloor_slam.elevators.yolo_import import import_yolo

    YOLO = import_yolo()  # noqa: N806 - the class, as Ultralytics names it

    out = Path(params.out_dir).resolve()
    out.mkdir(parents=True, exist_ok=True)
    mix = None
    if params.panels:
        mix = mix_params(params)
        LOG.info('building the real/synthetic mix in %s', out / 'dataset')
        data = build_mixed_dataset(mix, out / 'dataset')
    elif params.data:
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
    started = time.time()
    if params.threads:
        _set_cpu_threads(params.threads)
    try:
        if params.weights:
            model = YOLO(params.model_yaml or str(default_model_yaml()), task='detect')
            model.load(params.weights)
        else:
            model = YOLO(params.model_yaml or str(default_model_yaml()), task='detect')
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
    if mix is not None:
        card = json.loads((out / 'dataset' / 'data_card.json').read_text())
        card['training'] = {
            **{k: v for k, v in asdict(params).items() if k not in ('out_dir', 'images', 'data')},
            'epochs_done': _epochs_done(out / 'run'),
            'wall_s': round(time.time() - started),
            'weights_file': final.name,
        }
        write_data_card(card, out, 'elevator_yolo.data_card')
    return final


def mix_params(params: TrainParams) -> MixParams:
    """The mix of the shipped recipe, every count scaled by ``params.mix_scale``."""
    base = MixParams(params.panels, params.doors, seed=params.seed, imgsz=params.imgsz)
    counts = (
        'real_panels',
        'real_doors',
        'synthetic_on_photo',
        'synthetic_real_wall',
        'synthetic_interior',
    )
    scaled = {k: max(1, round(getattr(base, k) * params.mix_scale)) for k in counts}
    return MixParams(
        params.panels,
        params.doors,
        seed=params.seed,
        imgsz=params.imgsz,
        hall_repeat=params.hall_repeat,
        synthetic_scene=round(params.synthetic_scenes * params.mix_scale),
        noise=round(params.noise_images * params.mix_scale),
        close_ups=params.close_ups,
        **scaled,
    )


def _epochs_done(run: Path) -> int:
    """Epochs Ultralytics logged in ``results.csv`` (0 when absent)."""
    csv = run / 'results.csv'
    if not csv.is_file():
        return 0
    return max(0, len(csv.read_text().strip().splitlines()) - 1)


__all__ = ['TrainParams', 'default_model_yaml', 'mix_params', 'repo_models_dir', 'train']
