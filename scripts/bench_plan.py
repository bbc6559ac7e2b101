"""The plan benchmark: wall time and API calls of `emrstack plan` against the
emulator with injected latency, next to the lower bound that bounded
parallelism allows (docs/observe.md). Run through scripts/bench-plan, which
builds the release binary and the emulator's virtualenv first.

For each size N: a fresh account gets a VPC (two subnets, a security group)
and a generated stack of N Spark applications and M = N/10 roles (each role
trusts one application and has one inline policy), applied once so that the
plan is empty. Then a fault rule adds `--latency-ms` to every call of that
account, and `emrstack plan --detailed-exitcode` (expected exit 0) is timed
`--repeats` times at `--parallelism 10` and once at 1, with client-side rate
limits off; for the sizes in `--rate-limited`, once more at 10 with the
default rate limits on. Call counts come from the emulator.

With `--foreign 0,100,300`, the shared-account benchmark runs instead: a
stack of `--stack-apps` applications (default 3) and one role, in accounts
that also hold F applications and `--foreign-roles` EMR Serverless roles of
someone else (created with the SDK, as another team would); each plan is
timed `--repeats` times with the default client-side rate limits on, and once
more with `tag:GetResources` denied (the fallback, which reads every
application as plans did before the search by tag).

Only 127.0.0.1 is used. The emulator is started on a free port and killed by
PID at the end, also on errors and Ctrl-C.
"""

import argparse
import json
import math
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import boto3

REPO = Path(__file__).resolve().parent.parent
EMULATOR_DIR = REPO / "tests" / "emulator"
REGION = "us-east-1"

# What docs/aws.md and src/aws/settings.rs give as default client-side
# limits: (per second, burst).
DEFAULT_RATES = {
    "emr-serverless:ListApplications": (10, 50),
    "emr-serverless:GetApplication": (10, 50),
    "iam": (10, 20),  # every IAM read
    "ecr": (10, 20),
    "ec2": (20, 100),
    "sts": (20, 50),
}


