//! Policy equivalence.

use super::*;

#[test]
fn policy_equivalences_of_awspolicyequivalence() {
    let statement = |extra: Value| {
        let mut base = json!({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"});
        if let (Value::Object(base), Value::Object(extra)) = (&mut base, extra) {
            base.extend(extra);
        }
        base
    };
    let doc = |statements: Value| json!({"Version": "2012-10-17", "Statement": statements});
    let check = |name: &str, a: Value, b: Value, expect: bool| {
        assert_eq!(equivalent(&a, &b), expect, "{name}\n{a}\n{b}");
        assert_eq!(equivalent(&b, &a), expect, "{name} (reversed)");
    };
    check(
        "key order and whitespace",
        serde_json::from_str(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"a:b","Resource":"*"}]}"#)
            .expect("json"),
        serde_json::from_str(
            r#"{ "Statement" : [ { "Resource" : "*", "Action" : "a:b", "Effect" : "Allow" } ], "Version" : "2012-10-17" }"#,
        )
        .expect("json"),
        true,
    );
    check(
        "statement order",
        doc(json!([statement(json!({"Sid": "A"})), statement(json!({"Sid": "B"}))])),
        doc(json!([statement(json!({"Sid": "B"})), statement(json!({"Sid": "A"}))])),
        true,
    );
    check(
        "statement order with differently ordered keys",
        serde_json::from_str(
            r#"{"Statement": [{"Effect": "Allow", "Action": "a:x"}, {"Action": "a:y", "Effect": "Deny"}]}"#,
        )
        .expect("json"),
        serde_json::from_str(
            r#"{"Statement": [{"Effect": "Deny", "Action": "a:y"}, {"Action": "a:x", "Effect": "Allow"}]}"#,
        )
        .expect("json"),
        true,
    );
    check(
        "statement object versus list",
        json!({"Version": "2012-10-17", "Statement": statement(json!({}))}),
        doc(json!([statement(json!({}))])),
        true,
    );
    check(
        "string versus one-element list",
        doc(json!([statement(json!({}))])),
        doc(json!([{"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": ["arn:aws:s3:::b/*"]}])),
        true,
    );
    check(
        "action order",
        doc(json!([statement(json!({"Action": ["s3:GetObject", "s3:PutObject"]}))])),
        doc(json!([statement(json!({"Action": ["s3:PutObject", "s3:GetObject"]}))])),
        true,
    );
    check(
        "not-action and not-resource order",
        doc(json!([{"Effect": "Deny", "NotAction": ["b:b", "a:a"], "NotResource": ["y", "x"]}])),
        doc(json!([{"Effect": "Deny", "NotAction": ["a:a", "b:b"], "NotResource": ["x", "y"]}])),
        true,
    );
    check(
        "effect case",
        doc(json!([statement(json!({"Effect": "allow"}))])),
        doc(json!([statement(json!({}))])),
        true,
    );
    check(
        "account ID versus root ARN",
        doc(json!([statement(json!({"Principal": {"AWS": "222222222222"}}))])),
        doc(json!([statement(
            json!({"Principal": {"AWS": ["arn:aws:iam::222222222222:root"]}})
        )])),
        true,
    );
    check(
        "principal order and service as string",
        doc(json!([statement(
            json!({"Principal": {"AWS": ["arn:aws:iam::1:role/b", "arn:aws:iam::1:role/a"], "Service": "emr-serverless.amazonaws.com"}})
        )])),
        doc(json!([statement(
            json!({"Principal": {"Service": ["emr-serverless.amazonaws.com"], "AWS": ["arn:aws:iam::1:role/a", "arn:aws:iam::1:role/b"]}})
        )])),
        true,
    );
    check(
        "star principal",
        doc(json!([statement(json!({"Principal": "*"}))])),
        doc(json!([statement(json!({"Principal": {"AWS": "*"}}))])),
        true,
    );
    check(
        "condition with several operators and value order",
        doc(json!([statement(json!({"Condition": {
            "StringEquals": {"aws:SourceAccount": "111111111111", "aws:PrincipalTag/team": ["b", "a"]},
            "ArnLike": {"aws:SourceArn": ["arn:x/*", "arn:x"]}
        }}))])),
        doc(json!([statement(json!({"Condition": {
            "ArnLike": {"aws:SourceArn": ["arn:x", "arn:x/*"]},
            "StringEquals": {"aws:PrincipalTag/team": ["a", "b"], "aws:SourceAccount": ["111111111111"]}
        }}))])),
        true,
    );
    check(
        "condition booleans and numbers versus their strings",
        doc(json!([statement(
            json!({"Condition": {"Bool": {"aws:SecureTransport": false}, "NumericLessThan": {"s3:max-keys": 10}}})
        )])),
        doc(json!([statement(
            json!({"Condition": {"Bool": {"aws:SecureTransport": "false"}, "NumericLessThan": {"s3:max-keys": ["10"]}}})
        )])),
        true,
    );

    // What AWS treats as significant.
    check(
        "sid",
        doc(json!([statement(json!({"Sid": "A"}))])),
        doc(json!([statement(json!({"Sid": "B"}))])),
        false,
    );
    check(
        "missing sid",
        doc(json!([statement(json!({"Sid": "A"}))])),
        doc(json!([statement(json!({}))])),
        false,
    );
    check(
        "version",
        json!({"Version": "2012-10-17", "Statement": [statement(json!({}))]}),
        json!({"Version": "2008-10-17", "Statement": [statement(json!({}))]}),
        false,
    );
    check(
        "missing version",
        json!({"Version": "2012-10-17", "Statement": [statement(json!({}))]}),
        json!({"Statement": [statement(json!({}))]}),
        false,
    );
    check(
        "id",
        json!({"Id": "a", "Statement": [statement(json!({}))]}),
        json!({"Id": "b", "Statement": [statement(json!({}))]}),
        false,
    );
    check(
        "action case",
        doc(json!([statement(json!({}))])),
        doc(json!([statement(json!({"Action": "s3:getobject"}))])),
        false,
    );
    check(
        "different resource",
        doc(json!([statement(json!({}))])),
        doc(json!([statement(json!({"Resource": "arn:aws:s3:::c/*"}))])),
        false,
    );
    check(
        "effect",
        doc(json!([statement(json!({}))])),
        doc(json!([statement(json!({"Effect": "Deny"}))])),
        false,
    );
    check(
        "condition value",
        doc(json!([statement(
            json!({"Condition": {"StringEquals": {"aws:SourceAccount": "1"}}})
        )])),
        doc(json!([statement(
            json!({"Condition": {"StringEquals": {"aws:SourceAccount": "2"}}})
        )])),
        false,
    );
    check(
        "condition operator",
        doc(json!([statement(json!({"Condition": {"StringEquals": {"k": "v"}}}))])),
        doc(json!([statement(json!({"Condition": {"StringLike": {"k": "v"}}}))])),
        false,
    );
    check(
        "principal kind",
        doc(json!([statement(
            json!({"Principal": {"AWS": "arn:aws:iam::1:role/a"}})
        )])),
        doc(json!([statement(
            json!({"Principal": {"Federated": "arn:aws:iam::1:role/a"}})
        )])),
        false,
    );
    check(
        "an extra statement",
        doc(json!([statement(json!({}))])),
        doc(json!([statement(json!({})), statement(json!({"Sid": "B"}))])),
        false,
    );
    check(
        "action versus not-action",
        doc(json!([{"Effect": "Allow", "Action": "a:b"}])),
        doc(json!([{"Effect": "Allow", "NotAction": "a:b"}])),
        false,
    );
}

#[test]
fn canonical_policy_is_stable_and_itself_a_policy() {
    let a: Value = serde_json::from_str(
        r#"{"Statement": [{"Effect": "Allow", "Action": "a:x"}, {"Action": "a:y", "Effect": "Deny"}], "Version": "2012-10-17"}"#,
    )
    .expect("json");
    let b: Value = serde_json::from_str(
        r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": ["a:y"]}, {"Action": "a:x", "Effect": "Allow"}]}"#,
    )
    .expect("json");
    let canonical_a = crate::diff::policy::canonical(&a);
    assert_eq!(canonical_a.to_string(), crate::diff::policy::canonical(&b).to_string());
    assert_eq!(crate::diff::policy::canonical(&canonical_a), canonical_a);
    assert!(equivalent(&canonical_a, &a));
}
