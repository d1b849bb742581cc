//! migrate-user deployed from the template, called through `devstack invoke` with the trigger
//! events Cognito sends (the emulator does not fire user-migration triggers: measured, no
//! support), against a legacy users table in the emulator filled as the book's `createUser`
//! does.

use anyhow::Result;
use e2e_tests::{legacy_users_table, user_migration_event, Stack};

#[tokio::test(flavor = "multi_thread")]
async fn the_books_users_sign_in_once_with_their_old_password() -> Result<()> {
    // Deployed with the template's parameter, so the function's variable and its role's grant
    // on the table come from the template, as on AWS.
    let table = "SampleAuthUsers";
    let stack = Stack::start_with_parameters(&[("LegacyUsersTableName", table)]).await?;
    legacy_users_table(
        &stack,
        table,
        "old secret",
        &[("ann@example.com", true), ("bob@example.com", false)],
    )
    .await?;
    let env = [];

    let migrated = stack
        .invoke(
            "migrate-user",
            &user_migration_event(
                "UserMigration_Authentication",
                "ann@example.com",
                Some("old secret"),
            ),
            &env,
        )
        .await?;
    assert_eq!(
        migrated["response"]["finalUserStatus"], "CONFIRMED",
        "{migrated}"
    );
    assert_eq!(migrated["response"]["messageAction"], "SUPPRESS");
    assert_eq!(
        migrated["response"]["userAttributes"]["email"],
        "ann@example.com"
    );
    assert_eq!(
        migrated["response"]["userAttributes"]["email_verified"],
        "true"
    );

    for (user, password) in [
        ("ann@example.com", "wrong"),
        ("bob@example.com", "old secret"),
        ("nobody@example.com", "old secret"),
    ] {
        let refused = stack
            .invoke(
                "migrate-user",
                &user_migration_event("UserMigration_Authentication", user, Some(password)),
                &env,
            )
            .await;
        let message = refused.expect_err("refused").to_string();
        assert!(
            message.contains("Incorrect username or password."),
            "{user}: {message}"
        );
    }

    let reset = stack
        .invoke(
            "migrate-user",
            &user_migration_event("UserMigration_ForgotPassword", "ann@example.com", None),
            &env,
        )
        .await?;
    assert_eq!(reset["response"]["messageAction"], "SUPPRESS", "{reset}");
    assert_eq!(
        reset["response"]["userAttributes"]["email"],
        "ann@example.com"
    );
    Ok(())
}
