//! The HTTP half of a join with the snapshot over HTTP: the request a browser sends for it
//! (asking for compression), a plain HTTP/1.1 exchange on a connection the viewer goes on using
//! for its socket, and the decoding of what came back.

use std::io::Read;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::Context;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// What a browser asks for (Chrome and Firefox send these two among others).
pub const ACCEPT_ENCODING: &str = "gzip, br";

/// Response headers larger than this are not a snapshot's.
const HEAD_LIMIT: usize = 16 * 1024;

/// One snapshot as it came: the coding it was sent in (`None`: none) and its bytes on the wire.
pub struct Coded {
    /// `Content-Encoding`.
    pub coding: Option<String>,
    /// The body as sent.
    pub body: Vec<u8>,
}

impl Coded {
    /// The body decoded.
    pub fn decode(&self) -> anyhow::Result<Vec<u8>> {
        decode(self.coding.as_deref(), &self.body)
    }
}

/// The size of the last body decoded: the room the next one starts with (a join storm decodes
/// the same snapshot ten thousand times; growing the buffer on the way copies it twice more).
static LAST_DECODED: AtomicUsize = AtomicUsize::new(0);

/// `body` decoded from `coding` (`gzip`, `br`, or none).
pub fn decode(coding: Option<&str>, body: &[u8]) -> anyhow::Result<Vec<u8>> {
    let room = LAST_DECODED.load(Ordering::Relaxed).max(body.len() * 8);
    let mut out = Vec::with_capacity(room + 1);
    match coding {
        None | Some("identity") => return Ok(body.to_vec()),
        Some("gzip") => flate2::read::GzDecoder::new(body).read_to_end(&mut out),
        Some("br") => brotli::Decompressor::new(body, 16 * 1024).read_to_end(&mut out),
        Some(other) => anyhow::bail!("a coding that was not asked for: {other}"),
    }
    .with_context(|| format!("decoding {}", coding.unwrap_or_default()))?;
    LAST_DECODED.store(out.len(), Ordering::Relaxed);
    Ok(out)
}

/// `GET path` on `stream` (HTTP/1.1, kept alive) asking for compression; reads exactly the
/// response, so that the connection can carry the next request (the socket's upgrade).
pub async fn get_on(stream: &mut TcpStream, host: &str, path: &str) -> anyhow::Result<Coded> {
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nAccept-Encoding: {ACCEPT_ENCODING}\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await?;
    let mut buf = Vec::with_capacity(4096);
    let (status, head_len, length, coding) = loop {
        let mut chunk = [0u8; 4096];
        let n = stream.read(&mut chunk).await?;
        anyhow::ensure!(n > 0, "closed before the response's head");
        buf.extend_from_slice(&chunk[..n]);
        let mut headers = [httparse::EMPTY_HEADER; 32];
        let mut response = httparse::Response::new(&mut headers);
        if let httparse::Status::Complete(head_len) = response.parse(&buf)? {
            let value = |name: &str| {
                response
                    .headers
                    .iter()
                    .find(|h| h.name.eq_ignore_ascii_case(name))
                    .and_then(|h| std::str::from_utf8(h.value).ok())
                    .map(str::to_owned)
            };
            let length: usize = value("content-length")
                .context("a response without Content-Length")?
                .parse()?;
            break (
                response.code.unwrap_or(0),
                head_len,
                length,
                value("content-encoding"),
            );
        }
        anyhow::ensure!(
            buf.len() < HEAD_LIMIT,
            "a response head over {HEAD_LIMIT} bytes"
        );
    };
    let mut body = buf.split_off(head_len);
    anyhow::ensure!(body.len() <= length, "more bytes than the response holds");
    let had = body.len();
    body.resize(length, 0);
    stream.read_exact(&mut body[had..]).await?;
    anyhow::ensure!(
        status == 200,
        "GET {path}: {status} {}",
        String::from_utf8_lossy(&body)
    );
    Ok(Coded { coding, body })
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use tokio::io::AsyncBufReadExt;

    use super::*;

    const JSON: &[u8] = br#"{"seq":7,"teams":[{"id":"t1"},{"id":"t2"},{"id":"t3"}]}"#;

    #[test]
    fn both_codings_decode_to_the_bytes_compressed() {
        let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gzip.write_all(JSON).unwrap();
        let gzip = gzip.finish().unwrap();
        let mut br = Vec::new();
        brotli::BrotliCompress(&mut &JSON[..], &mut br, &Default::default()).unwrap();
        assert_eq!(decode(Some("gzip"), &gzip).unwrap(), JSON);
        assert_eq!(decode(Some("br"), &br).unwrap(), JSON);
        assert_eq!(decode(None, JSON).unwrap(), JSON);
        assert!(decode(Some("zstd"), JSON).is_err());
        assert!(decode(Some("gzip"), &br).is_err());
    }

    #[tokio::test]
    async fn a_response_is_read_to_its_end_and_no_further() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let (stream, _) = listener.accept().await.unwrap();
            let mut stream = tokio::io::BufReader::new(stream);
            let mut lines = Vec::new();
            for _ in 0..2 {
                // One request: its lines up to the blank one; then the answer, in two writes.
                loop {
                    let mut line = String::new();
                    stream.read_line(&mut line).await.unwrap();
                    if line == "\r\n" {
                        break;
                    }
                    lines.push(line);
                }
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-length: {}\r\ncontent-encoding: identity\r\n\r\n",
                    JSON.len()
                );
                stream.get_mut().write_all(head.as_bytes()).await.unwrap();
                stream.get_mut().write_all(JSON).await.unwrap();
            }
            lines
        });
        let mut stream = TcpStream::connect(addr).await.unwrap();
        for _ in 0..2 {
            let got = get_on(&mut stream, "h", "/s").await.unwrap();
            assert_eq!(got.coding.as_deref(), Some("identity"));
            assert_eq!(got.decode().unwrap(), JSON);
        }
        let lines = server.await.unwrap();
        assert_eq!(lines[0], "GET /s HTTP/1.1\r\n");
        assert!(lines.contains(&format!("Accept-Encoding: {ACCEPT_ENCODING}\r\n")));
    }
}
