//! A moto server for one test: started on a free loopback port from the `.venv` that
//! `scripts/tools` creates, killed when dropped. Only 127.0.0.1 is ever contacted.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The account moto answers for any credentials it did not issue itself (STS
/// `GetCallerIdentity` says so): the account of the tests' assemblies.
pub const ACCOUNT: &str = "123456789012";

/// A running moto server.
pub struct Moto {
    child: Child,
    /// Its port on 127.0.0.1.
    pub port: u16,
}

impl Moto {
    /// Starts `.venv/bin/moto_server` and waits (at most 60 s) until it answers.
    ///
    /// # Panics
    /// When the binary is missing (run `scripts/tools`) or the server does not come up.
    pub fn start() -> Moto {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
        let bin = root.join(".venv/bin/moto_server");
        assert!(
            bin.exists(),
            "{} is missing: run scripts/tools to create the .venv with the moto server",
            bin.display()
        );
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port on 127.0.0.1");
        let child = Command::new(&bin)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("moto_server starts");
        let moto = Moto { child, port };
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if moto.raw("GET", "/moto-api/", "", "").is_some() {
                return moto;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        panic!("moto_server did not answer on 127.0.0.1:{port} within 60 s");
    }

    /// The endpoint URL.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn raw(&self, method: &str, path: &str, service: &str, body: &str) -> Option<(u16, String)> {
        self.raw_as(method, path, service, body, "")
    }

    /// A request as another account (moto's `x-moto-account-id` header) when `account` is set.
    fn raw_as(
        &self,
        method: &str,
        path: &str,
        service: &str,
        body: &str,
        account: &str,
    ) -> Option<(u16, String)> {
        // REST-XML services (Route 53) route a request only when its body says what it is: XML,
        // or nothing at all for a GET.
        let mut headers = if body.is_empty() && method == "GET" {
            String::new()
        } else if body.starts_with('<') {
            "Content-Type: text/xml\r\n".to_owned()
        } else {
            "Content-Type: application/x-www-form-urlencoded\r\n".to_owned()
        };
        if !account.is_empty() {
            headers.push_str(&format!("x-moto-account-id: {account}\r\n"));
        }
        self.send(method, path, service, &headers, body)
    }

    fn send(
        &self,
        method: &str,
        path: &str,
        service: &str,
        headers: &str,
        body: &str,
    ) -> Option<(u16, String)> {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).ok()?;
        s.set_read_timeout(Some(Duration::from_secs(30))).ok()?;
        // moto routes by the service of the credential scope; it does not check signatures.
        let auth = format!(
            "AWS4-HMAC-SHA256 Credential=testing/20240101/us-east-1/{service}/aws4_request, SignedHeaders=host, Signature=0"
        );
        let req = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nAuthorization: {auth}\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            self.port,
            body.len(),
        );
        s.write_all(req.as_bytes()).ok()?;
        let mut buf = Vec::new();
        s.read_to_end(&mut buf).ok()?;
        let text = String::from_utf8_lossy(&buf).into_owned();
        let status = text.split_whitespace().nth(1)?.parse().ok()?;
        Some((status, text))
    }

    /// A REST call (Route 53, S3) to moto: status and response text.
    pub fn rest(&self, method: &str, path: &str, service: &str, body: &str) -> (u16, String) {
        self.raw(method, path, service, body)
            .unwrap_or_else(|| panic!("moto did not answer {method} {path}"))
    }

    /// An AWS Query API call (EC2, IAM) read back from moto: status and response text.
    pub fn query(&self, service: &str, form: &str) -> (u16, String) {
        self.raw("POST", "/", service, form)
            .unwrap_or((0, String::new()))
    }

    /// An AWS JSON-protocol call (ECR, ...): `target` is the `X-Amz-Target` header.
    pub fn json(&self, service: &str, target: &str, body: &str) -> (u16, String) {
        let headers =
            format!("Content-Type: application/x-amz-json-1.1\r\nX-Amz-Target: {target}\r\n");
        self.send("POST", "/", service, &headers, body)
            .unwrap_or((0, String::new()))
    }

    /// An S3 path-style GET.
    pub fn s3_get(&self, path: &str) -> (u16, String) {
        self.raw("GET", path, "s3", "")
            .unwrap_or((0, String::new()))
    }
}

impl Moto {
    /// Credentials of another account, as moto issues them: `AssumeRole` into a role of
    /// `account` returns keys that moto attributes to that account. `(key id, secret, token)`.
    pub fn credentials_of(&self, account: &str) -> (String, String, String) {
        let form = format!(
            "Action=AssumeRole&Version=2011-06-15&RoleArn=arn:aws:iam::{account}:role/deployer&RoleSessionName=pantri-test"
        );
        let (status, text) = self.query("sts", &form);
        assert_eq!(status, 200, "AssumeRole on moto: {text}");
        let field = |tag: &str| {
            text.split(&format!("<{tag}>"))
                .nth(1)
                .and_then(|s| s.split(&format!("</{tag}>")).next())
                .unwrap_or_default()
                .to_owned()
        };
        (
            field("AccessKeyId"),
            field("SecretAccessKey"),
            field("SessionToken"),
        )
    }

    /// An S3 path-style PUT (a bucket, or an object with `body`) made by another account.
    pub fn s3_put_as(&self, account: &str, path: &str, body: &str) -> (u16, String) {
        self.raw_as("PUT", path, "s3", body, account)
            .unwrap_or((0, String::new()))
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
