"""`serve` and `worker` build their jobs' audit options from the same flags in one place
(`cli.service.job_options`): a bad value ends either command with exit 2 and the reason,
before a store is opened or created."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from mailauth_audit.cli.main import main


@pytest.mark.parametrize("command", ["serve", "worker"])
@pytest.mark.parametrize(
    ("flags", "reason"),
    [
        (("--nameserver", "300.1.1.1"), "invalid nameserver '300.1.1.1'"),
        (("--dnssec-resolver", "not-an-address"), "invalid nameserver 'not-an-address'"),
        (("--checks", "mx,nonsense"), "nonsense"),
    ],
)
def test_bad_job_options_exit_2_before_the_store_is_touched(
    command: str, flags: tuple[str, ...], reason: str, tmp_path: Path
) -> None:
    store = tmp_path / "audits.db"
    result = CliRunner().invoke(main, [command, "--store", str(store), *flags])
    assert result.exit_code == 2, result.output
    assert reason in result.output
    assert not store.exists()
