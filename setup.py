"""Setuptools' package list for musicapp; everything else is in pyproject.toml.

pyproject's packages.find only finds packages under musicapp/, and the design keeps the icons,
style sheet and demo recipe in a top-level resources/ folder: this adds that folder as
musicapp.resources (mapped by [tool.setuptools.package-dir]), so a wheel installs it at
musicapp/resources, where importlib.resources.files("musicapp") / "resources" finds it. The test
doubles in musicapp.testing are left out of the wheel: only the tests and benchmarks use them,
from a checkout.
"""

from setuptools import find_packages, setup

setup(
    packages=[
        *find_packages(include=["musicapp", "musicapp.*"], exclude=["musicapp.testing*"]),
        "musicapp.resources",
    ],
)
