"""inkdigit: read handwritten digits from drawings, scans and photos.

>>> import inkdigit
>>> rec = inkdigit.load_recognizer()
>>> rec.predict("seven.png").digit
7
"""

from inkdigit.engine.recognizer import Prediction, ReadOptions, ReadRequest, Recognizer
from inkdigit.library import load_recognizer

__all__ = ["Prediction", "ReadOptions", "ReadRequest", "Recognizer", "load_recognizer", "__version__"]
__version__ = "0.1.0"
