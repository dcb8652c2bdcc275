"""The ML source tarball carries what the step scripts import: the project's modelling code and
steps, and awswrangler (with its small pure-Python dependencies) under vendor/, which the
stock scikit-learn image lacks and its jobs cannot pip install. Checked on the archive the
stack builds: its listing, the imports of every shipped module, and the steps importing from
the unpacked archive in a fresh interpreter that cannot see the installed awswrangler."""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from test_asset_imports import imported_modules

from stacks.ml import ML_SOURCE

pytestmark = pytest.mark.infra

# The stock image sagemaker-scikit-learn:1.4-2-cpu-py3 (NOTES.md: scikit-learn 1.4.2, numpy
# 2.1, pandas, pyarrow 17; boto3 for the SageMaker toolkits) and its Python 3.10.
IMAGE_MODULES = {"numpy", "pandas", "scipy", "sklearn", "joblib", "pyarrow", "boto3", "botocore"}
VENDORED = {"awswrangler", "packaging", "typing_extensions", "pg8000", "scramp", "asn1crypto"}


@pytest.fixture(scope="module")
def unpacked(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("ml-source")
    archive = folder / "sourcedir.tar.gz"
    ML_SOURCE.write_archive(archive)
    with tarfile.open(archive) as tar:
        tar.extractall(folder / "source", filter="data")
    return folder / "source"


def _names(root: Path) -> set[str]:
    return {path.relative_to(root).as_posix() for path in root.rglob("*") if path.is_file()}


def test_the_archive_holds_the_steps_and_the_vendored_wheel_payload(unpacked: Path) -> None:
    names = _names(unpacked)
    for step in ("prepare", "train", "evaluate", "score", "lake_io", "common"):
        assert f"sagemaker_pipelines/steps/{step}.py" in names
    assert "contracts/lake.py" in names
    assert not any(name.startswith("sagemaker_pipelines/definitions/") for name in names)
    version = importlib.metadata.version("awswrangler")
    assert "vendor/awswrangler/__init__.py" in names
    assert "vendor/awswrangler/s3/_write_parquet.py" in names
    assert f"vendor/awswrangler-{version}.dist-info/METADATA" in names
    assert f"vendor/awswrangler-{version}.dist-info/licenses/LICENSE.txt" in names
    assert "vendor/typing_extensions.py" in names
    assert "vendor/packaging/version.py" in names
    assert "vendor/pg8000/dbapi.py" in names
    assert "vendor/scramp/core.py" in names
    assert "vendor/asn1crypto/x509.py" in names
    assert "contracts/database.py" in names
    assert not [n for n in names if n.endswith(".pyc") or "__pycache__" in n]
    assert not [n for n in names if n.endswith(("/RECORD", "/INSTALLER", "/REQUESTED"))]
    # Everything the installed awswrangler wheel recorded as a module is in the archive.
    modules = {f"vendor/{f}" for f in importlib.metadata.distribution("awswrangler").files or ()}
    assert {m for m in modules if m.endswith(".py")} <= names


def test_the_archive_is_the_same_bytes_every_time(tmp_path: Path) -> None:
    first, second = tmp_path / "a.tar.gz", tmp_path / "b.tar.gz"
    ML_SOURCE.write_archive(first)
    ML_SOURCE.write_archive(second)
    assert first.read_bytes() == second.read_bytes()
    assert ML_SOURCE.fingerprint() == ML_SOURCE.fingerprint()


def test_every_shipped_module_imports_only_what_the_archive_or_image_has(unpacked: Path) -> None:
    shipped = {"sagemaker_pipelines", "contracts"}
    allowed = shipped | IMAGE_MODULES | VENDORED | set(sys.stdlib_module_names) | {"__future__"}
    for path in (unpacked / "sagemaker_pipelines").rglob("*.py"):
        missing = imported_modules(path) - allowed
        assert not missing, f"{path.relative_to(unpacked)} imports {sorted(missing)}"


# A fresh interpreter standing in for the image: awswrangler is importable only from a folder
# named vendor on sys.path, as if the image had none installed.
_IMAGE_WITHOUT_AWSWRANGLER = """
import importlib.machinery, sys

class OnlyVendoredAwswrangler:
    def find_spec(self, name, path=None, target=None):
        if name != "awswrangler":
            return None
        vendor = [entry for entry in sys.path if entry.endswith("/vendor")]
        spec = importlib.machinery.PathFinder.find_spec(name, vendor)
        if spec is None:
            raise ModuleNotFoundError("No module named 'awswrangler'", name=name)
        return spec

sys.meta_path.insert(0, OnlyVendoredAwswrangler())
sys.path.insert(0, ".")
try:
    import awswrangler
    raise SystemExit("awswrangler importable without the vendored copy")
except ModuleNotFoundError:
    pass
import sagemaker_pipelines.steps.prepare, sagemaker_pipelines.steps.score
from sagemaker_pipelines.steps.lake_io import wrangler
wr = wrangler()
import pg8000.dbapi, scramp
assert pg8000.dbapi.paramstyle == "format"
print(wr.__file__)
print(wr.__version__)
print(sys.path[-1])
"""


def test_the_steps_import_awswrangler_from_the_unpacked_archive(unpacked: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run(
        [sys.executable, "-c", _IMAGE_WITHOUT_AWSWRANGLER],
        cwd=unpacked,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    location, version, last_path = result.stdout.split()
    vendor = (unpacked / "vendor").resolve()
    assert Path(location).resolve() == vendor / "awswrangler" / "__init__.py"
    assert version == importlib.metadata.version("awswrangler")
    # Appended, not prepended: any package the image has keeps its own version.
    assert Path(last_path).resolve() == vendor
