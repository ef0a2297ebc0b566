"""The dashboard in a real headless Chromium: the seed's flow run for real on the session sandbox,
its DMS-Handler execution drawn and coloured, a state's output on click, a running execution that
updates without a reload, the replication and lake pages. Screenshots go to build/artifacts."""

from __future__ import annotations

import json
import time
import urllib.parse

from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.dashboard.conftest import screenshot
from tests.replication.conftest import ALL_SHOP, write_owner

LIVE = (StaleElementReferenceException,)  # a live page replaces its elements as it refreshes


def read_live(browser, read, timeout: float = 10):
    """``read(browser)`` retried while the live page swaps the elements it reads."""
    return WebDriverWait(browser, timeout, poll_frequency=0.1, ignored_exceptions=LIVE).until(read)


HANDLER_STATES = json.loads(
    (
        __import__("pathlib").Path(__file__).resolve().parents[2]
        / "infra/terraform/pipelines/DMS-Handler/states.json"
    ).read_text()
)["States"]
HAPPY_PATH = {
    "Defaults", "CreateInstance", "WaitForInstance", "CheckInstanceStatus", "InstanceAvailable",
    "CreateReplicationTask", "StartReplicationTask", "WaitForTask", "CheckReplicationTaskStatus",
    "TaskStopped", "UpdateIcebergTables", "DeleteTask", "DeleteInstance", "Done",
}  # fmt: skip
POLLS = {"CountInstancePoll", "CountTaskPoll"}  # visited or not, depending on how fast the load is
STROKE = {  # the CSS colours of the statuses (dashboard.css)
    "succeeded": "rgb(46, 133, 64)",
    "failed": "rgb(198, 40, 40)",
    "caught": "rgb(217, 139, 0)",
    "running": "rgb(21, 101, 192)",
    "not-reached": "rgb(154, 160, 166)",
}


def page_of(served, arn: str) -> str:
    return f"{served.url}/execution?arn={urllib.parse.quote(arn)}"


def child_of(served, machine: str) -> str:
    (only,) = served.engine.list_executions(served.engine.state_machine_arn(machine))["executions"]
    return only["executionArn"]


def node_statuses(driver) -> dict[str, tuple[str, str]]:
    """Per state drawn: (the status class, the computed stroke colour of its box)."""
    out = {}
    for node in driver.find_elements(By.CSS_SELECTOR, "#graph .node"):
        classes = set(node.get_attribute("class").split())
        status = (classes & set(STROKE)).pop()
        rect = node.find_element(By.CSS_SELECTOR, "rect")
        out[node.get_attribute("data-state")] = (status, rect.value_of_css_property("stroke"))
    return out


