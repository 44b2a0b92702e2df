//! The terminal over a bad link, in a real browser behind a throttling TCP proxy (150 ms each
//! way, 256 kbit/s down and 64 kbit/s up) that the test can stall, as a train tunnel does
//! (the DevTools offline switch does not touch an open WebSocket, a stalled TCP link does):
//! a 20-second stall is shown within 5 seconds, keys typed during it are held and shown, not
//! lost, and the terminal is back within 2 seconds of the link returning.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::support::{TestApp, eventually};
use crate::webdriver::Browser;

/// One way's delay.
const DELAY: Duration = Duration::from_millis(150);
const DOWN_BYTES_PER_SEC: usize = 256 * 1024 / 8;
const UP_BYTES_PER_SEC: usize = 64 * 1024 / 8;

/// A TCP proxy in front of the server: slow, and stalled while `stalled` is set.
struct Proxy {
    addr: SocketAddr,
    stalled: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<()>,
}

impl Proxy {
    async fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let stalled = Arc::new(AtomicBool::new(false));
        let flag = stalled.clone();
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let Ok(server) = TcpStream::connect(upstream).await else {
                    continue;
                };
                let (client_read, client_write) = client.into_split();
                let (server_read, server_write) = server.into_split();
                tokio::spawn(pipe(
                    client_read,
                    server_write,
                    flag.clone(),
                    UP_BYTES_PER_SEC,
                ));
                tokio::spawn(pipe(
                    server_read,
                    client_write,
                    flag.clone(),
                    DOWN_BYTES_PER_SEC,
                ));
            }
        });
        Self {
            addr,
            stalled,
            task,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn stall(&self, on: bool) {
        self.stalled.store(on, Ordering::SeqCst);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Copies one way, late by [`DELAY`] plus the time `rate` bytes per second take, and not at
/// all while stalled (nothing is lost: the bytes wait, as on a real stalled link).
async fn pipe(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    stalled: Arc<AtomicBool>,
    rate: usize,
) {
    let mut buffer = vec![0u8; 4096];
    loop {
        let n = match from.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        while stalled.load(Ordering::SeqCst) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        tokio::time::sleep(DELAY + Duration::from_secs_f64(n as f64 / rate as f64)).await;
        if to.write_all(&buffer[..n]).await.is_err() {
            return;
        }
    }
}

#[tokio::test]
async fn a_stalled_link_is_shown_keys_are_held_and_the_terminal_comes_back() {
    let app = TestApp::spawn().await;
    let proxy = Proxy::start(app.addr).await;
    let browser = Browser::launch().await;
    browser.goto(&proxy.url("/practice")).await;
    browser.click("#start").await;
    eventually("the prompt appears over the slow link", || async {
        browser.terminal_text().await.contains("learner@lab")
    })
    .await;
    browser.type_into_terminal("echo before-$((2*3))\n").await;
    eventually("the shell answers", || async {
        browser.terminal_text().await.contains("before-6")
    })
    .await;

    // The link stalls: the page says so within 5 seconds.
    proxy.stall(true);
    let stalled_at = Instant::now();
    let deadline = stalled_at + Duration::from_secs(5);
    while !browser
        .text("#status")
        .await
        .contains("No answer from the server")
    {
        assert!(
            Instant::now() < deadline,
            "the stall was not shown within 5 s: {:?}",
            browser.text("#status").await
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    browser.screenshot("link-stalled.png").await;

    // Keys typed now are held, and the terminal says so.
    browser.type_into_terminal("echo held-$((5*5))\n").await;
    let banner = browser.text(".link-banner").await;
    assert!(banner.contains("held"), "{banner:?}");
    assert!(banner.contains("Retry now"), "{banner:?}");

    // Twenty seconds later the link is back: so is the terminal, within 2 seconds, and the
    // held keys ran.
    tokio::time::sleep(Duration::from_secs(20).saturating_sub(stalled_at.elapsed())).await;
    proxy.stall(false);
    let back_at = Instant::now();
    let deadline = back_at + Duration::from_secs(2);
    while !(browser.text("#status").await.contains("Connected")
        && browser.terminal_text().await.contains("held-25"))
    {
        assert!(
            Instant::now() < deadline,
            "not back within 2 s of the link: {:?} {:?}",
            browser.text("#status").await,
            browser.terminal_text().await
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        browser
            .eval("return document.querySelector('.link-banner').hidden;")
            .await,
        true,
        "the banner stays after the link is back"
    );
    browser.quit().await;
    app.cleanup().await;
}
