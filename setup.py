"""Build the optional compiled kernels; everything else is configured in pyproject.toml.

``optional=True``: where no C compiler is available the package installs without them and the
engine runs its NumPy reference code instead (the same numbers, more slowly).
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "inkdigit.engine._kernels",
            ["src/inkdigit/engine/_kernels.c"],
            extra_compile_args=["-O3", "-ffp-contract=off"],
            optional=True,
        )
    ]
)
