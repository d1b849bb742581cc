//! The Lambda entry point: Cognito's user-migration event in, the event with its response out.
//!
//! The event arrives as JSON and is typed in the library ([`migrate_user::parse_event`]), not
//! by the runtime: the runtime's own parse error would quote whatever value it could not read,
//! the password included.

use lambda_runtime::{service_fn, Diagnostic, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    media_core::telemetry::init();
    let function = std::sync::Arc::new(migrate_user::from_env().await?);
    media_core::telemetry::init_done();
    lambda_runtime::run(service_fn(|event: LambdaEvent<serde_json::Value>| {
        let function = function.clone();
        async move {
            function
                .handle_json(event.payload)
                .await
                .map_err(|err| Diagnostic {
                    error_type: err.error_type().to_owned(),
                    error_message: err.to_string(),
                })
        }
    }))
    .await
}
