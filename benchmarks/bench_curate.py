"""Lines/s of curate_events' classification, with and without its contract check.

Takes the first --lines lines of the generated clickstream (bench_batch's, generated once,
or --source) into an uncompressed file, then prints:

- the validator (`contract_problem`) in a plain loop in this process, on one core;
- the job's classification on Spark local[2]: `classify_raw_lines` persisted and counted,
  then the accepted events parsed from the cache (`curated_events`, written nowhere), with
  the contract check and with a check that passes every line (the cost of the rest: the
  dedupe window, the cache, parsing); runs alternate, after one warm-up run of each;
- the engine's floor on the same lines, what any curation on Spark does at the least: every
  line parsed by Spark's JSON reader with the event schema, then also de-duplicated by event
  id (nothing checked, sessionized or written).

Peak memory is the resident size of this process, Spark's JVM and its Python workers. Prints
figures; asserts nothing:

    python benchmarks/bench_curate.py [--lines 300000] [--runs 3] [--source FILE]
"""

from __future__ import annotations

import argparse
import itertools
import time
from collections.abc import Callable
from datetime import timedelta
from functools import partial
from pathlib import Path

from bench_batch import BENCH_HOME, StagePeaks, open_clickstream, prepared_store
from cpu_meter import cpu_seconds
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as sf
from pyspark.sql.types import StructType

from data_generators import GenerationSettings
from glue_jobs.local_spark import local_spark_session
from glue_jobs.transforms import events
from glue_jobs.transforms.event_schema import spark_event_schema

CHECKS: dict[str, events.EventCheck] = {
    "contract": events.contract_problem,
    "none": lambda line: None,
}


def sample_lines(source: Path, lines: int) -> Path:
    """The first `lines` lines of `source`, uncompressed (so Spark splits the file)."""
    sample = BENCH_HOME / f"curate_{source.name.split('.')[0]}_{lines}.jsonl"
    if not sample.exists():
        BENCH_HOME.mkdir(parents=True, exist_ok=True)
        with open_clickstream(source) as lines_in, sample.open("wb") as lines_out:
            lines_out.writelines(itertools.islice(lines_in, lines))
    return sample


def validator_rate(sample: Path) -> float:
    lines = sample.read_bytes().splitlines()
    started = time.perf_counter()
    for line in lines:
        events.contract_problem(line)
    return len(lines) / (time.perf_counter() - started)


def classify_seconds(
    spark: SparkSession, sample: Path, check: events.EventCheck
) -> tuple[int, float, float]:
    """Lines classified, and the wall and CPU seconds of classify + persist + count + parse
    the accepted events, as the job runs them."""
    raw = spark.read.text(str(sample)).select(
        "value", sf.col("_metadata.file_modification_time").alias("received_at")
    )
    event_schema = spark_event_schema()
    lines = events.classify_raw_lines(
        raw,
        event_schema=event_schema,
        watermark=None,
        allowed_lateness=timedelta(0),
        check_event=check,
    )
    started, cpu_started = time.perf_counter(), cpu_seconds()
    lines = lines.persist()
    count = lines.count()
    accepted = events.curated_events(events.with_parsed_events(lines, event_schema))
    accepted.write.format("noop").mode("overwrite").save()
    seconds, cpu = time.perf_counter() - started, cpu_seconds() - cpu_started
    lines.unpersist(blocking=True)
    return count, seconds, cpu


def parsed(lines: DataFrame, schema: StructType) -> DataFrame:
    return lines.select(sf.from_json("value", schema).alias("event")).select("event.*")


FLOORS: dict[str, Callable[[DataFrame, StructType], DataFrame]] = {
    "parse": parsed,
    "parse+dedupe": lambda lines, schema: parsed(lines, schema).dropDuplicates(["event_id"]),
}


def floor_seconds(
    spark: SparkSession, sample: Path, floor: Callable[[DataFrame, StructType], DataFrame]
) -> tuple[int, float, float]:
    """Lines read, and the wall and CPU seconds of `floor` over them, written nowhere."""
    lines = spark.read.text(str(sample))
    count = lines.count()
    started, cpu_started = time.perf_counter(), cpu_seconds()
    floor(lines, spark_event_schema()).write.format("noop").mode("overwrite").save()
    return count, time.perf_counter() - started, cpu_seconds() - cpu_started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=300_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--source", type=Path, help="a clickstream JSON Lines file (gzip ok)")
    parser.add_argument("--driver-memory", default="4g")
    args = parser.parse_args()
    source = args.source or prepared_store(GenerationSettings(users=10_000, days=90))[1]
    sample = sample_lines(source, args.lines)
    print(f"validator in a plain loop (1 core): {validator_rate(sample):,.0f} lines/s", flush=True)

    spark = local_spark_session("bench-curate", driver_memory=args.driver_memory)
    spark.sparkContext.setLogLevel("ERROR")
    print(f"\nclassify + persist + count + parse accepted, Spark local[2], {args.lines:,} lines")
    print(f"{'run':<8} {'check':<20} {'seconds':>8} {'lines/s':>10} {'CPU s':>6} {'peak RSS':>9}")
    measured = [
        *(
            (name, partial(classify_seconds, spark, sample, check))
            for name, check in CHECKS.items()
        ),
        *(
            (f"floor: {name}", partial(floor_seconds, spark, sample, floor))
            for name, floor in FLOORS.items()
        ),
    ]
    with StagePeaks() as peaks:
        for run in range(args.runs + 1):
            for name, measure in measured:
                peaks.lap()
                count, seconds, cpu = measure()
                label = "warm-up" if run == 0 else str(run)
                print(
                    f"{label:<8} {name:<20} {seconds:>8.1f} {count / seconds:>10,.0f} "
                    f"{cpu:>6.1f} {peaks.lap() / 2**20:>6,.0f} MB",
                    flush=True,
                )


if __name__ == "__main__":
    main()
