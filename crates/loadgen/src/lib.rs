//! The makerpulse load generator: opens many audience sockets against makerpulse (or a
//! broadcast peer speaking plain WebSocket, Socket.IO or Pusher), writes events at set rates,
//! and measures what fan-out costs — connections held, join time, delivered messages per second,
//! delivery latency percentiles, gaps and errors, and the server's memory and CPU from `/proc`.
//!
//! See `bench/README.md` for the scenarios and the numbers.

pub mod config;
pub mod consoles;
pub mod http_join;
pub mod procstat;
pub mod publish;
pub mod report;
pub mod run;
pub mod seed;
pub mod stats;
pub mod target;
pub mod viewer;

pub use config::Config;
pub use report::Report;
pub use run::run;
