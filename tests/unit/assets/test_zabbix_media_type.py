"""The Zabbix media type Stockwire ships (deploy/monitoring/zabbix_stockwire_media.yaml)
posts what the Zabbix webhook reads: its script, run by Node.js as Zabbix runs it (a
function of the JSON of its parameters, macros resolved), with Zabbix's HttpRequest
recorded rather than sent."""

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from stockwire.assets.domain.monitoring import DeviceReport, LabelMapping, ReportKind, from_zabbix
from stockwire.assets.monitoring_payloads import ZabbixEventIn

MEDIA_TYPE = Path(__file__).parents[3] / "deploy" / "monitoring" / "zabbix_stockwire_media.yaml"
NODE = shutil.which("node")

HARNESS = """
const sent = {headers: [], url: null, body: null};
global.HttpRequest = function () {
  this.addHeader = (header) => sent.headers.push(header);
  this.setProxy = () => {};
  this.post = (url, body) => { sent.url = url; sent.body = body; return '{}'; };
  this.getStatus = () => 202;
};
global.Zabbix = {log: () => {}};
const run = new Function('value', process.argv[1]);
const answer = run(process.argv[2]);
process.stdout.write(JSON.stringify({answer, sent}));
"""

MACROS = {
    "{EVENT.SOURCE}": "0",
    "{EVENT.ID}": "4711023",
    "{EVENT.UPDATE.STATUS}": "0",
    "{EVENT.NSEVERITY}": "4",
    "{EVENT.NAME}": "Interface Te1/1/1: Link down",
    "{EVENT.DATE}": "2025.06.12",
    "{EVENT.TIME}": "21:17:44",
    "{EVENT.RECOVERY.DATE}": "2025.06.12",
    "{EVENT.RECOVERY.TIME}": "23:58:10",
    "{EVENT.TAGSJSON}": json.dumps(
        [{"tag": "serial", "value": "FOC2235X1AB"}, {"tag": "site", "value": "POP-TX-AUS-02"}]
    ),
    "{HOST.HOST}": "sw-aus-02-core",
    "{HOST.NAME}": "SW AUS-02 core",
    "{ITEM.NAME}": "Interface Te1/1/1: Operational status",
    "{ITEM.VALUE}": "down (2)",
}


def media_type() -> dict[str, Any]:
    exported: dict[str, Any] = yaml.safe_load(MEDIA_TYPE.read_text())
    [media] = exported["zabbix_export"]["media_types"]
    return media


def run_script(value: str, **macros: str) -> dict[str, Any]:
    """What the script posts when Zabbix resolves its parameters with these macros (on a
    server in US Central time)."""
    if NODE is None:
        pytest.skip("Node.js is not installed")
    media = media_type()
    resolved = MACROS | {"{EVENT.VALUE}": value} | macros
    params = {p["name"]: resolved.get(p["value"], p["value"]) for p in media["parameters"]}
    params["token"] = "the-secret"
    finished = subprocess.run(
        [NODE, "-e", HARNESS, media["script"], json.dumps(params)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "TZ": "America/Chicago"},
    )
    result: dict[str, Any] = json.loads(finished.stdout)
    return result


def test_a_problem_is_posted_as_the_webhook_reads_it_with_the_bearer_secret():
    result = run_script("1")

    sent = result["sent"]
    assert result["answer"] == "OK"
    assert sent["url"] == "https://assets.example.net/api/v1/webhooks/zabbix"
    assert "Authorization: Bearer the-secret" in sent["headers"]
    event = ZabbixEventIn.model_validate_json(sent["body"], strict=True)
    assert event.event_time.isoformat() == "2025-06-13T02:17:44+00:00"
    read = from_zabbix(event.domain(), LabelMapping())
    assert isinstance(read, DeviceReport)
    assert (read.kind, read.serial, read.site) == (
        ReportKind.FAILED,
        "FOC2235X1AB",
        "POP-TX-AUS-02",
    )


def test_a_recovery_is_posted_at_its_recovery_time():
    sent = run_script("0")["sent"]

    event = ZabbixEventIn.model_validate_json(sent["body"], strict=True)
    assert (event.event_value, event.event_time.isoformat()) == (0, "2025-06-13T04:58:10+00:00")


def test_unresolved_item_macros_are_posted_as_empty_text():
    sent = run_script("1", **{"{ITEM.NAME}": "{ITEM.NAME}", "{ITEM.VALUE}": "*UNKNOWN*"})["sent"]

    event = ZabbixEventIn.model_validate_json(sent["body"], strict=True)
    assert (event.item_name, event.item_value) == ("", "")


def test_events_other_than_triggers_are_not_posted():
    result = run_script("1", **{"{EVENT.SOURCE}": "2"})

    assert (result["answer"], result["sent"]["body"]) == ("OK", None)
