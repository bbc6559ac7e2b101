"""IAM role names are unique regardless of case (emulator/iam_names.py)."""

from __future__ import annotations

import pytest
from conftest import TRUST_EMR, error_of


def test_a_role_name_differing_only_in_case_is_refused_like_iam(aws, account):
    iam = aws("iam")
    iam.create_role(RoleName="OWN2-ETL", AssumeRolePolicyDocument=TRUST_EMR)
    with pytest.raises(iam.exceptions.EntityAlreadyExistsException) as excinfo:
        iam.create_role(RoleName="own2-etl", AssumeRolePolicyDocument=TRUST_EMR)
    status, code, message = error_of(excinfo)
    assert (status, code) == (409, "EntityAlreadyExists")
    assert "OWN2-ETL" in message
    names = [role["RoleName"] for role in iam.list_roles()["Roles"]]
    assert names == ["OWN2-ETL"]


def test_the_same_name_is_still_refused_by_moto_and_other_names_pass(aws):
    iam = aws("iam")
    iam.create_role(RoleName="etl", AssumeRolePolicyDocument=TRUST_EMR)
    with pytest.raises(iam.exceptions.EntityAlreadyExistsException):
        iam.create_role(RoleName="etl", AssumeRolePolicyDocument=TRUST_EMR)
    iam.create_role(RoleName="etl-2", AssumeRolePolicyDocument=TRUST_EMR)


def test_names_in_other_accounts_do_not_clash(aws, account):
    from conftest import new_account

    aws("iam").create_role(RoleName="Shared", AssumeRolePolicyDocument=TRUST_EMR)
    aws("iam", account_id=new_account()).create_role(RoleName="shared", AssumeRolePolicyDocument=TRUST_EMR)
