"""Our EMR Serverless: replaces moto's, which drops fields and has no tags or states.

- ``routes``: the rest-json route table (also used by the front layer);
- ``model``: the API model's constraints (botocore's service-2.json);
- ``rules``: normalisation, defaults, engines, worker sizes, release gates;
- ``applications``: stored configuration and PATCH semantics;
- ``jobs``: scripted job runs;
- ``images``: custom images against moto's ECR;
- ``backend``: state, state machine, idempotency;
- ``api``: the rest-json surface.
"""
