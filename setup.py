"""The package's contents (the metadata is in pyproject.toml).

The Python packages are found here, so a package someone adds is installed without a list to
keep up; the page's files (frontend/, served as they are, no build step) go in as
`gradwatch/frontend`, where an installed server finds them (server/routes/pages.py).
"""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["gradwatch*", "trainer*", "server*"]),
              "gradwatch.frontend"],
    package_dir={"gradwatch.frontend": "frontend"},
    package_data={"gradwatch.frontend": ["*"]},
)
