"""A real ``derson-lake serve`` app (AWS APIs + dashboard) with the seed's pipelines and the real
DMS-intake, an owner on the session sandbox, and a real headless Chromium driven by Selenium.

Chromium and chromedriver are Debian's (``scripts/ensure-chromium.sh``); Selenium is pointed at
``/usr/bin/chromedriver`` so Selenium Manager downloads nothing.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dersonlake.api.local import LocalServer
from dersonlake.api.pipelines import PipelineValues, register_pipelines
from dersonlake.replication.store import ReplicationStore
from dersonlake.states import Engine
from tests.replication.conftest import write_owner

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
ARTIFACTS = ROOT / "build" / "artifacts"
INTAKE = "dersonlake.intake.lambda_function:lambda_handler"


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        pytest.fail(f"{CHROMIUM} / {CHROMEDRIVER} missing: run scripts/ensure-chromium.sh (make test does)")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1500,1150"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


class Served:
    def __init__(self, server: LocalServer, engine: Engine, folder: Path) -> None:
        self.server = server
        self.engine = engine
        self.folder = folder
        self.url = server.url

    def start(self, machine: str, payload: dict[str, Any]) -> str:
        arn = self.engine.state_machine_arn(machine)
        return self.engine.start_execution(arn, input=json.dumps(payload))["executionArn"]

    def run(self, machine: str, payload: dict[str, Any], timeout: float = 240) -> dict[str, Any]:
        return self.engine.wait_for(self.start(machine, payload), timeout=timeout)


@pytest.fixture
def served(tmp_path: Path, sandbox: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Served]:
    """The seed's pipelines with the real DMS-intake Lambda, talking to this server, as ``serve`` runs."""
    owners = tmp_path / "owners"
    engine = Engine(tmp_path / "states.sqlite", time_scale=0.01)
    store = ReplicationStore(tmp_path / "replication.sqlite")
    engine.register_lambda("DMS-intake", INTAKE)
    register_pipelines(engine, ROOT / "infra" / "terraform" / "pipelines", PipelineValues())
    with LocalServer(engine, store, owners_dir=owners) as server:
        monkeypatch.setenv("DERSON_DMS_ENDPOINT_URL", server.url)
        monkeypatch.setenv("DERSON_OWNERS_DIR", str(owners))
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "x")
        for name in ("DERSON_ENDPOINTS", "DERSON_STANDING_REPLICATION", "DERSON_RESOURCE_PREFIX"):
            monkeypatch.delenv(name, raising=False)
        yield Served(server, engine, tmp_path)
    engine.close()
    store.close()


@pytest.fixture
def owner(tmp_path: Path, sandbox: Any) -> Path:
    return write_owner(tmp_path, sandbox, name="acme")


def screenshot(driver: Any, name: str, tmp_path: Path) -> Path:
    """Save the page as a PNG in the test's tmp dir and in build/artifacts (not committed)."""
    path = tmp_path / f"{name}.png"
    driver.save_screenshot(str(path))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(path, ARTIFACTS / path.name)
    return path
