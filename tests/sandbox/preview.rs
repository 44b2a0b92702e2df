//! Port preview: a learner opens a port of their own sandbox in the browser; nobody else can.

use crate::support::{TestApp, eventually};

#[tokio::test]
async fn the_owner_previews_nginx_in_their_sandbox_and_a_stranger_cannot() {
    let app = TestApp::spawn().await;
    let mut owner = app.client();
    let id = owner.create_session().await;
    eventually("nginx answers through the preview", || async {
        let response = owner.get(&format!("/preview/{id}/80/")).await;
        response.status() == 200
            && response
                .text()
                .await
                .unwrap_or_default()
                .contains("Welcome to nginx")
    })
    .await;
    let missing = owner.get(&format!("/preview/{id}/80/no-such-page")).await;
    assert_eq!(missing.status(), 404, "the learner's own 404 comes through");

    let silent = owner.get(&format!("/preview/{id}/8999/")).await;
    assert_eq!(silent.status(), 502);
    assert!(
        silent
            .text()
            .await
            .unwrap()
            .contains("Nothing in your sandbox answered on port 8999")
    );

    let mut stranger = app.client();
    stranger.create_session().await;
    let refused = stranger.get(&format!("/preview/{id}/80/")).await;
    assert_eq!(refused.status(), 404);
    assert!(!refused.text().await.unwrap().contains("nginx"));
    app.cleanup().await;
}

const UPGRADE_ECHO: &str = r#"import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 9001)); s.listen(1)
c, _ = s.accept(); data = b""
while b"\r\n\r\n" not in data: data += c.recv(1024)
c.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
while True:
    chunk = c.recv(1024)
    if not chunk: break
    c.sendall(chunk)
"#;

#[tokio::test]
async fn an_upgraded_connection_is_relayed_both_ways() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = TestApp::spawn().await;
    let (browser, id, mut terminal) = app.open_sandbox().await;
    terminal.write_file("/tmp/echo.py", UPGRADE_ECHO).await;
    terminal
        .run(
            "(python3 /tmp/echo.py >/dev/null 2>&1 &); sleep 0.5; echo echo-up-$((4+4))",
            "echo-up-8",
        )
        .await;

    let mut stream = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    let request = format!(
        "GET /preview/{id}/9001/ HTTP/1.1\r\nHost: {}\r\nCookie: {}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
        app.addr,
        browser.cookie.clone().unwrap()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut head = Vec::new();
    while !String::from_utf8_lossy(&head).contains("\r\n\r\n") {
        let mut byte = [0u8; 1];
        stream.read_exact(&mut byte).await.unwrap();
        head.push(byte[0]);
    }
    assert!(
        String::from_utf8_lossy(&head).starts_with("HTTP/1.1 101"),
        "{}",
        String::from_utf8_lossy(&head)
    );
    stream.write_all(b"hello through the relay").await.unwrap();
    let mut echoed = vec![0u8; 23];
    tokio::time::timeout(
        std::time::Duration::from_secs(10),
        stream.read_exact(&mut echoed),
    )
    .await
    .expect("the echo came back")
    .unwrap();
    assert_eq!(&echoed, b"hello through the relay");
    terminal.close().await;
    app.cleanup().await;
}
