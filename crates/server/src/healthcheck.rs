//! `makerpulse healthcheck`: asks a server on this host whether it is ready (`GET /readyz`) and
//! exits 0 only when it says so. Made for container health checks, which run it inside the
//! container: the slim image has no curl, and a shell's `/dev/tcp` is bash's, not dash's.
//!
//! It speaks just enough HTTP/1.1 by hand (one request, `Connection: close`, the status line),
//! so the binary needs no HTTP client for it.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use anyhow::{bail, Context};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Where to ask: the bind address, with an unspecified one (`0.0.0.0`, `[::]`: every interface)
/// reached on loopback.
pub fn target(bind: SocketAddr) -> SocketAddr {
    match bind.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => (Ipv4Addr::LOCALHOST, bind.port()).into(),
        IpAddr::V6(ip) if ip.is_unspecified() => (Ipv6Addr::LOCALHOST, bind.port()).into(),
        _ => bind,
    }
}

/// Asks `addr` for `/readyz` within `timeout`: `Ok` when it answers 200, an error saying what it
/// answered (or why it could not be asked) otherwise.
pub async fn check(addr: SocketAddr, timeout: Duration) -> anyhow::Result<()> {
    let status = tokio::time::timeout(timeout, readyz(addr))
        .await
        .with_context(|| format!("{addr} did not answer within {timeout:?}"))??;
    if status.starts_with("HTTP/1.1 200") || status.starts_with("HTTP/1.0 200") {
        Ok(())
    } else {
        bail!("{addr} is not ready: {status}")
    }
}

async fn readyz(addr: SocketAddr) -> anyhow::Result<String> {
    let mut stream = TcpStream::connect(addr)
        .await
        .with_context(|| format!("connecting to {addr}"))?;
    stream
        .write_all(
            format!("GET /readyz HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes(),
        )
        .await?;
    // The status line is all that is needed, and /readyz's whole answer is small.
    let mut answer = Vec::with_capacity(512);
    let mut buf = [0u8; 512];
    while !answer.contains(&b'\n') && answer.len() < 4096 {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        answer.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&answer);
    let line = text.lines().next().unwrap_or_default().trim().to_owned();
    if line.is_empty() {
        bail!("{addr} closed the connection without an answer");
    }
    Ok(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_interface_is_asked_on_loopback() {
        let t = |s: &str| target(s.parse().unwrap()).to_string();
        assert_eq!(t("0.0.0.0:8080"), "127.0.0.1:8080");
        assert_eq!(t("[::]:8080"), "[::1]:8080");
        assert_eq!(t("10.0.0.7:80"), "10.0.0.7:80");
    }
}