def test_a_finished_seed_run_is_drawn_with_every_state_coloured(served, owner, browser, tmp_path):
    done = served.run("derson-Main", {"owner": "acme"})
    assert done["status"] == "SUCCEEDED", done
    handler = child_of(served, "DMS-Handler")

    browser.get(page_of(served, handler))
    statuses = node_statuses(browser)
    assert set(statuses) == set(HANDLER_STATES)  # every state of DMS-Handler is drawn
    for name, (status, stroke) in statuses.items():
        expected = "succeeded" if name in HAPPY_PATH else "not-reached"
        if name in POLLS:
            assert status in ("succeeded", "not-reached"), name
        else:
            assert status == expected, (name, status)
        assert stroke == STROKE[status], (name, stroke)
    assert browser.find_element(By.ID, "exec-status").text.lower() == "succeeded"
    assert browser.find_element(By.ID, "parent-link").text.startswith("derson-Main")

    # clicking a state shows its output, as the history recorded it
    browser.find_element(By.CSS_SELECTOR, '#graph .node[data-state="CreateReplicationTask"]').click()
    shown = browser.find_element(By.ID, "panel-output").text
    history = served.engine.get_execution_history(handler)["events"]
    exited = [e for e in history if e["type"] == "TaskStateExited"
              and e["stateExitedEventDetails"]["name"] == "CreateReplicationTask"]  # fmt: skip
    assert json.loads(shown) == json.loads(exited[-1]["stateExitedEventDetails"]["output"])
    assert browser.find_element(By.ID, "panel-status").text == "succeeded"
    rows = browser.find_elements(By.CSS_SELECTOR, "#history tbody tr")
    assert len(rows) == len(history) and "ExecutionSucceeded" in rows[-1].text
    shot = screenshot(browser, "dashboard-dms-handler-succeeded", tmp_path)
    assert shot.stat().st_size > 10_000

    # the parent's IntakeOwner state links to the nested DMS-Handler execution
    browser.find_element(By.ID, "parent-link").click()
    browser.find_element(By.CSS_SELECTOR, '#graph .node[data-state="IntakeOwner"]').click()
    browser.find_element(By.CSS_SELECTOR, "#panel-children a.child-link").click()
    WebDriverWait(browser, 10).until(lambda d: "DMS-Handler" in d.find_element(By.TAG_NAME, "h1").text)

    # the list: both executions, filterable by owner and state machine
    browser.get(f"{served.url}/?owner=acme&machine=DMS-Handler")
    listed = read_live(
        browser, lambda d: [r.text for r in d.find_elements(By.CSS_SELECTOR, "#executions tbody tr")]
    )
    assert len(listed) == 1 and "DMS-Handler" in listed[0] and "acme" in listed[0], listed
    browser.get(f"{served.url}/?owner=nobody")
    assert "No execution matches" in read_live(browser, lambda d: d.find_element(By.ID, "executions").text)

    # the lake page: the owner's six tables with their rows
    browser.get(f"{served.url}/lake")
    tables = read_live(
        browser,
        lambda d: d.find_element(By.CSS_SELECTOR, 'article.owner[data-owner="acme"]').find_elements(
            By.CSS_SELECTOR, "tbody tr"
        ),
    )
    assert len(tables) == 6
    lake = json.loads(_get(f"{served.url}/api/lake"))
    (acme,) = lake["owners"]
    assert acme["totals"]["rows"] > 0 and all(t["lastChange"] for t in acme["tables"])
    screenshot(browser, "dashboard-lake", tmp_path)


def test_a_failing_run_shows_the_caught_and_failed_states(served, tmp_path, sandbox, browser):
    bad = {"rules": [{**ALL_SHOP["rules"][0], "rule-action": "swallow"}]}
    write_owner(tmp_path, sandbox, name="acme", mapping=bad)
    done = served.run("derson-Main", {"owner": "acme"})
    assert done["status"] == "FAILED"
    browser.get(page_of(served, child_of(served, "DMS-Handler")))
    statuses = {name: status for name, (status, _) in node_statuses(browser).items()}
    assert statuses["CreateReplicationTask"] == "caught"  # its Catch sent the flow to error handling
    assert statuses["Failed"] == "failed"
    assert statuses["CreateInstance"] == "succeeded" and statuses["DeleteTask"] == "not-reached"
    browser.find_element(By.CSS_SELECTOR, '#graph .node[data-state="CreateReplicationTask"]').click()
    error = browser.find_element(By.ID, "panel-error").text
    assert "InvalidParameterValueException" in error and "swallow" in error
    screenshot(browser, "dashboard-dms-handler-failed", tmp_path)


WAITING = {
    "StartAt": "Prepare",
    "States": {
        "Prepare": {"Type": "Pass", "Next": "Hold"},
        "Hold": {"Type": "Wait", "Seconds": 300, "Next": "Finish"},
        "Finish": {"Type": "Pass", "End": True},
    },
}


