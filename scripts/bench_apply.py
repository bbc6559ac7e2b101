"""The apply benchmark: wall time of `emrstack apply --auto-approve` for a
generated stack of N independent Spark applications, against the emulator
with injected CreateApplication latency, next to the lower bound that
bounded parallelism allows. Run through scripts/bench-apply, which builds
the release binary and the emulator's virtualenv first.

Every run is a fresh account, so every apply creates all N applications.
The time of one application is L = the CreateApplication latency (a fault
rule of kind `latency`, scoped to the run's account) plus the emulator's
CREATING delay (`createMs`); with P applications in progress at once, no
apply can take less than N * L / P. Each parallelism is run twice:

- rate limits off: `EMRSTACK_AWS_RATE_LIMITS=off` and no server-side limit;
- defaults on: emrstack's client-side limits as shipped, and the emulator's
  server-side limits (the documented EMR Serverless numbers) on too, so any
  throttling the client did not prevent shows in the counts. The documented
  CreateApplication limit of 1 per second with a burst of 25 then bounds the
  run: after the first 25 creates, one per second, so the last of N starts
  no sooner than (N - 25) s and ends L later.

Only 127.0.0.1 is used. The emulator is started on a free port and killed by
PID at the end, also on errors and Ctrl-C.
"""

import argparse
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
EMULATOR_DIR = REPO / "tests" / "emulator"
REGION = "us-east-1"

# docs/api-semantics.md, "Rate limits": CreateApplication per second and burst.
CREATE_RATE = 1.0
CREATE_BURST = 25


class Emulator:
    """The emulator as a child process on a free 127.0.0.1 port."""

    def __init__(self, python: str, create_ms: int):
        env = dict(os.environ)
        env["PYTHONPATH"] = str(EMULATOR_DIR)
        env["EMULATOR_DELAY_CREATE_MS"] = str(create_ms)
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


def stack_text(applications: int) -> str:
    lines = ["[stack]", 'name = "bench-apply"', f'region = "{REGION}"', ""]
    for i in range(applications):
        lines += [
            f"[applications.app{i:03}]",
            'type = "SPARK"',
            'release_label = "emr-7.2.0"',
            'maximum_capacity = { cpu = "16 vCPU", memory = "64 GB" }',
            "",
        ]
    return "\n".join(lines)


def lower_bound(n: int, p: int, per_app: float, rate_limited: bool) -> float:
    """N * L / P; with the documented CreateApplication limit, also (N - burst) / rate + L."""
    bound = n * per_app / p
    if rate_limited and n > CREATE_BURST:
        bound = max(bound, (n - CREATE_BURST) / CREATE_RATE + per_app)
    return bound