class Emulator:
    """The emulator as a child process on a free 127.0.0.1 port."""

    def __init__(self, python: str):
        env = dict(os.environ)
        env["PYTHONPATH"] = str(EMULATOR_DIR)
        # Seeding creates hundreds of applications: no state delays.
        env["EMULATOR_DELAY_CREATE_MS"] = "0"
        self.process = subprocess.Popen(
            [os.path.abspath(python), "-m", "emulator", "--host", "127.0.0.1", "--port", "0", "--exit-on-stdin-eof"],
            cwd=EMULATOR_DIR,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        line = self.process.stdout.readline().strip()
        prefix = "EMULATOR_LISTENING "
        if not line.startswith(prefix):
            self.stop()
            raise RuntimeError(f"the emulator did not start: {line!r}")
        self.endpoint = line[len(prefix):]

    def stop(self):
        if self.process.poll() is None:
            self.process.kill()  # by PID: Popen.kill signals exactly this process
        self.process.wait()

    def control(self, method: str, path: str, body=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.endpoint + path, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            text = response.read().decode()
        return json.loads(text) if text.strip() else None

    def client(self, service: str, account: str):
        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name=REGION,
            aws_access_key_id=account,
            aws_secret_access_key="emulator",
        )


def stack_text(applications: int, roles: int) -> str:
    lines = [
        "[stack]",
        'name = "bench"',
        f'region = "{REGION}"',
        "",
        "[networks.private]",
        'subnet_ids = ["${var.subnet_a}", "${var.subnet_b}"]',
        'security_group_ids = ["${var.security_group}"]',
        "",
    ]
    for i in range(applications):
        lines += [
            f"[applications.app{i}]",
            'type = "SPARK"',
            'release_label = "emr-7.2.0"',
            'network = "private"',
            'maximum_capacity = { cpu = "16 vCPU", memory = "64 GB" }',
            "",
        ]
    for i in range(roles):
        lines += [
            f"[roles.role{i}]",
            f'trust_applications = ["app{i}"]',
            "",
            f"[roles.role{i}.policies.data]",
            'document = { Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = "s3:GetObject", '
            f'Resource = "arn:aws:s3:::bench-{i}/*" }}] }}',
            "",
        ]
    return "\n".join(lines)


def documented_calls(n: int, m: int, k: int = 1) -> int:
    """docs/observe.md for this stack: no repository, one network, an account
    holding nothing else (GetResources finds the N applications, 100 a page)."""
    return 1 + max(1, math.ceil(n / 50)) + max(1, math.ceil(n / 100)) + n + 1 + m * (3 + k) + 2


def lower_bound_seconds(n: int, m: int, p: int, latency: float, k: int = 1) -> float:
    """T_min = L * (1 + max(depth, ceil(W / P))) of docs/observe.md."""
    list_pages = max(1, math.ceil(n / 50))
    search_pages = max(1, math.ceil(n / 100))
    per_role = 2 + math.ceil(k / 4)
    work = list_pages + search_pages + n + 1 + m * per_role + 2
    depth = max(list_pages + 1, search_pages + 1, 1 + per_role, 1)
    return latency * (1 + max(depth, math.ceil(work / p)))


def rate_limit_bound_seconds(served: dict) -> tuple:
    """The least time the default client-side buckets allow for these calls,
    and the operation that sets it."""
    worst = (0.0, "")
    for key, count in served.items():
        service = key.split(":")[0]
        rate, burst = DEFAULT_RATES.get(key, DEFAULT_RATES.get(service, (1, 25)))
        seconds = max(0.0, (count - burst) / rate)
        worst = max(worst, (seconds, key))
    return worst


class Bench:
    def __init__(self, args, emulator: Emulator):
        self.args = args
        self.emulator = emulator

    def seed(self, n: int, m: int, account: str, workdir: Path) -> list:
        ec2 = self.emulator.client("ec2", account)
        vpc = ec2.create_vpc(CidrBlock="10.40.0.0/16")["Vpc"]["VpcId"]
        subnets = []
        for index, zone in enumerate(["us-east-1a", "us-east-1b"]):
            subnet = ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.40.{16 * index}.0/20", AvailabilityZone=zone)
            subnets.append(subnet["Subnet"]["SubnetId"])
        group = ec2.create_security_group(GroupName="bench", Description="bench", VpcId=vpc)["GroupId"]
        (workdir / "emrstack.toml").write_text(stack_text(n, m))
        variables = [
            "--var", f"subnet_a={subnets[0]}",
            "--var", f"subnet_b={subnets[1]}",
            "--var", f"security_group={group}",
        ]
        started = time.perf_counter()
        self.emrstack(account, workdir, ["apply", "--auto-approve", "--parallelism", "50", *variables],
                      expect=0, rate_limits="off")
        print(f"  seeded N={n}, M={m} with emrstack apply in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        return variables

    def emrstack(self, account, workdir, arguments, expect, rate_limits):
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "EMRSTACK_"))}
        env.update({
            "AWS_ENDPOINT_URL": self.emulator.endpoint,
            "AWS_ACCESS_KEY_ID": account,
            "AWS_SECRET_ACCESS_KEY": "emulator",
            "AWS_REGION": REGION,
            "AWS_EC2_METADATA_DISABLED": "true",
            "EMRSTACK_AWS_RATE_LIMITS": rate_limits,
            "EMRSTACK_POLL_INTERVAL_MS": "50",
            "EMRSTACK_MAX_POLL_INTERVAL_MS": "200",
            "NO_COLOR": "1",
        })
        started = time.perf_counter()
        result = subprocess.run(
            [os.path.abspath(self.args.binary), *arguments], cwd=workdir, env=env,
            stdin=subprocess.DEVNULL, capture_output=True, text=True,
        )
        elapsed = time.perf_counter() - started
        if result.returncode != expect:
            raise RuntimeError(
                f"emrstack {' '.join(arguments)} exited {result.returncode}, expected {expect}\n"
                f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
            )
        return elapsed

    def timed_plan(self, account, workdir, variables, parallelism, rate_limits, allow_faults=False):
        self.emulator.control("DELETE", "/_emulator/calls")
        elapsed = self.emrstack(
            account, workdir, ["plan", "--detailed-exitcode", "--parallelism", str(parallelism), *variables],
            expect=0, rate_limits=rate_limits,
        )
        counts = self.emulator.control("GET", f"/_emulator/calls?account={account}")
        if (counts["totals"]["faulted"] and not allow_faults) or counts["totals"]["throttled"]:
            raise RuntimeError(f"unexpected faults or throttling: {counts['totals']}")
        return elapsed, counts["totals"]["served"], counts["served"]

    def run(self):
        latency = self.args.latency_ms / 1000
        rows = []
        for n in self.args.sizes:
            m = max(1, n // 10)
            account = f"{400000000000 + n:012d}"
            with tempfile.TemporaryDirectory(prefix=f"bench-plan-{n}-") as tmp:
                workdir = Path(tmp)
                variables = self.seed(n, m, account, workdir)
                # Without latency: what the emulator and the client cost by themselves.
                floor, _, _ = self.timed_plan(account, workdir, variables, 10, "off")
                rule = self.emulator.control("POST", "/_emulator/faults", {
                    "account": account, "kind": "latency", "latencyMs": self.args.latency_ms,
                })
                rule_id = rule["rules"][0]["id"]
                runs = [(10, self.args.repeats, "off"), (1, 1, "off")]
                if n in self.args.rate_limited:
                    runs.append((10, 1, "on"))
                for parallelism, repeats, limits in runs:
                    times, calls, served = [], None, None
                    for _ in range(repeats):
                        elapsed, calls, served = self.timed_plan(account, workdir, variables, parallelism, limits)
                        times.append(elapsed)
                    median = statistics.median(times)
                    bound = lower_bound_seconds(n, m, parallelism, latency)
                    note = ""
                    if limits == "on":
                        limited, operation = rate_limit_bound_seconds(served)
                        if limited > bound:
                            bound = limited + latency
                            note = f"rate limit: {operation}"
                    rows.append({
                        "n": n, "m": m, "p": parallelism, "limits": limits, "calls": calls,
                        "documented": documented_calls(n, m), "median": median, "runs": len(times),
                        "bound": bound, "ratio": median / bound if bound else float("nan"),
                        "floor": floor if (parallelism, limits) == (10, "off") else None, "note": note,
                    })
                    print(f"  N={n} P={parallelism} limits={limits}: {calls} calls, median {median:.3f} s", file=sys.stderr)
                self.emulator.control("DELETE", f"/_emulator/faults/{rule_id}")
        return rows


FOREIGN_TRUST = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Sid": "EMRServerlessTrustPolicy", "Effect": "Allow",
    "Principal": {"Service": "emr-serverless.amazonaws.com"}, "Action": "sts:AssumeRole"}]})


