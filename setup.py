"""Build hook: the firmware ships inside the package.

``firmware/`` stays at the top of the repository (the board's own tree, type-checked
and compiled on its own), and a wheel or sdist install copies its ``*.py`` files into
``twitchwatch/_firmware/``, where :mod:`twitchwatch.board.files` finds them when no
source checkout is around. Everything else is declared in pyproject.toml.
"""

import pathlib
import shutil

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = pathlib.Path(__file__).resolve().parent


class build_py_with_firmware(build_py):
    """build_py, plus ``firmware/*.py`` copied to ``<build>/twitchwatch/_firmware/``."""

    def run(self) -> None:
        super().run()
        if self.editable_mode:  # an editable install reads firmware/ from the checkout
            return
        source = HERE / "firmware"
        target = pathlib.Path(self.build_lib) / "twitchwatch" / "_firmware"
        target.mkdir(parents=True, exist_ok=True)
        for path in sorted(source.glob("*.py")):
            shutil.copy2(path, target / path.name)


setup(cmdclass={"build_py": build_py_with_firmware})
