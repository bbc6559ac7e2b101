"""Local AWS for emrstack's tests and demo.

One WSGI server on 127.0.0.1 serves IAM, ECR, EC2 and STS through moto, S3
through moto with real S3's behaviours added (``emulator.s3``), and EMR
Serverless through our own implementation (``emulator.emr``), behind a
front layer (``emulator.front``) that routes by the SigV4 credential scope,
injects faults, rate-limits, counts calls and holds every request against
its service's botocore model (``emulator.validation``). ``emulator.control`` is the JSON
control API under ``/_emulator/``. See tests/emulator/README.md.
"""

__version__ = "0.1.0"
