//! The Cognito user pool, its web client, the identity pool and its two roles.

use anyhow::{Context, Result};
use aws_config::SdkConfig;
use aws_sdk_cognitoidentity::types::CognitoIdentityProvider;
use aws_sdk_cognitoidentityprovider::types::{ExplicitAuthFlowsType, UsernameAttributeType, VerifiedAttributeType};

use crate::provision::{IDENTITY_POOL, USER_POOL, USER_POOL_CLIENT};

/// Returns (user pool id, app client id, identity pool id).
pub async fn provision(sdk: &SdkConfig, region: &str) -> Result<(String, String, String)> {
    let idp = aws_sdk_cognitoidentityprovider::Client::new(sdk);
    let identity = aws_sdk_cognitoidentity::Client::new(sdk);
    let iam = aws_sdk_iam::Client::new(sdk);

    let pools = idp.list_user_pools().max_results(60).send().await.context("ListUserPools")?;
    let user_pool_id = match pools.user_pools().iter().find(|p| p.name() == Some(USER_POOL)).and_then(|p| p.id()) {
        Some(id) => id.to_owned(),
        None => idp
            .create_user_pool()
            .pool_name(USER_POOL)
            .username_attributes(UsernameAttributeType::Email)
            .auto_verified_attributes(VerifiedAttributeType::Email)
            .send()
            .await
            .context("CreateUserPool")?
            .user_pool
            .and_then(|p| p.id)
            .context("no user pool id")?,
    };

    let clients = idp.list_user_pool_clients().user_pool_id(&user_pool_id).max_results(60).send().await.context("ListUserPoolClients")?;
    let client_id = match clients.user_pool_clients().iter().find(|c| c.client_name() == Some(USER_POOL_CLIENT)).and_then(|c| c.client_id()) {
        Some(id) => id.to_owned(),
        None => idp
            .create_user_pool_client()
            .user_pool_id(&user_pool_id)
            .client_name(USER_POOL_CLIENT)
            .generate_secret(false)
            .explicit_auth_flows(ExplicitAuthFlowsType::AllowUserPasswordAuth)
            .explicit_auth_flows(ExplicitAuthFlowsType::AllowUserSrpAuth)
            .explicit_auth_flows(ExplicitAuthFlowsType::AllowRefreshTokenAuth)
            .send()
            .await
            .context("CreateUserPoolClient")?
            .user_pool_client
            .and_then(|c| c.client_id)
            .context("no client id")?,
    };

    let provider_name = format!("cognito-idp.{region}.amazonaws.com/{user_pool_id}");
    let identity_pools = identity.list_identity_pools().max_results(60).send().await.context("ListIdentityPools")?;
    let identity_pool_id = match identity_pools
        .identity_pools()
        .iter()
        .find(|p| p.identity_pool_name() == Some(IDENTITY_POOL))
        .and_then(|p| p.identity_pool_id())
    {
        Some(id) => id.to_owned(),
        None => identity
            .create_identity_pool()
            .identity_pool_name(IDENTITY_POOL)
            .allow_unauthenticated_identities(true)
            .cognito_identity_providers(
                CognitoIdentityProvider::builder().provider_name(&provider_name).client_id(&client_id).build(),
            )
            .send()
            .await
            .context("CreateIdentityPool")?
            .identity_pool_id,
    };

    let authenticated = role(&iam, "media-authenticated", &identity_pool_id, "authenticated").await?;
    let unauthenticated = role(&iam, "media-unauthenticated", &identity_pool_id, "unauthenticated").await?;
    identity
        .set_identity_pool_roles()
        .identity_pool_id(&identity_pool_id)
        .roles("authenticated", authenticated)
        .roles("unauthenticated", unauthenticated)
        .send()
        .await
        .context("SetIdentityPoolRoles")?;
    Ok((user_pool_id, client_id, identity_pool_id))
}

/// The emulator does not enforce IAM; the roles exist so the identity pool is wired as in
/// the cloud. Their policies live in `infra/template.yaml`, where they are tested.
async fn role(iam: &aws_sdk_iam::Client, name: &str, identity_pool_id: &str, amr: &str) -> Result<String> {
    if let Ok(existing) = iam.get_role().role_name(name).send().await {
        if let Some(role) = existing.role {
            return Ok(role.arn);
        }
    }
    let trust = serde_json::json!({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Federated": "cognito-identity.amazonaws.com"},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {"cognito-identity.amazonaws.com:aud": identity_pool_id},
                      "ForAnyValue:StringLike": {"cognito-identity.amazonaws.com:amr": amr}}}]});
    let created = iam
        .create_role()
        .role_name(name)
        .assume_role_policy_document(trust.to_string())
        .send()
        .await
        .context("CreateRole")?;
    Ok(created.role.map(|r| r.arn).context("no role ARN")?)
}
