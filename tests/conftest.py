"""Shared fixtures: settings, a fully built Hearth on a real SQLite file, loopback servers."""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from hypothesis.configuration import set_hypothesis_home_dir

from bot.app import Hearth, build
from bot.core.config import Settings, load_settings
from tests.servers.openai_server import OpenAIServer, running_openai_server
from tests.servers.zalo_api import ZaloApiServer, running_zalo_api


def make_settings(tmp_path: Path, **env: str) -> Settings:
    """Settings from an explicit environment only (never the developer's own)."""
    base = {"HEARTH_DB": str(tmp_path / "hearth.db")}
    base.update(env)
    return load_settings(base, dotenv=None)


def model_settings(tmp_path: Path, server: OpenAIServer, **env: str) -> Settings:
    """Settings with the loopback model as the endpoint; one member may ask quickly."""
    return make_settings(
        tmp_path,
        **{
            "LLM_BASE_URL": server.base_url,
            "LLM_MODEL": "m",
            "HEARTH_MEMBER_RATE_PER_MIN": "100000",
            **env,
        },
    )


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


@pytest.fixture
async def hearth(settings: Settings) -> AsyncIterator[Hearth]:
    app = await build(settings)
    try:
        yield app
    finally:
        await app.aclose()


@pytest.fixture
def openai_server() -> Iterator[OpenAIServer]:
    """A scriptable OpenAI-compatible server on 127.0.0.1 (port from the OS)."""
    with running_openai_server() as server:
        yield server


@pytest.fixture
def telegram_api():  # type: ignore[no-untyped-def]
    """A loopback Telegram Bot API: yields (fake, TELEGRAM_API_BASE_URL, ..._BASE_FILE_URL)."""
    from tests.servers.telegram_api import running_telegram

    with running_telegram() as served:
        yield served


@pytest.fixture
async def start_bot(tmp_path: Path, telegram_api, openai_server: OpenAIServer):  # type: ignore[no-untyped-def]
    """Start Hearth on the loopback Bot API and model (one database per test), extra
    settings per call; every bot started is closed after the test."""
    from tests.support.telegram import TelegramRun, start_telegram

    runs: list[TelegramRun] = []

    async def go(**env: str) -> TelegramRun:
        settings = {
            "TELEGRAM_RATE_LIMIT": "off",
            "LLM_BASE_URL": openai_server.base_url,
            "LLM_MODEL": "m",
            "HEARTH_MEMBER_RATE_PER_MIN": "1000",
            **env,
        }
        run = await start_telegram(tmp_path, telegram_api, 10.0, **settings)
        runs.append(run)
        await run.polling()
        return run

    yield go
    for run in runs:
        await run.close()


@pytest.fixture
def zalo_api() -> Iterator[ZaloApiServer]:
    """A loopback Zalo Bot API whose long polls return after 0.2 s when nothing came."""
    with running_zalo_api(long_poll_cap_s=0.2) as api:
        yield api


@pytest.fixture(scope="package", autouse=True)
def hypothesis_home(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Hypothesis keeps its examples and caches in the run's tmp, not in ./.hypothesis:
    tests write only under pytest's temporary folder."""
    set_hypothesis_home_dir(tmp_path_factory.mktemp("hypothesis"))


@pytest.fixture(autouse=True)
def temp_files_in_pytest_tmp(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`tempfile` in the test and in the processes it starts (TMPDIR) lands in a folder of
    the run's tmp, beside the test's tmp_path: nothing is left in the system's /tmp."""
    scratch = str(tmp_path_factory.mktemp("tmp"))
    monkeypatch.setattr(tempfile, "tempdir", scratch)
    monkeypatch.setenv("TMPDIR", scratch)