class SharedBench(Bench):
    """A small stack among other teams' applications and roles."""

    def add_others(self, account: str, applications: int, roles: int):
        emr = self.emulator.client("emr-serverless", account)
        iam = self.emulator.client("iam", account)
        for i in range(applications):
            emr.create_application(name=f"other-team-{i}", type="SPARK", releaseLabel="emr-7.2.0",
                                   tags={"team": "other"})
        for i in range(roles):
            iam.create_role(RoleName=f"other-team-{i}", AssumeRolePolicyDocument=FOREIGN_TRUST)

    def run(self):
        rows = []
        n, m = self.args.stack_apps, 1
        for foreign in self.args.foreign:
            account = f"{500000000000 + foreign:012d}"
            with tempfile.TemporaryDirectory(prefix=f"bench-shared-{foreign}-") as tmp:
                workdir = Path(tmp)
                variables = self.seed(n, m, account, workdir)
                self.add_others(account, foreign, self.args.foreign_roles)
                # Other teams created theirs long ago: past the tag index's
                # lag, within which a plan reads new applications in full.
                self.emulator.control("POST", "/_emulator/backdate", {"account": account, "seconds": 3600})
                rule = self.emulator.control("POST", "/_emulator/faults", {
                    "account": account, "kind": "latency", "latencyMs": self.args.latency_ms,
                })["rules"][0]["id"]
                cases = [("by tag", self.args.repeats, False), ("tag:GetResources denied", 1, True)]
                for strategy, repeats, deny in cases:
                    deny_rule = None
                    if deny:
                        deny_rule = self.emulator.control("POST", "/_emulator/faults", {
                            "account": account, "service": "tagging", "operation": "GetResources",
                            "kind": "error", "status": 400, "code": "AccessDeniedException",
                            "message": "not authorized to perform: tag:GetResources",
                        })["rules"][0]["id"]
                    times, calls, served = [], None, None
                    for _ in range(repeats):
                        elapsed, calls, served = self.timed_plan(account, workdir, variables, 10, "on",
                                                                 allow_faults=deny)
                        times.append(elapsed)
                    if deny_rule:
                        self.emulator.control("DELETE", f"/_emulator/faults/{deny_rule}")
                    rows.append({
                        "foreign": foreign, "roles": self.args.foreign_roles, "strategy": strategy,
                        "calls": calls, "get_application": served.get("emr-serverless:GetApplication", 0),
                        "get_role": served.get("iam:GetRole", 0), "median": statistics.median(times),
                        "runs": len(times),
                    })
                    print(f"  foreign={foreign} {strategy}: {calls} calls, median {statistics.median(times):.3f} s",
                          file=sys.stderr)
                self.emulator.control("DELETE", f"/_emulator/faults/{rule}")
        return rows