def test_a_running_execution_updates_without_a_reload(served, browser, tmp_path):
    # time_scale 0.01: the 300 s Wait lasts 3 s of real time, long enough to see it running
    machine = served.engine.create_state_machine(
        "hold", json.dumps(WAITING), "arn:aws:iam::000000000000:role/x"
    )
    arn = served.engine.start_execution(machine["stateMachineArn"], input='{"owner": "acme"}')["executionArn"]
    browser.get(page_of(served, arn))
    browser.execute_script("window.notReloaded = true;")
    statuses = {name: status for name, (status, _) in node_statuses(browser).items()}
    assert statuses == {"Prepare": "succeeded", "Hold": "running", "Finish": "not-reached"}
    screenshot(browser, "dashboard-running", tmp_path)
    WebDriverWait(browser, 30, poll_frequency=0.2, ignored_exceptions=LIVE).until(
        lambda d: d.find_element(By.ID, "exec-status").text.lower() == "succeeded"
    )
    statuses = {name: status for name, (status, _) in node_statuses(browser).items()}
    assert statuses == {"Prepare": "succeeded", "Hold": "succeeded", "Finish": "succeeded"}
    assert browser.execute_script("return window.notReloaded === true")  # the same page, updated
    assert "ExecutionSucceeded" in browser.find_element(By.ID, "history").text


def test_replication_page_shows_a_task_and_its_tables(served, owner, browser, tmp_path):
    import boto3

    dms = boto3.client("dms", endpoint_url=served.url, region_name="us-east-1",
                       aws_access_key_id="x", aws_secret_access_key="x")  # fmt: skip
    instance = dms.create_replication_instance(
        ReplicationInstanceIdentifier="dash-acme", ReplicationInstanceClass="dms.t3.medium"
    )["ReplicationInstance"]
    dms.describe_replication_instances()  # creating -> available
    endpoints = [
        dms.create_endpoint(EndpointIdentifier=f"dash-{kind}", EndpointType=kind, EngineName=engine)[
            "Endpoint"
        ]
        for kind, engine in (("source", "mariadb"), ("target", "s3"))
    ]
    task = dms.create_replication_task(
        ReplicationTaskIdentifier="dash-acme", SourceEndpointArn=endpoints[0]["EndpointArn"],
        TargetEndpointArn=endpoints[1]["EndpointArn"], ReplicationInstanceArn=instance["ReplicationInstanceArn"],
        MigrationType="full-load", TableMappings=json.dumps(ALL_SHOP),
        Tags=[{"Key": "derson-lake:owner", "Value": "acme"}],
    )["ReplicationTask"]  # fmt: skip
    dms.start_replication_task(
        ReplicationTaskArn=task["ReplicationTaskArn"], StartReplicationTaskType="start-replication"
    )
    browser.get(f"{served.url}/replication")
    browser.execute_script("window.notReloaded = true;")
    box = lambda d: d.find_element(By.CSS_SELECTOR, 'article.task[data-task="dash-acme"]')  # noqa: E731
    WebDriverWait(browser, 120, poll_frequency=0.3, ignored_exceptions=LIVE).until(
        lambda d: "Stop Reason FULL_LOAD_ONLY_FINISHED" in box(d).text
    )
    text, rows = read_live(
        browser,
        lambda d: (
            box(d).text,
            [r.text for r in box(d).find_elements(By.CSS_SELECTOR, "table.tables tbody tr")],
        ),
    )
    assert "stopped" in text and "100%" in text and "owner acme" in text
    assert len(rows) == 6 and all("Table completed" in r for r in rows), rows
    assert browser.execute_script("return window.notReloaded === true")
    assert "dash-acme" in read_live(browser, lambda d: d.find_element(By.ID, "instances").text)
    stats = json.loads(_get(f"{served.url}/api/replication"))
    assert sum(t["fullLoadRows"] for t in stats["tasks"][0]["tables"]) > 0
    screenshot(browser, "dashboard-replication", tmp_path)


def test_an_unknown_execution_answers_404_naming_the_problem(served, browser):
    browser.get(f"{served.url}/execution?arn=nope")
    assert "Execution not found" in browser.page_source and "nope" in browser.page_source


def _get(url: str) -> str:
    import urllib.request

    deadline = time.monotonic() + 10
    while True:
        try:
            with urllib.request.urlopen(url, timeout=30) as r:
                return r.read().decode()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
