//! migrate-user deployed from the template, called through `devstack invoke` with the trigger
//! events Cognito sends (the emulator does not fire user-migration triggers: measured, no
//! support), against a legacy users table in the emulator filled as the book's `createUser`
//! does.

use anyhow::Result;
use aws_sdk_dynamodb::types::{AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType};
use e2e_tests::Stack;
use serde_json::json;

fn event(trigger: &str, user: &str, password: Option<&str>) -> serde_json::Value {
    json!({
        "version": "1", "triggerSource": trigger, "region": "us-east-1", "userPoolId": "us-east-1_AbCdEfGhI",
        "userName": user,
        "callerContext": {"awsSdkVersion": "aws-sdk-js-3.0.0", "clientId": "1example23456789abcdefghij"},
        "request": {"password": password, "validationData": null, "clientMetadata": null},
        "response": {"userAttributes": null, "forceAliasCreation": null, "enableSMSMFA": null,
                     "finalUserStatus": null, "messageAction": null, "desiredDeliveryMediums": null}
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn the_books_users_sign_in_once_with_their_old_password() -> Result<()> {
    let stack = Stack::start().await?;
    let table = "SampleAuthUsers";
    stack
        .dynamodb
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(AttributeDefinition::builder().attribute_name("email").attribute_type(ScalarAttributeType::S).build()?)
        .key_schema(KeySchemaElement::builder().attribute_name("email").key_type(KeyType::Hash).build()?)
        .send()
        .await?;
    // As the book's createUser writes a user: a random salt's base64 text, the key in base64.
    let salt = "c2FsdHNhbHRzYWx0c2FsdA==";
    for (email, verified) in [("ann@example.com", true), ("bob@example.com", false)] {
        stack
            .dynamodb
            .put_item()
            .table_name(table)
            .item("email", AttributeValue::S(email.into()))
            .item("passwordHash", AttributeValue::S(migrate_user::password::hash_like_the_book("old secret", salt)))
            .item("passwordSalt", AttributeValue::S(salt.into()))
            .item("verified", AttributeValue::Bool(verified))
            .send()
            .await?;
    }
    let env = [("LEGACY_USERS_TABLE_NAME", table)];

    let migrated = stack.invoke("migrate-user", &event("UserMigration_Authentication", "ann@example.com", Some("old secret")), &env).await?;
    assert_eq!(migrated["response"]["finalUserStatus"], "CONFIRMED", "{migrated}");
    assert_eq!(migrated["response"]["messageAction"], "SUPPRESS");
    assert_eq!(migrated["response"]["userAttributes"]["email"], "ann@example.com");
    assert_eq!(migrated["response"]["userAttributes"]["email_verified"], "true");

    for (user, password) in [("ann@example.com", "wrong"), ("bob@example.com", "old secret"), ("nobody@example.com", "old secret")] {
        let refused = stack.invoke("migrate-user", &event("UserMigration_Authentication", user, Some(password)), &env).await;
        let message = refused.expect_err("refused").to_string();
        assert!(message.contains("Incorrect username or password."), "{user}: {message}");
    }

    let reset = stack.invoke("migrate-user", &event("UserMigration_ForgotPassword", "ann@example.com", None), &env).await?;
    assert_eq!(reset["response"]["messageAction"], "SUPPRESS", "{reset}");
    assert_eq!(reset["response"]["userAttributes"]["email"], "ann@example.com");
    Ok(())
}