def shared_table(rows):
    empty = next((r["median"] for r in rows if r["foreign"] == 0 and r["strategy"] == "by tag"), None)
    out = [
        "| foreign apps | foreign EMR roles | discovery | calls | GetApplication | GetRole | wall time, median | vs. empty account |",
        "|---:|---:|---|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        ratio = f"{row['median'] / empty:.2f}x" if empty else ""
        out.append(
            f"| {row['foreign']} | {row['roles']} | {row['strategy']} | {row['calls']} | {row['get_application']} "
            f"| {row['get_role']} | {row['median']:.3f} s (of {row['runs']}) | {ratio} |"
        )
    return "\n".join(out)


def table(rows, latency_ms):
    out = [
        f"| N apps | M roles | --parallelism | rate limits | calls (documented) | wall time, median | no latency | lower bound (L = {latency_ms} ms) | ratio |",
        "|---:|---:|---:|---|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        calls = f"{row['calls']} ({row['documented']})"
        floor = f"{row['floor']:.3f} s" if row["floor"] is not None else ""
        limits = row["limits"] + (f" ({row['note']})" if row["note"] else "")
        out.append(
            f"| {row['n']} | {row['m']} | {row['p']} | {limits} | {calls} | {row['median']:.3f} s (of {row['runs']}) "
            f"| {floor} | {row['bound']:.3f} s | {row['ratio']:.2f} |"
        )
    return "\n".join(out)


def machine():
    cpus = os.cpu_count()
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{platform.system()} {platform.machine()}, {cpus} CPUs ({model}), Python {platform.python_version()}"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", type=Path, required=True, help="the emrstack binary (release build)")
    parser.add_argument("--python", default=sys.executable, help="the emulator virtualenv's python")
    parser.add_argument("--sizes", default="10,100,500", help="numbers of applications (default 10,100,500)")
    parser.add_argument("--latency-ms", type=int, default=20, help="latency added to every call (default 20)")
    parser.add_argument("--repeats", type=int, default=3, help="timed plans at --parallelism 10 (default 3)")
    parser.add_argument("--rate-limited", default="100,500",
                        help="sizes also planned with the default client-side rate limits (default 100,500; '' for none)")
    parser.add_argument("--foreign", default="",
                        help="the shared-account benchmark: numbers of other teams' applications, e.g. 0,100,300")
    parser.add_argument("--foreign-roles", type=int, default=30,
                        help="other teams' EMR Serverless roles in the shared-account benchmark (default 30)")
    parser.add_argument("--stack-apps", type=int, default=3,
                        help="applications of the stack in the shared-account benchmark (default 3)")
    args = parser.parse_args()
    args.foreign = [int(s) for s in args.foreign.split(",") if s]
    args.sizes = [int(s) for s in args.sizes.split(",") if s]
    args.rate_limited = {int(s) for s in args.rate_limited.split(",") if s}

    emulator = Emulator(args.python)
    # SIGTERM ends the run like Ctrl-C does, so the emulator is stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        if args.foreign:
            rows = SharedBench(args, emulator).run()
        else:
            rows = Bench(args, emulator).run()
    finally:
        emulator.stop()
    print(f"Machine: {machine()}")
    print(f"Binary: {args.binary}")
    print(f"Latency: {args.latency_ms} ms added to every call by the emulator (fault rule `latency`)")
    print()
    print(shared_table(rows) if args.foreign else table(rows, args.latency_ms))


if __name__ == "__main__":
    main()
