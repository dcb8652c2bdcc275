"""The project's source as one gzipped tarball asset, the way SageMaker jobs take code: the
training image's script mode and the processing steps unpack it and run a script inside it.
The archive is written at synth (about a megabyte, no Docker, no bundling step that tests
could skip) with fixed names, modes and times, so equal sources give equal bytes; the asset
hash comes from the files and the object key ends in .tar.gz either way.

Pure-Python packages the image lacks travel in it too, under `vendor/`: the files of the
distribution installed in the synthesizing environment (pinned in pyproject.toml), as its
wheel laid them out, without compiled caches or pip's install records. Nothing is downloaded
at synth or at run time."""

from __future__ import annotations

import gzip
import hashlib
import importlib.metadata
import io
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from aws_cdk import AssetHashType
from aws_cdk import aws_s3_assets as s3_assets
from constructs import Construct

from stacks.constructs.python_lambda import REPO_ROOT, shipped_files

ARCHIVE_NAME = "sourcedir.tar.gz"


VENDOR_DIR = "vendor"
# pip's records of an installation, not part of the wheel's payload.
_INSTALL_RECORDS = {"INSTALLER", "RECORD", "REQUESTED", "direct_url.json"}


def vendored_files(distribution: str) -> list[tuple[str, Path]]:
    """(archive name, file) for an installed pure-Python distribution: its modules and its
    dist-info metadata and licences, under vendor/."""
    installed = importlib.metadata.distribution(distribution)
    entries = []
    for relative in installed.files or ():
        parts = PurePosixPath(str(relative)).parts
        if "__pycache__" in parts or relative.suffix in {".pyc", ".so", ".pyd"}:
            continue
        if parts[0].endswith(".dist-info") and parts[-1] in _INSTALL_RECORDS:
            continue
        if parts[0] == ".." or parts[0].endswith(".data"):
            continue  # scripts and data outside site-packages: not importable code
        entries.append((f"{VENDOR_DIR}/{PurePosixPath(*parts)}", Path(relative.locate())))
    return sorted(entries)


@dataclass(frozen=True)
class SourceTree:
    """Repository paths to ship (files or folders), folders inside them to leave out, and
    installed pure-Python distributions to vendor."""

    paths: tuple[str, ...]
    excluded: tuple[str, ...] = ()
    vendored: tuple[str, ...] = ()

    def entries(self) -> list[tuple[str, Path]]:
        """(archive name, file) of every shipped file, in a stable order."""
        own = [
            (path.relative_to(REPO_ROOT).as_posix(), path)
            for path in shipped_files(self.paths, self.excluded)
        ]
        return own + [entry for name in self.vendored for entry in vendored_files(name)]

    def fingerprint(self) -> str:
        digest = hashlib.sha256()
        for name, path in self.entries():
            digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
        return digest.hexdigest()

    def write_archive(self, target: Path) -> None:
        """A tar.gz of the entries under their archive names; equal files, equal bytes."""
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
            for name, path in self.entries():
                info = tarfile.TarInfo(name)
                info.size = path.stat().st_size
                info.mode = 0o644
                info.mtime = 0
                archive.addfile(info, io.BytesIO(path.read_bytes()))
        target.write_bytes(gzip.compress(buffer.getvalue(), mtime=0))


def source_tarball(scope: Construct, construct_id: str, tree: SourceTree) -> s3_assets.Asset:
    """An S3 asset holding `tree` as a tar.gz, uploaded as is."""
    fingerprint = tree.fingerprint()
    folder = Path(tempfile.gettempdir()) / f"ecommerce-source-{fingerprint[:16]}"
    folder.mkdir(exist_ok=True)
    archive = folder / ARCHIVE_NAME
    tree.write_archive(archive)
    return s3_assets.Asset(
        scope,
        construct_id,
        path=str(archive),
        asset_hash_type=AssetHashType.CUSTOM,
        asset_hash=fingerprint,
    )