class Bench:
    def __init__(self, args, emulator: Emulator):
        self.args = args
        self.emulator = emulator
        self.next_account = 310_000_000_000 + (os.getpid() % 1000) * 1000

    def account(self) -> str:
        self.next_account += 1
        return f"{self.next_account:012}"

    def apply(self, parallelism: int, rate_limited: bool) -> dict:
        args = self.args
        account = self.account()
        self.emulator.control(
            "POST",
            "/_emulator/faults",
            {"account": account, "service": "emr-serverless", "operation": "CreateApplication",
             "kind": "latency", "latencyMs": args.latency_ms},
        )
        self.emulator.control("POST", "/_emulator/rate-limit", {"enabled": rate_limited})
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "EMRSTACK_"))}
        env.update({
            "AWS_ENDPOINT_URL": self.emulator.endpoint,
            "AWS_ACCESS_KEY_ID": account,
            "AWS_SECRET_ACCESS_KEY": "emulator",
            "AWS_REGION": REGION,
            "AWS_EC2_METADATA_DISABLED": "true",
            # Poll often, so the measurement is about parallelism and rate
            # limits rather than the default 2 s first poll interval.
            "EMRSTACK_POLL_INTERVAL_MS": str(args.poll_ms),
            "EMRSTACK_MAX_POLL_INTERVAL_MS": str(args.poll_ms),
            "NO_COLOR": "1",
        })
        if not rate_limited:
            env["EMRSTACK_AWS_RATE_LIMITS"] = "off"
        with tempfile.TemporaryDirectory(prefix="bench-apply-") as workdir:
            Path(workdir, "emrstack.toml").write_text(stack_text(args.apps))
            started = time.monotonic()
            result = subprocess.run(
                [args.binary, "apply", "--auto-approve", "--parallelism", str(parallelism)],
                cwd=workdir, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                timeout=args.timeout,
            )
            seconds = time.monotonic() - started
        if result.returncode != 0 or "Converged" not in result.stderr:
            sys.stderr.write(result.stdout + result.stderr)
            raise RuntimeError(f"apply at --parallelism {parallelism} failed with exit {result.returncode}")
        counts = self.emulator.control("GET", f"/_emulator/calls?account={account}")
        created = counts["served"].get("emr-serverless:CreateApplication", 0)
        if created != args.apps:
            raise RuntimeError(f"expected {args.apps} CreateApplication calls, the emulator served {created}")
        return {"seconds": seconds, "throttled": counts["throttled"]}

    def run(self):
        args = self.args
        per_app = (args.latency_ms + args.create_ms) / 1000.0
        rows = []
        for rate_limited in (False, True):
            for parallelism in args.parallelism:
                times, throttled = [], {}
                for _ in range(args.runs):
                    measured = self.apply(parallelism, rate_limited)
                    times.append(measured["seconds"])
                    for key, count in measured["throttled"].items():
                        throttled[key] = throttled.get(key, 0) + count
                    print(
                        f"  --parallelism {parallelism:>2}, rate limits {'on ' if rate_limited else 'off'}: "
                        f"{measured['seconds']:.1f} s",
                        file=sys.stderr,
                    )
                times.sort()
                rows.append({
                    "parallelism": parallelism,
                    "rate_limited": rate_limited,
                    "median": times[len(times) // 2],
                    "bound": lower_bound(args.apps, parallelism, per_app, rate_limited),
                    "throttled": throttled,
                })
        return rows


def table(rows, args) -> str:
    out = [
        "| `--parallelism` | rate limits | wall time | lower bound | ratio | throttled by the emulator |",
        "|---:|---|---:|---:|---:|---:|",
    ]
    for row in rows:
        limits = "defaults on" if row["rate_limited"] else "off"
        throttled = ", ".join(
            f"{count} {key.split(':', 1)[1]}" for key, count in sorted(row["throttled"].items())
        ) or "0"
        out.append(
            f"| {row['parallelism']} | {limits} | {row['median']:.1f} s | {row['bound']:.1f} s "
            f"| {row['median'] / row['bound']:.2f} | {throttled} |"
        )
    return "\n".join(out)


def machine() -> str:
    cpus = os.cpu_count()
    model = "unknown CPU"
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
    parser.add_argument("--binary", required=True, help="the emrstack binary")
    parser.add_argument("--python", required=True, help="the emulator virtualenv's python")
    parser.add_argument("--apps", type=int, default=50, help="applications in the stack (default 50)")
    parser.add_argument("--latency-ms", type=int, default=500, help="added to every CreateApplication (default 500)")
    parser.add_argument("--create-ms", type=int, default=300, help="the emulator's CREATING delay (default 300)")
    parser.add_argument("--poll-ms", type=int, default=200, help="emrstack's poll interval (default 200)")
    parser.add_argument(
        "--parallelism", type=lambda text: [int(p) for p in text.split(",")], default=[1, 10],
        help="comma-separated --parallelism values (default 1,10)",
    )
    parser.add_argument("--runs", type=int, default=1, help="runs per configuration; the median is reported")
    parser.add_argument("--timeout", type=int, default=600, help="seconds one apply may take (default 600)")
    args = parser.parse_args()
    args.binary = os.path.abspath(args.binary)

    emulator = Emulator(args.python, args.create_ms)
    # Ctrl-C and SIGTERM still stop the emulator (by PID) on the way out.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    try:
        print(
            f"scripts/bench-apply: {args.apps} applications, L = {args.latency_ms} ms latency + "
            f"{args.create_ms} ms CREATING, on {emulator.endpoint}",
            file=sys.stderr,
        )
        rows = Bench(args, emulator).run()
    finally:
        emulator.stop()
    print(f"Machine: {machine()}")
    print(
        f"N = {args.apps} applications, L = {args.latency_ms} ms CreateApplication latency + "
        f"{args.create_ms} ms CREATING = {(args.latency_ms + args.create_ms) / 1000:.1f} s, "
        f"poll interval {args.poll_ms} ms, median of {args.runs} run(s)"
    )
    print()
    print(table(rows, args))


if __name__ == "__main__":
    main()
