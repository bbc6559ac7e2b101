"""The process: start-up line, loopback only, lifetime, configuration, control API basics."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest
from conftest import EMULATOR_DIR, Control, client, create_app, running_server


def run_emulator(*args: str, env: dict[str, str] | None = None, timeout: float = 20) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("EMULATOR_")}
    full_env.update(env or {})
    full_env["PYTHONPATH"] = str(EMULATOR_DIR)
    return subprocess.run([sys.executable, "-m", "emulator", *args], cwd=EMULATOR_DIR, env=full_env,
                          capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)


def test_the_listening_line(server):
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", server.endpoint)
    assert server.port > 0


def test_only_loopback_is_accepted_on_the_command_line():
    result = run_emulator("--host", "0.0.0.0", "--port", "0")
    assert result.returncode == 2
    assert "refusing to listen" in result.stderr
    assert "EMULATOR_LISTENING" not in result.stdout


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.10", "example.com", ""])
def test_only_loopback_is_accepted(host):
    from emulator.server import create_server

    with pytest.raises(ValueError, match="refusing to listen"):
        create_server(lambda environ, start_response: [], host, 0)


def test_localhost_is_bound_as_127_0_0_1():
    with running_server(args=["--host", "localhost"]) as srv:
        assert srv.endpoint.startswith("http://127.0.0.1:")
        assert Control(srv.endpoint).ok("GET", "/_emulator/health")["status"] == "ok"


def test_print_env_prints_the_exports():
    process = subprocess.Popen(
        [sys.executable, "-m", "emulator", "--port", "0", "--print-env", "--account", "111122223333", "--exit-on-stdin-eof"],
        cwd=EMULATOR_DIR, env={**os.environ, "PYTHONPATH": str(EMULATOR_DIR)},
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        lines = [process.stdout.readline().strip() for _ in range(7)]
        endpoint = lines[0].split()[1]
        assert lines[1:] == [
            f"export AWS_ENDPOINT_URL={endpoint}",
            "export AWS_ACCESS_KEY_ID=111122223333",
            "export AWS_SECRET_ACCESS_KEY=emulator",
            "export AWS_REGION=us-east-1",
            "export AWS_DEFAULT_REGION=us-east-1",
            "export AWS_EC2_METADATA_DISABLED=true",
        ]
    finally:
        process.stdin.close()
        process.wait(timeout=10)
        process.stdout.close()


def test_the_server_exits_when_its_stdin_closes():
    with running_server() as srv:
        srv.process.stdin.close()
        assert srv.process.wait(timeout=10) == 0


def test_the_server_exits_on_sigterm():
    with running_server() as srv:
        srv.process.send_signal(signal.SIGTERM)
        assert srv.process.wait(timeout=10) == 0


def test_without_the_stdin_flag_a_closed_stdin_does_not_stop_it():
    process = subprocess.Popen(
        [sys.executable, "-m", "emulator", "--port", "0"], cwd=EMULATOR_DIR,
        env={**os.environ, "PYTHONPATH": str(EMULATOR_DIR)}, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, text=True,
    )
    try:
        endpoint = process.stdout.readline().split()[1]
        time.sleep(0.3)
        assert process.poll() is None
        assert Control(endpoint).ok("GET", "/_emulator/health")["status"] == "ok"
    finally:
        process.kill()
        process.wait(timeout=10)
        process.stdout.close()


def test_bad_configuration_stops_the_start():
    result = run_emulator("--port", "0", env={"EMULATOR_FAULTS": "{not json"})
    assert result.returncode == 2
    assert "configuration error: EMULATOR_FAULTS is not valid JSON" in result.stderr


@pytest.mark.parametrize(
    "env",
    [
        {"EMULATOR_FAULTS": "{not json"},
        {"EMULATOR_FAULTS": '[{"kind": "explode"}]'},
        {"EMULATOR_FAULT_SEED": "abc"},
        {"EMULATOR_DELAY_START_MS": "soon"},
        {"EMULATOR_DELAY_START_MS": "-5"},
        {"EMULATOR_JOB_SCRIPT": '[["RUNNING", 1]]'},
        {"EMULATOR_RATE_LIMIT": '{"burst": 0}'},
        {"EMULATOR_CONFIG": "/nonexistent/emulator.json"},
    ],
)
def test_bad_configuration_is_refused(env):
    from emulator import config

    with pytest.raises(config.ConfigError):
        config.load(None, env)


def test_bad_config_files_are_refused(tmp_path):
    from emulator import config

    for content in ("[]", "{oops", json.dumps({"delay": {}}), json.dumps({"delays": {"startMs": "x"}}),
                    json.dumps({"seed": "x"}), json.dumps({"faults": [{"kind": "nope"}]})):
        path = tmp_path / "c.json"
        path.write_text(content)
        with pytest.raises(config.ConfigError):
            config.load(str(path), {})


def test_configuration_from_the_environment(tmp_path):
    config = tmp_path / "c.json"
    config.write_text(json.dumps({"jobScript": [["RUNNING", 0.01], ["FAILED"]], "seed": 3, "rateLimit": {"enabled": True}}))
    with running_server({"EMULATOR_CONFIG": str(config), "EMULATOR_DELAY_CANCEL_MS": "-1"}, fast=False) as srv:
        control = Control(srv.endpoint)
        config_view = control.ok("GET", "/_emulator/config")
        assert config_view["jobScript"] == [["RUNNING", 0.01], ["FAILED"]]
        assert config_view["faults"]["seed"] == 3
        assert config_view["rateLimit"]["enabled"] is True
        assert config_view["delays"]["cancelMs"] == -1


def test_health_reports_versions(control):
    health = control.ok("GET", "/_emulator/health")
    assert health["status"] == "ok"
    assert health["moto"] == "5.2.5"
    assert health["botocore"] == "1.44.5"


def test_unknown_control_endpoints(control):
    assert control.call("GET", "/_emulator/nothing")[0] == 404
    assert control.call("PUT", "/_emulator/faults")[0] == 405
    status, body = control.call("POST", "/_emulator/delays", {"startMs": "fast"})
    assert status == 400 and "startMs" in body["error"]
    status, body = control.call("POST", "/_emulator/delays", {"bootMs": 1})
    assert status == 400 and "unknown" in body["error"]
    status, body = control.call("POST", "/_emulator/jobs", {"account": "123456789012"})
    assert status == 400 and "applicationId" in body["error"]
    status, body = control.call("POST", "/_emulator/jobs", {"applicationId": "00nosuchapp00000"})
    assert status == 404 and body["code"] == "ResourceNotFoundException"


def test_delays_round_trip(control):
    assert control.ok("POST", "/_emulator/delays", {"startMs": 1000}) == {
        "createMs": 60, "startMs": 1000, "stopMs": 80, "cancelMs": 60}
    assert control.ok("GET", "/_emulator/delays")["startMs"] == 1000


def test_reset_restores_the_start_up_configuration_and_can_wipe_state():
    with running_server() as srv:
        control = Control(srv.endpoint)
        emr = client(srv.endpoint, "emr-serverless", "111111111111")
        iam = client(srv.endpoint, "iam", "111111111111")
        create_app(emr, wait=None)
        iam.create_role(RoleName="r", AssumeRolePolicyDocument="{}")
        control.set_delays(startMs=5)
        control.add_fault(kind="throttle", service="ec2")
        control.rate_limit(enabled=True)
        control.ok("POST", "/_emulator/reset", {"state": False})
        assert len(emr.list_applications()["applications"]) == 1
        view = control.ok("GET", "/_emulator/config")
        assert view["delays"]["startMs"] == 80 and view["faults"]["rules"] == [] and not view["rateLimit"]["enabled"]
        control.ok("POST", "/_emulator/reset")
        assert emr.list_applications()["applications"] == []
        assert iam.list_roles()["Roles"] == []
        assert control.calls()["totals"]["served"] == 2


def test_moto_api_is_reachable(server):
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.request("POST", "/moto-api/seed?a=42")
    assert conn.getresponse().status == 200
    conn.close()


def test_iam_managed_policies_are_off_by_default_and_can_be_enabled():
    policy = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
    with running_server() as srv:
        iam = client(srv.endpoint, "iam", "111111111111")
        with pytest.raises(iam.exceptions.NoSuchEntityException):
            iam.get_policy(PolicyArn=policy)
    with running_server(args=["--iam-managed-policies"]) as srv:
        iam = client(srv.endpoint, "iam", "111111111111")
        assert iam.get_policy(PolicyArn=policy)["Policy"]["PolicyName"] == "AmazonS3ReadOnlyAccess"
