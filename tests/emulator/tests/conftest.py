"""Fixtures: one emulator per test session on a free 127.0.0.1 port.

Every test gets a fresh 12-digit account (the access key ID), so tests never
see each other's resources; configuration that is global to the server
(faults, delays, job script, rate limits, call counts) is reset after each
test.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Iterator

import boto3
import pytest
from botocore.config import Config

EMULATOR_DIR = Path(__file__).resolve().parents[1]
# The emulator package itself, for the few tests that use its modules directly.
sys.path.insert(0, str(EMULATOR_DIR))

# Small delays keep the suite fast while every intermediate state stays
# observable by polling.
FAST_ENV = {
    "EMULATOR_DELAY_CREATE_MS": "60",
    "EMULATOR_DELAY_START_MS": "80",
    "EMULATOR_DELAY_STOP_MS": "80",
    "EMULATOR_DELAY_CANCEL_MS": "60",
    "EMULATOR_JOB_SCRIPT": json.dumps([["SUBMITTED", 0.05], ["RUNNING", 0.3], ["SUCCESS"]]),
}


class Server:
    """A running emulator process."""

    def __init__(self, process: subprocess.Popen, endpoint: str) -> None:
        self.process = process
        self.endpoint = endpoint
        self.port = int(endpoint.rsplit(":", 1)[1])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=10)
        for stream in (self.process.stdin, self.process.stdout):
            if stream:
                stream.close()


def start_server(extra_env: dict[str, str] | None = None, args: list[str] | None = None, fast: bool = True) -> Server:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EMULATOR_")}
    if fast:
        env.update(FAST_ENV)
    env.update(extra_env or {})
    env["PYTHONPATH"] = str(EMULATOR_DIR)
    process = subprocess.Popen(
        [sys.executable, "-m", "emulator", "--port", "0", "--exit-on-stdin-eof", *(args or [])],
        cwd=EMULATOR_DIR, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
    )
    line = process.stdout.readline().decode().strip()
    if not line.startswith("EMULATOR_LISTENING "):
        process.kill()
        raise RuntimeError(f"emulator did not start: {line!r}")
    return Server(process, line.split()[1])


@contextlib.contextmanager
def running_server(
    extra_env: dict[str, str] | None = None, args: list[str] | None = None, fast: bool = True
) -> Iterator[Server]:
    server = start_server(extra_env, args, fast)
    try:
        yield server
    finally:
        server.stop()


class Control:
    """The control API, over plain HTTP."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint
        self.port = int(endpoint.rsplit(":", 1)[1])

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        data = None if body is None else json.dumps(body)
        conn.request(method, path, body=data, headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        payload = response.read()
        conn.close()
        return response.status, json.loads(payload) if payload else None

    def ok(self, method: str, path: str, body: Any = None) -> Any:
        status, payload = self.call(method, path, body)
        assert status == 200, (status, payload)
        return payload

    def add_fault(self, **rule: Any) -> dict[str, Any]:
        return self.ok("POST", "/_emulator/faults", rule)["rules"][0]

    def set_delays(self, **delays: int) -> None:
        self.ok("POST", "/_emulator/delays", delays)

    def set_job_script(self, script: list) -> None:
        self.ok("POST", "/_emulator/job-script", {"script": script})

    def inject_job(self, account: str, app_id: str, script: list | None = None, **extra: Any) -> str:
        body = {"account": account, "applicationId": app_id, **extra}
        if script is not None:
            body["script"] = script
        return self.ok("POST", "/_emulator/jobs", body)["jobRunId"]

    def inject_session(self, account: str, app_id: str, script: list | None = None, **extra: Any) -> str:
        body = {"account": account, "applicationId": app_id, **extra}
        if script is not None:
            body["script"] = script
        return self.ok("POST", "/_emulator/sessions", body)["sessionId"]

    def release(self, account: str, app_id: str) -> None:
        self.ok("POST", "/_emulator/transitions", {"account": account, "applicationId": app_id})

    def calls(self, account: str | None = None) -> dict[str, Any]:
        return self.ok("GET", "/_emulator/calls" + (f"?account={account}" if account else ""))

    def rate_limit(self, **settings: Any) -> dict[str, Any]:
        return self.ok("POST", "/_emulator/rate-limit", settings)


def raw_request(
    port: int, method: str, path: str, *, service: str = "emr-serverless", account: str = "123456789012",
    region: str = "us-east-1", body: bytes | None = None, headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], bytes]:
    """A request with a SigV4-shaped Authorization header (the emulator does
    not check signatures, only reads the credential scope)."""
    all_headers = {
        "Authorization": f"AWS4-HMAC-SHA256 Credential={account}/20240101/{region}/{service}/aws4_request, "
        "SignedHeaders=host, Signature=0",
        "Content-Type": "application/json",
    }
    all_headers.update(headers or {})
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request(method, path, body=body, headers=all_headers)
    response = conn.getresponse()
    payload = response.read()
    conn.close()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, payload


