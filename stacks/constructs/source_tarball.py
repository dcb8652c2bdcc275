"""The project's source as one gzipped tarball asset, the way SageMaker jobs take code: the
training image's script mode and the processing steps unpack it and run a script inside it.
The archive is written at synth (a few hundred kilobytes, no Docker, no bundling step that
tests could skip) with fixed names, modes and times, so equal sources give equal bytes; the
asset hash comes from the files and the object key ends in .tar.gz either way."""

from __future__ import annotations

import gzip
import io
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from aws_cdk import AssetHashType
from aws_cdk import aws_s3_assets as s3_assets
from constructs import Construct

from stacks.constructs.python_lambda import REPO_ROOT, files_fingerprint, shipped_files

ARCHIVE_NAME = "sourcedir.tar.gz"


@dataclass(frozen=True)
class SourceTree:
    """Repository paths to ship (files or folders) and folders inside them to leave out."""

    paths: tuple[str, ...]
    excluded: tuple[str, ...] = ()

    def files(self) -> list[Path]:
        """Every shipped file, in a stable order."""
        return shipped_files(self.paths, self.excluded)

    def fingerprint(self) -> str:
        return files_fingerprint(self.files())

    def write_archive(self, target: Path) -> None:
        """A tar.gz of the files under their repository paths; equal files, equal bytes."""
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
            for path in self.files():
                info = tarfile.TarInfo(path.relative_to(REPO_ROOT).as_posix())
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
