//! Configuration: one typed struct from flags and the environment. Every flag can also be set by
//! its environment variable; secrets are never printed by `Debug`.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use makerpulse_core::{ChallengeId, TokenHash};

use crate::app::{instance_name, Config, Settings};

/// makerpulse: the live tracker of a 72-hour maker challenge (创客真人秀).
#[derive(Debug, Parser)]
#[command(name = "makerpulse", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Cmd,
    /// How the log (on standard error) is written: `text` for people, `json` for a log
    /// pipeline (one object per line).
    #[arg(
        long,
        env = "MAKERPULSE_LOG_FORMAT",
        global = true,
        default_value = "text"
    )]
    pub log_format: LogFormat,
}

/// How the log is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Lines for people.
    Text,
    /// One JSON object per line: `timestamp`, `level`, `target`, `fields`, `span`.
    Json,
}

/// The binary's commands.
#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// Serve the API, the live streams and the dashboards.
    Serve(ServeArgs),
    /// Serve, and run a live demo challenge with id `demo` with simulated teams and judges.
    Demo {
        /// Server settings.
        #[command(flatten)]
        serve: ServeArgs,
        /// How fast the simulation runs: 1 is an event every second or two, 10 ten times that.
        #[arg(long, env = "MAKERPULSE_DEMO_SPEED", default_value_t = 1.0)]
        speed: f64,
    },
    /// Write a challenge's event log to standard output (or a file) as NDJSON.
    Export {
        /// Where the journals live.
        #[arg(long, env = "MAKERPULSE_DATA_DIR", default_value = "data")]
        data_dir: PathBuf,
        /// The challenge.
        challenge: ChallengeId,
        /// A file to write instead of standard output.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Read an NDJSON event log into a new challenge journal (the server must not be running).
    Import {
        /// Where the journals live.
        #[arg(long, env = "MAKERPULSE_DATA_DIR", default_value = "data")]
        data_dir: PathBuf,
        /// The challenge id to import as; must be the id inside the log.
        challenge: ChallengeId,
        /// The NDJSON file (`-` for standard input).
        input: PathBuf,
    },
    /// Exit 0 when the server on this host answers `/readyz` as ready, 1 otherwise: for container
    /// health checks.
    Healthcheck {
        /// The server's address, as it was given to `serve` (an address on every interface,
        /// `0.0.0.0` or `[::]`, is asked on loopback).
        #[arg(long, env = "MAKERPULSE_BIND", default_value = "127.0.0.1:8080")]
        bind: SocketAddr,
        /// How long to wait for the answer, in seconds.
        #[arg(long, default_value_t = 2.0)]
        timeout: f64,
    },
    /// Copy every challenge's journal, the photos and the admin token's hash into the new
    /// directory DIR; safe while the server runs (docs/reliability.md).
    Backup {
        /// The data directory of the server.
        #[arg(long, env = "MAKERPULSE_DATA_DIR", default_value = "data")]
        data_dir: PathBuf,
        /// Where to write the backup; must not exist yet.
        dir: PathBuf,
    },
    /// Put a backup made by `backup` into a data directory that no server is running on;
    /// refuses to overwrite any challenge there.
    Restore {
        /// The data directory to restore into.
        #[arg(long, env = "MAKERPULSE_DATA_DIR", default_value = "data")]
        data_dir: PathBuf,
        /// The backup.
        dir: PathBuf,
    },
}

/// Settings of a running server.
#[derive(Clone, Args)]
pub struct ServeArgs {
    /// Address and port to listen on.
    #[arg(long, env = "MAKERPULSE_BIND", default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,
    /// Where `/metrics` listens, apart from the public port: loopback by default, so only the
    /// host sees it; `off` (or empty) for nowhere.
    #[arg(
        long,
        env = "MAKERPULSE_METRICS_BIND",
        default_value = "127.0.0.1:9090"
    )]
    pub metrics_bind: MetricsBind,
    /// The organizers' token. When absent, one is generated at the first start, printed once,
    /// and only its hash is kept in the data directory.
    #[arg(long, env = "MAKERPULSE_ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: Option<String>,
    /// The address people reach this server at, for printed links (defaults to http://BIND).
    #[arg(long, env = "MAKERPULSE_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// What the library reads as given.
    #[command(flatten)]
    pub settings: Settings,
}