def new_account() -> str:
    return str(random.randint(100_000_000_000, 999_999_999_999))


@pytest.fixture(scope="session")
def server() -> Iterator[Server]:
    srv = start_server()
    yield srv
    srv.stop()


@pytest.fixture
def control(server: Server) -> Iterator[Control]:
    ctl = Control(server.endpoint)
    yield ctl
    ctl.ok("POST", "/_emulator/reset", {"state": False})


@pytest.fixture
def account() -> str:
    return new_account()


def client(endpoint: str, service: str, account: str, region: str = "us-east-1", **config: Any):
    settings = {
        "retries": {"total_max_attempts": 1},
        "parameter_validation": False,  # the server must do the validating
        "connect_timeout": 5,
        "read_timeout": 15,
    }
    settings.update(config)
    return boto3.client(
        service, endpoint_url=endpoint, region_name=region,
        aws_access_key_id=account, aws_secret_access_key="emulator", config=Config(**settings),
    )


@pytest.fixture
def aws(server: Server, account: str):
    """aws("iam") -> a boto3 client for this test's account."""

    def make(service: str, region: str = "us-east-1", account_id: str | None = None, **config: Any):
        return client(server.endpoint, service, account_id or account, region, **config)

    return make


@pytest.fixture
def emr(aws):
    return aws("emr-serverless")


def wait_for(predicate, timeout: float = 5.0, interval: float = 0.01, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(interval)


def app_state(emr, app_id: str) -> str:
    return emr.get_application(applicationId=app_id)["application"]["state"]


def wait_state(emr, app_id: str, state: str, timeout: float = 5.0) -> None:
    wait_for(lambda: app_state(emr, app_id) == state, timeout, what=f"application {app_id} to be {state}")


def job_state(emr, app_id: str, job_id: str) -> str:
    return emr.get_job_run(applicationId=app_id, jobRunId=job_id)["jobRun"]["state"]


def wait_job(emr, app_id: str, job_id: str, state: str, timeout: float = 5.0) -> None:
    wait_for(lambda: job_state(emr, app_id, job_id) == state, timeout, what=f"job {job_id} to be {state}")


def create_app(emr, wait: str | None = "CREATED", **kwargs: Any) -> str:
    params = {"name": "app", "releaseLabel": "emr-7.1.0", "type": "SPARK"}
    params.update(kwargs)
    app_id = emr.create_application(**params)["applicationId"]
    if wait:
        wait_state(emr, app_id, wait)
    return app_id


def started_app(emr, **kwargs: Any) -> str:
    app_id = create_app(emr, **kwargs)
    emr.start_application(applicationId=app_id)
    wait_state(emr, app_id, "STARTED")
    return app_id


TRUST_EMR = json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "emr-serverless.amazonaws.com"}, "Action": "sts:AssumeRole"}],
})


def runtime_role(aws, name: str = "job-runtime", trust: str = TRUST_EMR) -> str:
    return aws("iam").create_role(RoleName=name, AssumeRolePolicyDocument=trust)["Role"]["Arn"]


def push_image(aws, repository: str = "spark", tag: str = "v1", region: str = "us-east-1") -> tuple[str, str]:
    """Creates a repository with one image; returns (image URI, digest)."""
    ecr = aws("ecr", region=region)
    with contextlib.suppress(ecr.exceptions.RepositoryAlreadyExistsException):
        ecr.create_repository(repositoryName=repository)
    manifest = json.dumps({
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 100,
                   "digest": "sha256:" + "a" * 64},
        "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": 200,
                    "digest": "sha256:" + format(random.getrandbits(256), "064x")}],
    })
    image = ecr.put_image(repositoryName=repository, imageManifest=manifest, imageTag=tag)["image"]
    registry = image["registryId"]
    uri = f"{registry}.dkr.ecr.{region}.amazonaws.com/{repository}:{tag}"
    return uri, image["imageId"]["imageDigest"]


def pull_policy(*source_arns: str, actions: list[str] | None = None, operator: str = "StringEquals") -> str:
    statement: dict[str, Any] = {
        "Sid": "Emr Serverless Custom Image Support",
        "Effect": "Allow",
        "Principal": {"Service": "emr-serverless.amazonaws.com"},
        "Action": actions or ["ecr:BatchGetImage", "ecr:DescribeImages", "ecr:GetDownloadUrlForLayer"],
    }
    if source_arns:
        statement["Condition"] = {operator: {"aws:SourceArn": list(source_arns)}}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def error_of(excinfo) -> tuple[int, str, str]:
    """(HTTP status, code, message) of a botocore ClientError."""
    response = excinfo.value.response
    return (
        response["ResponseMetadata"]["HTTPStatusCode"],
        response["Error"]["Code"],
        response["Error"].get("Message", ""),
    )
