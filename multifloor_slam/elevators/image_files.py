"""Reading photos for the detector with bounded memory.

A phone photo of 8000x6000 pixels is 144 MB once decoded, and the detector looks at 320 pixels
of it. JPEGs are therefore decoded at 1/2, 1/4 or 1/8 of their size by libjpeg itself
(``cv2.IMREAD_REDUCED_COLOR_*``), which never holds the full image, while keeping more than
:data:`~multifloor_slam.elevators.detector.LARGE_IMAGE_FACTOR` times the network size, so the
detector still shrinks it with area averaging as it would the full photo. The image size is read
from the file header first (Pillow, lazily); images over :data:`MAX_PIXELS` are refused.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from multifloor_slam.errors import InputDataError

#: Larger images are refused (a decompression bomb, or a scan nobody means to detect in).
MAX_PIXELS = 200_000_000
_REDUCED = {
    2: cv2.IMREAD_REDUCED_COLOR_2,
    4: cv2.IMREAD_REDUCED_COLOR_4,
    8: cv2.IMREAD_REDUCED_COLOR_8,
}


@dataclass(frozen=True)
class LoadedImage:
    """A decoded photo and how it relates to the file.

    Attributes:
        image: BGR uint8 pixels.
        width: width of the image in the file (pixels).
        height: height of the image in the file.
        reduction: decode reduction (1, 2, 4 or 8); multiply ``image`` pixels by the file's size
            over the image's to get file pixels.
    """

    image: np.ndarray
    width: int
    height: int
    reduction: int

    def to_file_pixels(self, box: tuple[float, float, float, float]) -> list[float]:
        """A box in ``image`` pixels -> file pixels."""
        fx = self.width / self.image.shape[1]
        fy = self.height / self.image.shape[0]
        return [box[0] * fx, box[1] * fy, box[2] * fx, box[3] * fy]


def header_size(path: Path) -> tuple[int, int] | None:
    """(width, height) from the file header, or None when Pillow cannot tell."""
    try:
        from PIL import Image

        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            saved = Image.MAX_IMAGE_PIXELS
            Image.MAX_IMAGE_PIXELS = None  # we check the size ourselves, without decoding
            try:
                with Image.open(path) as im:
                    return int(im.size[0]), int(im.size[1])
            finally:
                Image.MAX_IMAGE_PIXELS = saved
    except Exception:
        return None


def _is_jpeg(path: Path) -> bool:
    with open(path, 'rb') as fh:
        return fh.read(3) == b'\xff\xd8\xff'


def read_image(path: Path, min_side: int) -> LoadedImage:
    """Decode ``path`` as BGR, JPEGs reduced while the long side stays above ``min_side``.

    Raises:
        InputDataError: not a readable image, or more than :data:`MAX_PIXELS` pixels.
    """
    size = header_size(path)
    reduction = 1
    if size is not None:
        w, h = size
        if w * h > MAX_PIXELS:
            msg = f'image is {w}x{h} pixels, more than {MAX_PIXELS / 1e6:.0f} MP'
            raise InputDataError(msg)
        if _is_jpeg(path):
            for f in (8, 4, 2):
                if -(-max(w, h) // f) > min_side:
                    reduction = f
                    break
    flag = _REDUCED[reduction] if reduction > 1 else cv2.IMREAD_COLOR
    image = cv2.imread(str(path), flag)
    if image is None or image.size == 0:
        raise InputDataError('cannot read image')
    h_img, w_img = image.shape[:2]
    if size is None:
        size = (w_img, h_img)
    elif size[0] != size[1] and (size[0] > size[1]) != (w_img > h_img):
        size = (size[1], size[0])  # OpenCV applied the EXIF orientation: a portrait photo
    return LoadedImage(image, size[0], size[1], reduction)


__all__ = ['MAX_PIXELS', 'LoadedImage', 'header_size', 'read_image']