/// Where the metrics listen: an address, or nowhere.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MetricsBind(pub Option<SocketAddr>);

impl std::str::FromStr for MetricsBind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim() {
            "" | "off" => Ok(MetricsBind(None)),
            addr => addr
                .parse()
                .map(|addr| MetricsBind(Some(addr)))
                .map_err(|_| format!("{addr:?} is not an address and port, nor `off`")),
        }
    }
}

impl ServeArgs {
    /// The library's config: the settings as given, with the admin token's hash and the public
    /// URL that start-up resolved, and a fresh instance name.
    pub fn config(&self, admin_token_hash: TokenHash, public_url: String) -> Config {
        Config {
            settings: self.settings.clone(),
            admin_token_hash,
            public_url,
            instance: instance_name(),
        }
    }
}

impl fmt::Debug for ServeArgs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServeArgs")
            .field("bind", &self.bind)
            .field("metrics_bind", &self.metrics_bind)
            .field(
                "admin_token",
                &self.admin_token.as_ref().map(|_| "<redacted>"),
            )
            .field("public_url", &self.public_url)
            .field("settings", &self.settings)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `makerpulse serve` with `args`, as the command line parses them.
    fn serve(args: &[&str]) -> Result<ServeArgs, clap::Error> {
        let cli = Cli::try_parse_from(["makerpulse", "serve"].iter().chain(args))?;
        let Cmd::Serve(args) = cli.command else {
            panic!("serve")
        };
        Ok(args)
    }

    #[test]
    fn debug_never_shows_secrets() {
        let cli = Cli::parse_from(["makerpulse", "serve", "--admin-token", "hunter2-secret"]);
        let Cmd::Serve(args) = cli.command else {
            panic!("serve")
        };
        assert!(!format!("{args:?}").contains("hunter2"));
        let cli = Cli::parse_from(["makerpulse", "serve", "--redis-url", "redis://:pw@host/"]);
        let Cmd::Serve(args) = cli.command else {
            panic!("serve")
        };
        let config = args.config(TokenHash::of("x"), "http://x".into());
        assert!(!format!("{args:?} {config:?}").contains("pw@"));
        assert_eq!(
            config.settings.redis_url.as_deref(),
            Some("redis://:pw@host/")
        );
    }

    #[test]
    fn trusted_proxies_are_a_comma_separated_list_and_none_by_default() {
        let serve = |args: &[&str]| serve(args).map(|args| args.settings.trusted_proxies);
        assert!(serve(&[]).unwrap().is_empty());
        let list = serve(&["--trusted-proxies", "10.0.0.0/8, 127.0.0.1"]).unwrap();
        assert!(list.contains("10.1.2.3".parse().unwrap()));
        assert!(list.contains("127.0.0.1".parse().unwrap()));
        assert!(!list.contains("127.0.0.2".parse().unwrap()));
        assert!(serve(&["--trusted-proxies", "10.0.0.0/40"]).is_err());
    }

    #[test]
    fn metrics_listen_on_loopback_unless_moved_or_off() {
        let serve = |args: &[&str]| serve(args).map(|args| args.metrics_bind.0);
        assert_eq!(serve(&[]).unwrap(), Some("127.0.0.1:9090".parse().unwrap()));
        assert_eq!(
            serve(&["--metrics-bind", "10.0.0.2:9100"]).unwrap(),
            Some("10.0.0.2:9100".parse().unwrap())
        );
        assert_eq!(serve(&["--metrics-bind", "off"]).unwrap(), None);
        assert_eq!(serve(&["--metrics-bind", ""]).unwrap(), None);
        assert!(serve(&["--metrics-bind", "everywhere"]).is_err());
    }

    #[test]
    fn threads_are_a_positive_count_or_one_per_core() {
        let serve = |args: &[&str]| serve(args).map(|args| args.settings.threads);
        assert_eq!(serve(&[]).unwrap(), None);
        assert_eq!(serve(&["--threads", "4"]).unwrap(), Some(4));
        for wrong in ["0", "-1", "many", "100000"] {
            let err = serve(&[&format!("--threads={wrong}")])
                .unwrap_err()
                .to_string();
            assert!(err.contains("--threads"), "{wrong}: {err}");
        }
    }
}
