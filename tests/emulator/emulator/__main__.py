"""``python -m emulator``: run the emulator until killed.

Prints ``EMULATOR_LISTENING http://127.0.0.1:<port>`` on stdout (flushed)
once the socket accepts connections; everything else goes to stderr.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m emulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="127.0.0.1 or localhost; nothing else is accepted")
    parser.add_argument("--port", type=int, default=int(os.environ.get("EMULATOR_PORT", "5055")),
                        help="port to listen on; 0 picks a free one (default 5055, or EMULATOR_PORT)")
    parser.add_argument("--config", help="JSON config file (see emulator/config.py); also EMULATOR_CONFIG")
    parser.add_argument("--exit-on-stdin-eof", action="store_true",
                        help="exit when standard input closes (how test harnesses make sure the server dies with them)")
    parser.add_argument("--iam-managed-policies", action="store_true",
                        default=os.environ.get("EMULATOR_IAM_MANAGED_POLICIES", "").lower() in ("1", "true", "on"),
                        help="load AWS-managed IAM policies (MOTO_IAM_LOAD_MANAGED_POLICIES=true; about 0.7 s on the "
                             "first IAM call); also EMULATOR_IAM_MANAGED_POLICIES=1")
    parser.add_argument("--print-env", action="store_true",
                        help="after the listening line, print the export lines for an AWS client")
    parser.add_argument("--account", default="123456789012",
                        help="the account id that --print-env puts in AWS_ACCESS_KEY_ID")
    parser.add_argument("--region", default="us-east-1", help="the region that --print-env exports")
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)

    # moto reads these per call; set them before any backend exists.
    if args.iam_managed_policies:
        os.environ["MOTO_IAM_LOAD_MANAGED_POLICIES"] = "true"
    else:
        os.environ.pop("MOTO_IAM_LOAD_MANAGED_POLICIES", None)
    # MOTO_ACCOUNT_ID would force one account on every request and break the
    # per-request accounts the front layer sets.
    os.environ.pop("MOTO_ACCOUNT_ID", None)

    from . import config
    from .front import Emulator
    from .server import ALLOWED_HOSTS, create_server

    if args.host not in ALLOWED_HOSTS:
        print(f"emulator: refusing to listen on {args.host!r}: only 127.0.0.1 or localhost", file=sys.stderr)
        return 2
    try:
        startup = config.load(args.config)
    except config.ConfigError as e:
        print(f"emulator: configuration error: {e}", file=sys.stderr)
        return 2

    app = Emulator(startup)
    try:
        server = create_server(app, args.host, args.port, verbose=args.verbose)
    except OSError as e:
        print(f"emulator: cannot listen on {args.host}:{args.port}: {e}", file=sys.stderr)
        return 1
    endpoint = f"http://127.0.0.1:{server.port}"

    # Handlers first: a harness may signal as soon as it reads the line.
    def stop(*_: object) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    print(f"EMULATOR_LISTENING {endpoint}", flush=True)
    if args.print_env:
        print(f"export AWS_ENDPOINT_URL={endpoint}")
        print(f"export AWS_ACCESS_KEY_ID={args.account}")
        print("export AWS_SECRET_ACCESS_KEY=emulator")
        print(f"export AWS_REGION={args.region}")
        print(f"export AWS_DEFAULT_REGION={args.region}")
        print("export AWS_EC2_METADATA_DISABLED=true", flush=True)
    # From here on stdout is stderr: a harness that read the listening line
    # and stopped reading must never block the server on a full pipe (moto
    # prints some warnings to stdout).
    sys.stdout.flush()
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())

    if args.exit_on_stdin_eof:
        def watch_stdin() -> None:
            try:
                while sys.stdin.buffer.read(65536):
                    pass
            except (OSError, ValueError):
                pass
            # The parent is gone (or closed our stdin on purpose): leave now,
            # without waiting for request threads.
            os._exit(0)

        threading.Thread(target=watch_stdin, name="stdin-watch", daemon=True).start()

    try:
        server.serve_forever()
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    # No interpreter shutdown: the stdin watcher may be blocked in a read,
    # and request threads hold nothing worth cleaning up.
    os._exit(code)
