"""Types of the compiled kernels (``_kernels.c``). Every array argument is any C-contiguous buffer
(typed ``object``: NumPy declares the buffer protocol to type checkers only from Python 3.12),
float32 unless noted."""

from typing import Literal

def resize(src: object, h: int, w: int, dst: object, out_h: int, out_w: int, bilinear: bool, /) -> None: ...
def shift_rows(src: object, h: int, w: int, dst: object, out_w: int, shifts: object, /) -> None:
    """``shifts``: float64, one per row."""

def alpha_ink(
    alpha8: object, h: int, w: int, min_contrast: float, /
) -> tuple[bytearray, int, int] | Literal[False] | None:
    """``alpha8``: uint8. (float32 ink, rows, columns); None: blank; False: not a transparent canvas."""
