"""How `deploylog backup` runs pg_dump ([backup] format, jobs, compression) and follows it: real pg_dump binaries."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from deploylog.errors import DeploylogError
from deploylog.hostchecks import backup, dump_plan, take_backup, watch
from deploylog.progress import Progress
from deploylog.spec import SpecError
from selftests.support.host_spec import LOCAL, make_spec

SYSTEM_PG15 = Path("/usr/lib/postgresql/15/bin")


def spec_with(pg_bin_dir, **backup_section):
    return make_spec(paths={"pg_bin_dir": str(pg_bin_dir)}, backup=backup_section)


def dumps_with(pg_cluster, dsn, compression, target) -> bool:
    """Whether a real pg_dump of the database with --compress=compression succeeds."""
    argv = [str(pg_cluster.bin_dir / "pg_dump"), "-Fd", f"--compress={compression}", f"--file={target}", dsn]
    return subprocess.run(argv, capture_output=True, check=False).returncode == 0


def test_the_probe_agrees_with_a_real_dump_for_every_method(pg_cluster, odoo_db, tmp_path):
    binary = str(pg_cluster.bin_dir / "pg_dump")
    assert dump_plan.version_of(binary) >= dump_plan.METHOD_SYNTAX_SINCE  # the session's pg_dump takes METHOD[:LEVEL]
    answers = {}
    for n, method in enumerate(("gzip:1", "lz4", "zstd:1")):
        answers[method] = dump_plan.supports(binary, method)
        assert answers[method] == dumps_with(pg_cluster, odoo_db.dsn, method, tmp_path / f"d{n}"), method
    assert answers["gzip:1"]
    chosen = dump_plan.resolve(spec_with(pg_cluster.bin_dir), binary)
    assert chosen.compression == next(m for m in dump_plan.AUTO_PREFERENCE if answers[m])
    assert chosen.format == "directory" and chosen.jobs == dump_plan.auto_jobs()
    assert chosen.options() == [
        "--format=directory",
        *([f"--jobs={chosen.jobs}"] if chosen.jobs > 1 else []),
        f"--compress={chosen.compression}",
    ]


def test_a_method_this_pg_dump_lacks_is_refused_before_anything_is_written(pg_cluster, odoo_db, tmp_path):
    binary = str(pg_cluster.bin_dir / "pg_dump")
    missing = [m for m in ("lz4", "zstd") if not dump_plan.supports(binary, m)]
    if not missing:
        pytest.skip("this pg_dump has both lz4 and zstd")
    spec = make_spec(
        database={"name": odoo_db.name, "dsn": odoo_db.dsn},
        paths={"pg_bin_dir": str(pg_cluster.bin_dir), "backup_dir": str(tmp_path / "bk"), "repo": str(tmp_path)},
        backup={"compression": missing[0]},
    )
    with pytest.raises(DeploylogError, match=rf"was built without {missing[0]} compression: set \[backup\] compression = \"auto\""):
        take_backup.take_backups(spec)
    assert list((tmp_path / "bk").iterdir()) == []


def test_custom_format_is_one_process_with_the_chosen_compression(pg_cluster):
    binary = str(pg_cluster.bin_dir / "pg_dump")
    plan = dump_plan.resolve(spec_with(pg_cluster.bin_dir, format="custom", jobs=4, compression="gzip:6"), binary)
    assert plan.jobs == 1 and plan.options() == ["--format=custom", "--compress=gzip:6"]
    assert plan.describe() == "custom format, compression gzip:6 ([backup] compression)"
    default = dump_plan.resolve(spec_with(pg_cluster.bin_dir, format="custom", compression="default"), binary)
    assert default.options() == ["--format=custom"]  # the template's `pg_dump -Fc`, byte for byte


@pytest.mark.skipif(not (SYSTEM_PG15 / "pg_dump").exists(), reason="no PostgreSQL 15 client on this machine")
def test_pg_dump_before_16_gets_a_gzip_level():
    binary = str(SYSTEM_PG15 / "pg_dump")
    assert dump_plan.version_of(binary) == 15
    plan = dump_plan.resolve(spec_with(SYSTEM_PG15, jobs=3), binary)
    assert plan.compression == "gzip:1" and plan.why == "auto: pg_dump 15 only has gzip"
    assert plan.options() == ["--format=directory", "--jobs=3", "--compress=1"]
    none = dump_plan.resolve(spec_with(SYSTEM_PG15, compression="none"), binary)
    assert none.options()[-1] == "--compress=0"
    with pytest.raises(DeploylogError, match="pg_dump 15 cannot compress with zstd"):
        dump_plan.resolve(spec_with(SYSTEM_PG15, compression="zstd:3"), binary)


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"format": "tar"}, "backup.format: expected directory or custom, got 'tar'"),
        ({"jobs": -1}, "backup.jobs: expected 0 (the CPUs) or a number of processes, got -1"),
        ({"compression": "brotli"}, "backup.compression: expected auto, default, none or METHOD[:LEVEL]"),
        ({"compression": "zstd:fast"}, "backup.compression: expected auto, default, none or METHOD[:LEVEL]"),
    ],
)
def test_backup_section_is_validated(section, message):
    with pytest.raises(SpecError, match=message.replace("[", r"\[").replace("(", r"\(").replace(")", r"\)")):
        make_spec(backup=section)


@pytest.mark.parametrize(("options", "parallel"), [(["-Fc"], False), (["-Fd", "-j2"], True)], ids=["custom", "directory-j2"])
def test_every_table_pg_dump_reports_is_counted_once(pg_cluster, odoo_db, tmp_path, options, parallel):
    """Real `pg_dump --verbose` output, serial and parallel: each dumped table done once, credited with its size."""
    target = tmp_path / "dump"
    out = subprocess.run(
        [str(pg_cluster.bin_dir / "pg_dump"), *options, "--verbose", f"--file={target}", odoo_db.dsn],
        capture_output=True,
        text=True,
        check=True,
    )
    sizes = watch.estimate(odoo_db.dsn)
    assert sizes is not None and sizes.database_bytes > sizes.table_bytes > 0
    bar = Progress("pg_dump", total=len(sizes.tables), unit="tables", size=sizes.table_bytes)
    tracker = watch.DumpWatch(bar, sizes.tables, parallel=parallel)
    for line in out.stderr.splitlines(keepends=True):
        tracker.feed(line)
    if parallel:  # the workers' "finished item" lines already said every table was done
        assert not tracker.running
    tracker.finish()
    listing = backup.list_dump(spec_with(pg_cluster.bin_dir), LOCAL, str(target))
    assert bar.done == len(listing.data) == len(sizes.tables)  # each table with data dumped, none twice
    assert bar.work == sizes.table_bytes and bar.fraction == 1.0
