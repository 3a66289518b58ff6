//! A slow CloudFormation, made from moto: an HTTP proxy on 127.0.0.1 that forwards every request
//! to the moto server until one names a trigger action (`ExecuteChangeSet`, `DeleteStack`), and
//! from then on holds every request unanswered, as a stack that takes long to deploy would keep
//! pantri waiting. moto applies a change set inside ExecuteChangeSet, so without this there is
//! no "mid-deploy" moment to press Ctrl-C in.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// A running proxy (its threads end with the test process).
pub struct HoldingProxy {
    /// Its port on 127.0.0.1.
    pub port: u16,
    holding: Arc<AtomicBool>,
}

/// How long a held request waits before its connection is dropped.
const HOLD: Duration = Duration::from_secs(120);

impl HoldingProxy {
    /// Starts a proxy to `127.0.0.1:upstream` that starts holding after a request whose body or
    /// headers contain one of `triggers`.
    ///
    /// # Panics
    /// When no loopback port is free.
    pub fn start(upstream: u16, triggers: &'static [&'static str]) -> HoldingProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a free port on 127.0.0.1");
        let port = listener.local_addr().map(|a| a.port()).unwrap_or_default();
        let holding = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&holding);
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let flag = Arc::clone(&flag);
                std::thread::spawn(move || serve(conn, upstream, triggers, &flag));
            }
        });
        HoldingProxy { port, holding }
    }

    /// The endpoint URL.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Whether a trigger went through (requests are being held).
    pub fn is_holding(&self) -> bool {
        self.holding.load(Ordering::SeqCst)
    }
}

/// Serves one client connection, one request at a time (the SDK keeps connections alive).
fn serve(conn: TcpStream, upstream: u16, triggers: &[&str], holding: &AtomicBool) {
    let Ok(mut writer) = conn.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(conn);
    while let Some(request) = read_request(&mut reader) {
        if holding.load(Ordering::SeqCst) {
            std::thread::sleep(HOLD);
            return;
        }
        let text = String::from_utf8_lossy(&request);
        let triggered = triggers.iter().any(|t| text.contains(t));
        let Some(response) = forward(&request, upstream) else {
            return;
        };
        if writer.write_all(&response).is_err() {
            return;
        }
        if triggered {
            holding.store(true, Ordering::SeqCst);
        }
    }
}

/// Reads one request (headers and a Content-Length body); `None` at the end of the connection.
fn read_request(reader: &mut BufReader<TcpStream>) -> Option<Vec<u8>> {
    let mut head = Vec::new();
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().ok()?;
            }
            // The upstream connection is one request long; say so instead of keep-alive.
            if name.eq_ignore_ascii_case("connection") {
                continue;
            }
        }
        if line == "\r\n" {
            head.extend_from_slice(b"Connection: close\r\n\r\n");
            break;
        }
        head.extend_from_slice(line.as_bytes());
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    head.extend_from_slice(&body);
    Some(head)
}

/// Sends one request to moto and returns its whole response (moto closes after it).
fn forward(request: &[u8], upstream: u16) -> Option<Vec<u8>> {
    let mut up = TcpStream::connect(("127.0.0.1", upstream)).ok()?;
    up.set_read_timeout(Some(Duration::from_secs(60))).ok()?;
    up.write_all(request).ok()?;
    let mut response = Vec::new();
    up.read_to_end(&mut response).ok()?;
    Some(response)
}
