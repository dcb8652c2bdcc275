"""Local Spark's file system: Hadoop's, with permissions set by the JVM instead of chmod."""

from __future__ import annotations

import shutil
import stat
from pathlib import Path
from types import SimpleNamespace

import pytest

from glue_jobs import local_spark
from glue_jobs.local_spark import (
    LOCAL_FILE_SYSTEM_CLASS,
    LOCAL_FILE_SYSTEM_SOURCE,
    LocalFileSystemBuildError,
    compiled_local_file_system,
)

pytestmark = pytest.mark.integration

# Mode asked for -> mode on disk, for a file and a folder (no umask applies to setPermission).
FILE_MODES = [0o640, 0o604, 0o751, 0o000, 0o777]
FOLDER_MODES = [0o755, 0o710, 0o1777]


def _hadoop_file_system(spark):
    jvm = spark.sparkContext._jvm
    conf = spark.sparkContext._jsc.hadoopConfiguration()
    return jvm.org.apache.hadoop.fs.FileSystem.get(jvm.java.net.URI("file:///"), conf)


def _set_mode(spark, path, mode: int) -> None:
    jvm = spark.sparkContext._jvm
    permission = jvm.org.apache.hadoop.fs.permission.FsPermission(f"{mode:03o}")
    _hadoop_file_system(spark).setPermission(jvm.org.apache.hadoop.fs.Path(str(path)), permission)


def test_spark_sessions_use_the_forkless_file_system(spark) -> None:
    assert _hadoop_file_system(spark).getClass().getName() == LOCAL_FILE_SYSTEM_CLASS


@pytest.mark.parametrize("mode", FILE_MODES)
def test_a_file_gets_exactly_the_mode_asked_for(spark, tmp_path, mode: int) -> None:
    path = tmp_path / "part.parquet"
    path.write_bytes(b"x")
    _set_mode(spark, path, mode)
    assert stat.S_IMODE(path.stat().st_mode) == mode


@pytest.mark.parametrize("mode", FOLDER_MODES)
def test_a_folder_gets_exactly_the_mode_asked_for(spark, tmp_path, mode: int) -> None:
    # 1777 carries the sticky bit, which java.nio cannot set: that one still goes to chmod.
    folder = tmp_path / "day=2026-12-06"
    folder.mkdir()
    _set_mode(spark, folder, mode)
    assert stat.S_IMODE(folder.stat().st_mode) == mode


def test_written_parquet_has_the_usual_modes(spark, tmp_path) -> None:
    frame = spark.createDataFrame([(1, "2026-12-05"), (2, "2026-12-06")], "id int, day string")
    frame.write.partitionBy("day").parquet(str(tmp_path / "table"))
    umask = 0o022  # Hadoop's fs.permissions.umask-mode default; the process umask does not apply
    files = sorted((tmp_path / "table").rglob("*.parquet"))
    folders = sorted(path for path in (tmp_path / "table").rglob("*") if path.is_dir())
    assert len(files) == 2
    assert len(folders) == 2
    assert {stat.S_IMODE(path.stat().st_mode) for path in files} == {0o666 & ~umask}
    assert {stat.S_IMODE(path.stat().st_mode) for path in folders} == {0o777 & ~umask}


def test_the_classes_are_compiled_once_per_source(tmp_path) -> None:
    source = tmp_path / "src" / LOCAL_FILE_SYSTEM_SOURCE.name
    source.parent.mkdir()
    shutil.copy(LOCAL_FILE_SYSTEM_SOURCE, source)
    classes = tmp_path / "classes"
    compiled = classes / "ecommerce_analytics" / "local" / "ForklessLocalFileSystem.class"

    assert compiled_local_file_system(classes, source) == classes
    first = compiled.stat().st_mtime_ns
    assert compiled_local_file_system(classes, source) == classes
    assert compiled.stat().st_mtime_ns == first  # unchanged source: not compiled again

    source.write_text(source.read_text() + "\n// changed\n")
    assert compiled_local_file_system(classes, source) == classes
    assert compiled.stat().st_mtime_ns != first


def test_another_hadoop_jar_compiles_the_classes_again(tmp_path, monkeypatch) -> None:
    (real_jar,) = (Path(local_spark.pyspark.__file__).parent / "jars").glob(
        "hadoop-client-api-*.jar"
    )
    package = tmp_path / "pyspark"
    (package / "jars").mkdir(parents=True)
    jar = package / "jars" / "hadoop-client-api-3.3.4.jar"
    jar.symlink_to(real_jar)
    monkeypatch.setattr(local_spark, "pyspark", SimpleNamespace(__file__=str(package / "x.py")))
    classes = tmp_path / "classes"
    compiled = classes / "ecommerce_analytics" / "local" / "ForklessLocalFileSystem.class"

    compiled_local_file_system(classes, LOCAL_FILE_SYSTEM_SOURCE)
    first = compiled.stat().st_mtime_ns
    jar.rename(jar.with_name("hadoop-client-api-3.4.1.jar"))
    compiled_local_file_system(classes, LOCAL_FILE_SYSTEM_SOURCE)
    assert compiled.stat().st_mtime_ns != first


def test_a_source_javac_rejects_is_an_error_and_keeps_the_last_classes(tmp_path) -> None:
    source = tmp_path / LOCAL_FILE_SYSTEM_SOURCE.name
    shutil.copy(LOCAL_FILE_SYSTEM_SOURCE, source)
    classes = tmp_path / "classes"
    compiled_local_file_system(classes, source)
    source.write_text("package ecommerce_analytics.local;\npublic class Broken {")
    with pytest.raises(LocalFileSystemBuildError, match="reached end of file"):
        compiled_local_file_system(classes, source)
    assert (classes / "ecommerce_analytics" / "local" / "ForklessLocalFileSystem.class").exists()


def test_without_javac_sessions_keep_hadoops_file_system(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setattr(local_spark.shutil, "which", lambda name: None)
    assert compiled_local_file_system(tmp_path / "classes", LOCAL_FILE_SYSTEM_SOURCE) is None
    assert not (tmp_path / "classes").exists()
    assert "javac not found" in capsys.readouterr().err
