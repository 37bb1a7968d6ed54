# syntax=docker/dockerfile:1
# The inkdigit server: the package, its compiled kernels and the shipped models, no PyTorch.
# Build from the repository root: docker build -t inkdigit .   (guide: docs/deployment.md)

ARG PYTHON_VERSION=3.11.13

# --- builder: wheels of inkdigit (its C module compiled) and of every runtime dependency ---------
# The full Debian image has gcc and Python's headers; none of it reaches the runtime image.
FROM python:${PYTHON_VERSION}-bookworm AS builder

WORKDIR /src
COPY pyproject.toml setup.py README.md ./
COPY src ./src
# The C module is optional in setup.py (a machine without a compiler installs without it), so a
# failed compile would pass silently: the build stops unless the wheel holds the module and the
# shipped models.
RUN pip wheel --no-cache-dir --wheel-dir /wheels . \
 && python -c "import glob, sys, zipfile; \
names = zipfile.ZipFile(glob.glob('/wheels/inkdigit-*.whl')[0]).namelist(); \
sys.exit(not any(n.startswith('inkdigit/engine/_kernels.') and n.endswith('.so') for n in names) \
         or not any(n.startswith('inkdigit/models/') and n.endswith('.onnx') for n in names))"

# --- runtime ------------------------------------------------------------------------------------
# The wheels of OpenCV (headless), ONNX Runtime, NumPy, SciPy, Pillow and psycopg bundle their
# native libraries; what they need beyond them (glibc, libstdc++, libgcc, zlib) is in the slim base.
FROM python:${PYTHON_VERSION}-slim-bookworm AS runtime

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    INKDIGIT_HOME=/var/lib/inkdigit \
    WEB_CONCURRENCY=2

# A fixed UID/GID, so that volumes and Kubernetes' runAsUser can name it.
RUN groupadd --system --gid 10001 inkdigit \
 && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/inkdigit --no-create-home \
            --shell /usr/sbin/nologin inkdigit \
 && install -d -o 10001 -g 10001 -m 0750 /var/lib/inkdigit

# Installed from the builder's wheels only (--no-index): what was resolved there is what runs here.
# The wheels are mounted for this step, not copied into a layer. Then a smoke test: the kernels
# import, the default model loads, and PyTorch is absent.
RUN --mount=type=bind,from=builder,source=/wheels,target=/wheels \
    pip install --no-cache-dir --no-index --find-links /wheels /wheels/inkdigit-*.whl \
 && python -c "import importlib.util, sys; \
import inkdigit.engine._kernels; \
from inkdigit.library import load_recognizer; load_recognizer(); \
sys.exit(importlib.util.find_spec('torch') is not None)" \
 && inkdigit --version

# Application state: installed models (home/models), secret.key, and the SQLite database when no
# INKDIGIT_DATABASE_URL is set. Owned by the app's user, so a new named volume mounted here is too.
VOLUME ["/var/lib/inkdigit"]
WORKDIR /var/lib/inkdigit
USER 10001:10001

EXPOSE 8000

# /healthz answers as soon as the process serves; /readyz once the default model is loaded.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status != 200)"]

# sh -c only to read WEB_CONCURRENCY (worker processes in this container); exec makes inkdigit
# PID 1, so it receives SIGTERM and stops its workers, finishing the requests in flight.
CMD ["sh", "-c", "exec inkdigit serve --host 0.0.0.0 --port 8000 --workers \"${WEB_CONCURRENCY}\""]
