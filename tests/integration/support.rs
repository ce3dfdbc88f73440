//! Shared test helpers: a strict wiremock server and a client pointed at it.

use std::time::Duration;

use claude_agents::api::{Client, ClientBuilder, RetryPolicy};
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, ResponseTemplate};

pub const KEY: &str = "sk-ant-test-0123456789abcdef";

/// A mock server with a catch-all that fails the test (on drop) if any request matches no
/// other mock.
pub async fn strict_server() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(599).set_body_string("unexpected request"))
        .with_priority(u8::MAX)
        .expect(0)
        .named("catch-all: no unexpected requests")
        .mount(&server)
        .await;
    server
}

/// Fast retries so tests do not wait in real time.
pub fn fast_retry() -> RetryPolicy {
    RetryPolicy {
        initial_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(4),
        ..RetryPolicy::default()
    }
}

pub fn builder(base: &str) -> ClientBuilder {
    Client::builder()
        .api_key(KEY.to_string())
        .base_url(base)
        .retry_policy(fast_retry())
        .timeout(Duration::from_secs(10))
}

pub fn client(server: &MockServer) -> Client {
    builder(&server.uri()).build().unwrap()
}
