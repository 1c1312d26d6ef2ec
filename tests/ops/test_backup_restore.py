"""scripts/backup.sh and scripts/restore.sh: a database with rows and a media folder are backed
up, restored into a fresh database and folder, and compared table by table (row counts and a
checksum of every row) and file by file (SHA-256). A damaged backup restores nothing; a
non-empty target is refused unless forced."""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.db import connection

from apps.categories.tests.factories import make_category
from apps.chat import services as chat_services
from tests.faults.data import active_ad
from tests.faults.servers import database_url

pytestmark = pytest.mark.django_db(transaction=True)
BASE_DIR = Path(__file__).resolve().parents[2]
RESTORED = "test_h_faults_restored"


def tables_digest(url: str) -> dict[str, tuple[int, str]]:
    with psycopg.connect(url) as conn:
        names = [
            row[0]
            for row in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
            )
        ]
        digest = {}
        for name in names:
            rows = "string_agg(t::text, '|' ORDER BY t::text)"
            count, checksum = conn.execute(
                f"SELECT count(*), md5(coalesce({rows}, '')) FROM \"{name}\" t"  # noqa: S608
            ).fetchone()  # type: ignore[misc]
            digest[name] = (count, checksum)
        sequences: dict[str, int | None] = dict(
            conn.execute(  # type: ignore[arg-type]
                "SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'public'"
            )
        )
    digest.update({f"sequence {name}": (value or 0, "") for name, value in sequences.items()})
    return digest


def files_digest(folder: Path) -> dict[str, str]:
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def run(script: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603
        [str(BASE_DIR / "scripts" / script), *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def restored_url() -> Any:
    source = database_url(connection.settings_dict)
    admin = source.rsplit("/", 1)[0] + "/postgres"
    target = source.rsplit("/", 1)[0] + "/" + RESTORED

    def drop() -> None:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{RESTORED}" WITH (FORCE)')

    drop()
    yield target
    drop()


def test_a_backup_restores_into_a_fresh_database_identical(
    tmp_path: Path, make_user: Any, restored_url: str
) -> None:
    seller, buyer = make_user(phone="+254712000001"), make_user()
    category = make_category("Backup Phones")
    ads = [active_ad(seller, category, f"Backup phone {n}") for n in range(3)]
    chat_services.start_conversation(buyer=buyer, ad_id=ads[0].pk, body="Is it available?")
    media = tmp_path / "media"
    (media / "ads" / "2026" / "11").mkdir(parents=True)
    (media / "ads" / "2026" / "11" / "photo.jpg").write_bytes(os.urandom(50_000))
    (media / "avatars").mkdir()
    (media / "avatars" / "amani.png").write_bytes(b"\x89PNG" + os.urandom(3000))
    source = database_url(connection.settings_dict)

    backup = run("backup.sh", str(tmp_path / "backups"), DATABASE_URL=source, MEDIA_ROOT=str(media))
    assert backup.returncode == 0, backup.stderr
    folder = Path(backup.stdout.strip().splitlines()[-1])
    assert sorted(p.name for p in folder.iterdir()) == ["SHA256SUMS", "db.dump", "media.tar.gz"]

    restored_media = tmp_path / "restored-media"
    restore = run(
        "restore.sh", str(folder), TARGET_DATABASE_URL=restored_url, MEDIA_ROOT=str(restored_media)
    )
    assert restore.returncode == 0, restore.stderr

    original, copy = tables_digest(source), tables_digest(restored_url)
    assert copy == original
    assert original["users_user"][0] >= 2 and original["ads_ad"][0] == 3
    assert original["chat_message"][0] == 1
    assert files_digest(restored_media) == files_digest(media)
    assert len(files_digest(media)) == 2

    # restoring again over a database that has tables: refused unless forced
    again = run(
        "restore.sh", str(folder), TARGET_DATABASE_URL=restored_url, MEDIA_ROOT=str(restored_media)
    )
    assert again.returncode != 0 and "RESTORE_FORCE=1" in again.stderr
    forced = run(
        "restore.sh",
        str(folder),
        TARGET_DATABASE_URL=restored_url,
        MEDIA_ROOT=str(restored_media),
        RESTORE_FORCE="1",
    )
    assert forced.returncode == 0, forced.stderr
    assert tables_digest(restored_url) == original


def test_a_damaged_backup_restores_nothing(
    tmp_path: Path, make_user: Any, restored_url: str
) -> None:
    make_user()
    media = tmp_path / "media"
    media.mkdir()
    (media / "a.txt").write_text("hello")
    backup = run(
        "backup.sh",
        str(tmp_path / "backups"),
        DATABASE_URL=database_url(connection.settings_dict),
        MEDIA_ROOT=str(media),
    )
    assert backup.returncode == 0, backup.stderr
    folder = Path(backup.stdout.strip().splitlines()[-1])
    dump = folder / "db.dump"
    data = bytearray(dump.read_bytes())
    data[len(data) // 2] ^= 0xFF
    dump.write_bytes(bytes(data))

    restore = run(
        "restore.sh",
        str(folder),
        TARGET_DATABASE_URL=restored_url,
        MEDIA_ROOT=str(tmp_path / "restored"),
    )
    assert restore.returncode != 0 and "checksums" in restore.stderr
    assert not (tmp_path / "restored").exists()
    admin = restored_url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin) as conn:
        assert (
            conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [RESTORED]).fetchone()
            is None
        )
