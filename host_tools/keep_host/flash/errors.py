"""The error of the firmware file checks (ESP images and UF2 files alike)."""

from ..errors import KeepError


class ImageError(KeepError):
    """A firmware file that does not fit the board; str() is the reason."""
