"""IAM role names are unique regardless of case; moto compares them exactly.

The botocore model of IAM (``iam/2010-05-08``), CreateRole's ``RoleName``:
"IAM user, group, role, and policy names must be unique within the account.
Names are not distinguished by case. For example, you cannot create
resources named both "MyResource" and "myresource"." The error is the
modelled ``EntityAlreadyExists`` (HTTP 409), with moto's own message.

moto 5.2.5's ``IAMBackend.create_role`` refuses only an identical name, so
the front layer asks this module first and answers a CreateRole whose name
differs from an existing role's only in case.
"""

from __future__ import annotations

from urllib.parse import parse_qs

from werkzeug.wrappers import Response

from . import protocols


def create_role_conflict(account: str, body: bytes, query_string: str) -> Response | None:
    """The EntityAlreadyExists response for a CreateRole that IAM refuses
    because of a case-insensitive name clash, or None."""
    params = parse_qs(body.decode("utf-8", errors="replace") or query_string, keep_blank_values=True)
    names = params.get("RoleName")
    if not names:
        return None
    wanted = names[0]
    from moto.iam.models import iam_backends

    for partition in iam_backends[account]:
        for role in list(iam_backends[account][partition].roles.values()):
            if role.name != wanted and role.name.lower() == wanted.lower():
                return protocols.error_response(
                    "iam", 409, "EntityAlreadyExists", f"Role with name {role.name} already exists."
                )
    return None
