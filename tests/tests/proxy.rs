//! End-to-end tests of a server behind a real nginx: the client's address is the one the
//! trusted proxy forwarded, so people behind the proxy get budgets of their own, and nobody
//! else can choose their address by sending `X-Forwarded-For`.

use std::net::IpAddr;

use makerpulse_e2e::{Nginx, TestServer};

/// An HTTP client whose connections come from `local` (any 127.0.0.0/8 address is this host).
fn client_from(local: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(local.parse::<IpAddr>().unwrap())
        .build()
        .unwrap()
}

/// Posts a command (an empty one: the rate is checked before anything else) and returns the
/// status.
async fn post(client: &reqwest::Client, base: &str, forwarded_for: Option<&str>) -> u16 {
    let mut req = client
        .post(format!("{base}/api/challenges/c/commands"))
        .header("content-type", "application/json")
        .body("{}");
    if let Some(xff) = forwarded_for {
        req = req.header("x-forwarded-for", xff);
    }
    req.send().await.expect("request").status().as_u16()
}

#[tokio::test]
async fn clients_behind_a_trusted_proxy_get_budgets_of_their_own() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_configured(dir.path(), |c| {
        c.settings.commands_per_ip = 1;
        c.settings.trusted_proxies = Nginx::SOURCE.parse().unwrap();
    })
    .await;
    let nginx = Nginx::start(server.addr).await;
    let (first, second) = (client_from("127.0.0.1"), client_from("127.0.0.2"));

    // 127.0.0.1 spends its burst of two through nginx.
    let mut statuses = Vec::new();
    for _ in 0..4 {
        statuses.push(post(&first, &nginx.http(), None).await);
    }
    assert_eq!(
        statuses[0], 400,
        "an empty command is malformed: {statuses:?}"
    );
    assert_eq!(statuses[3], 429, "the budget is spent: {statuses:?}");
    // Another address behind the same proxy still has its own.
    assert_eq!(post(&second, &nginx.http(), None).await, 400);
    // Claiming another address through the proxy changes nothing: nginx appends the real one.
    assert_eq!(post(&first, &nginx.http(), Some("198.51.100.7")).await, 429);
    // Nor does claiming one straight to the server: 127.0.0.1 is not a trusted proxy.
    assert_eq!(
        post(&first, &server.http(), Some("198.51.100.8")).await,
        429
    );
    drop(nginx);
    server.stop().await;
}

#[tokio::test]
async fn live_sockets_through_the_proxy_count_per_client() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_configured(dir.path(), |c| {
        c.settings.max_connections_per_ip = 1;
        c.settings.trusted_proxies = Nginx::SOURCE.parse().unwrap();
    })
    .await;
    server.seed("c").await;
    let nginx = Nginx::start(server.addr).await;
    let ws = format!("ws://127.0.0.1:{}", nginx.port);
    let connect = |local: &'static str| {
        let url = format!("{ws}/api/challenges/c/live");
        async move {
            let socket = tokio::net::TcpSocket::new_v4().unwrap();
            socket.bind(format!("{local}:0").parse().unwrap()).unwrap();
            let stream = socket.connect(nginx_addr(&url)).await.unwrap();
            tokio_tungstenite::client_async(url, stream).await
        }
    };
    // The upgrade passes through nginx, and the one slot of 127.0.0.1 is taken.
    let (_held, _) = connect("127.0.0.1").await.expect("a socket through nginx");
    match connect("127.0.0.1").await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status().as_u16(), 429)
        }
        other => panic!("expected a 429, got {:?}", other.map(|_| ())),
    }
    // 127.0.0.2 behind the same proxy has a slot of its own.
    let (_other, _) = connect("127.0.0.2").await.expect("another client's slot");
    drop(nginx);
    server.stop().await;
}

/// The socket address of a `ws://host:port/...` URL.
fn nginx_addr(url: &str) -> std::net::SocketAddr {
    let rest = url.strip_prefix("ws://").unwrap();
    rest[..rest.find('/').unwrap()].parse().unwrap()
}
