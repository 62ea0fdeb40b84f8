//! The dashboards: the pages and the static files under `web/`, embedded in the binary so that
//! one file is the whole deployment.
//!
//! Every page is the same small HTML shell, served with the page's name and route on its `<body>`;
//! `web/js/main.js` loads that page's module with the route's parameters, so `PAGES` is the one
//! route table. The shell and the files carry no inline script or style, so the pages run under a
//! strict Content-Security-Policy. Only `/embed/{id}` may be framed, by partner sites.
//!
//! `/sw.js` is the service worker that keeps the shell and the files for a reload without network
//! (`web/sw.js`, with the build's version and the file list written in), and
//! `/manifest.webmanifest` makes the phone view and the consoles installable.

use std::collections::HashMap;
use std::sync::{LazyLock, OnceLock};

use axum::extract::{Path, Query};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use bytes::Bytes;
use makerpulse_core::ids::hex_sha256;

use crate::app::AppState;

/// Pages may load only what this server serves, run only its scripts and styles, and may not be
/// framed. `blob:` images are the team console's previews of photos not yet uploaded.
const PAGE_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
    img-src 'self' data: blob:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; \
    form-action 'self'; object-src 'none'";

/// The embeddable leaderboard: the same policy, but any site may frame it.
const EMBED_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
    img-src 'self' data:; connect-src 'self'; frame-ancestors *; base-uri 'none'; \
    form-action 'self'; object-src 'none'";

/// The service worker's script, before the version and the file list are written in.
const SW_TEMPLATE: &str = include_str!("../../../web/sw.js");

/// The service worker may fetch only from this server.
const SW_CSP: &str = "default-src 'self'; connect-src 'self'";

/// The page shell every route serves.
const SHELL: &str = include_str!("../../../web/index.html");

/// Every page: its route, and its module under `web/js/pages/`. The browser keeps no copy of this
/// list: the shell served at a route names the page and the route, and `main.js` reads the
/// parameters from the path by the route's `{…}` segments.
const PAGES: &[(&str, &str)] = &[
    ("/", "landing"),
    ("/admin", "admin"),
    ("/screen/{id}", "screen"),
    ("/phone/{id}", "phone"),
    ("/phone/{id}/teams/{team}", "phone"),
    ("/team/{id}", "team"),
    ("/judge/{id}", "judge"),
    ("/replay/{id}", "replay"),
    ("/embed/{id}", "embed"),
];

/// The shell of each of [`PAGES`], in the same order, built once. Page names and routes are
/// constants of this file, never anything from a request, so writing them into HTML is safe.
static SHELLS: LazyLock<Vec<String>> = LazyLock::new(|| {
    PAGES
        .iter()
        .map(|(route, page)| {
            SHELL.replacen(
                "<body>",
                &format!("<body data-page=\"{page}\" data-route=\"{route}\">"),
                1,
            )
        })
        .collect()
});

macro_rules! assets {
    ($($path:literal => $mime:expr),* $(,)?) => {
        &[$(($path, $mime, include_bytes!(concat!("../../../web/", $path)) as &[u8])),*]
    };
}

const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";

/// Every static file: path under `/static/`, media type, bytes.
const ASSETS: &[(&str, &str, &[u8])] = assets! {
    "css/app.css" => CSS,
    "css/screen.css" => CSS,
    "icon.svg" => "image/svg+xml",
    "icon-192.png" => "image/png",
    "icon-512.png" => "image/png",
    "js/main.js" => JS,
    "js/i18n.js" => JS,
    "js/dom.js" => JS,
    "js/api.js" => JS,
    "js/live.js" => JS,
    "js/clock.js" => JS,
    "js/qr.js" => JS,
    "js/vendor/qrcode-generator/qrcode.mjs" => JS,
    "js/board.js" => JS,
    "js/chrome.js" => JS,
    "js/csv.js" => JS,
    "js/theme.js" => JS,
    "js/tabs.js" => JS,
    "js/idb.js" => JS,
    "js/queue.js" => JS,
    "js/offline.js" => JS,
    "js/pages/landing.js" => JS,
    "js/pages/screen.js" => JS,
    "js/pages/phone.js" => JS,
    "js/pages/team.js" => JS,
    "js/pages/judge.js" => JS,
    "js/pages/admin.js" => JS,
    "js/pages/admin/forms.js" => JS,
    "js/pages/admin/links.js" => JS,
    "js/pages/admin/run.js" => JS,
    "js/pages/admin/sheets.js" => JS,
    "js/pages/admin/import.js" => JS,
    "js/pages/admin/setup.js" => JS,
    "js/pages/admin/teams.js" => JS,
    "js/pages/admin/judges.js" => JS,
    "js/pages/admin/scores.js" => JS,
    "js/pages/admin/audit.js" => JS,
    "js/pages/admin/posts.js" => JS,
    "js/pages/embed.js" => JS,
    "js/pages/replay.js" => JS,
};

/// The build's version: a hash of the shell, the worker and every static file, so any change to
/// what the browser keeps is a new service worker that replaces the old cache.
static VERSION: LazyLock<String> = LazyLock::new(|| {
    let mut all = Vec::new();
    for part in [SHELL.as_bytes(), SW_TEMPLATE.as_bytes()] {
        all.extend_from_slice(&(part.len() as u64).to_le_bytes());
        all.extend_from_slice(part);
    }
    for &(path, _, body) in ASSETS {
        for part in [path.as_bytes(), body] {
            all.extend_from_slice(&(part.len() as u64).to_le_bytes());
            all.extend_from_slice(part);
        }
    }
    hex_sha256(&all)[..16].to_owned()
});

/// The service worker with this build's version and the files it keeps at install.
static SW: LazyLock<String> = LazyLock::new(|| {
    let files: Vec<String> = ASSETS
        .iter()
        .map(|(path, _, _)| format!("/static/{path}"))
        .collect();
    let files = serde_json::to_string(&files).expect("strings serialize");
    SW_TEMPLATE
        .replacen("__VERSION__", &VERSION, 1)
        .replacen("__FILES__", &files, 1)
});

/// A static file with its strong validator, and its compressed forms, each made once at the
/// best quality on first use: every phone of a hall then costs a copy, not a compression, and
/// gets the smallest bytes.
struct Asset {
    mime: &'static str,
    body: &'static [u8],
    hash: String,
    etag: HeaderValue,
    gzip: OnceLock<Encoded>,
    br: OnceLock<Encoded>,
}

/// One compressed form of a static file, with a validator of its own (a strong ETag names one
/// exact sequence of bytes).
struct Encoded {
    body: Bytes,
    etag: HeaderValue,
}

impl Asset {
    fn encoded(&self, encoding: Encoding) -> Option<&Encoded> {
        let (cell, suffix) = match encoding {
            Encoding::Identity => return None,
            Encoding::Gzip => (&self.gzip, "gz"),
            Encoding::Br => (&self.br, "br"),
        };
        Some(cell.get_or_init(|| {
            Encoded {
                body: compress(encoding, self.body).into(),
                etag: HeaderValue::from_str(&format!("\"{}-{suffix}\"", self.hash))
                    .expect("hex is a valid header"),
            }
        }))
    }
}

static TABLE: LazyLock<HashMap<&'static str, Asset>> = LazyLock::new(|| {
    ASSETS
        .iter()
        .map(|&(path, mime, body)| {
            let hash = hex_sha256(body)[..20].to_owned();
            let etag =
                HeaderValue::from_str(&format!("\"{hash}\"")).expect("hex is a valid header");
            let asset = Asset {
                mime,
                body,
                hash,
                etag,
                gzip: OnceLock::new(),
                br: OnceLock::new(),
            };
            (path, asset)
        })
        .collect()
});

/// The content codings a static file (or a snapshot) is kept in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Encoding {
    Identity,
    Gzip,
    Br,
}

/// The coding to answer with: Brotli or gzip when the client accepts it (`q` > 0), Brotli
/// before gzip at equal preference, identity otherwise. Files under [`MIN_COMPRESSED`] bytes go
/// as they are.
pub(crate) fn negotiate(headers: &HeaderMap, len: usize) -> Encoding {
    if len < MIN_COMPRESSED {
        return Encoding::Identity;
    }
    let accepted = headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','));
    let (mut br, mut gzip) = (0.0_f32, 0.0_f32);
    for item in accepted {
        let mut parts = item.split(';');
        let name = parts.next().unwrap_or("").trim();
        let q = parts
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        if name.eq_ignore_ascii_case("br") {
            br = q;
        } else if name.eq_ignore_ascii_case("gzip") {
            gzip = q;
        }
    }
    if br > 0.0 && br >= gzip {
        Encoding::Br
    } else if gzip > 0.0 {
        Encoding::Gzip
    } else {
        Encoding::Identity
    }
}

/// The smallest static file worth compressing, in bytes: as for the other responses.
const MIN_COMPRESSED: usize = 256;

fn compress(encoding: Encoding, body: &[u8]) -> Vec<u8> {
    compress_at(encoding, body, Effort::Best)
}

/// How hard to compress: once per build for a static file, once per seq for a snapshot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Effort {
    /// The smallest output (Brotli 11, gzip 9): seconds for all the static files, once.
    Best,
    /// A few milliseconds for a 100 KB snapshot (Brotli 5, gzip 6), within a few per cent of it.
    Fast,
}

/// `body` in `encoding`.
pub(crate) fn compress_at(encoding: Encoding, body: &[u8], effort: Effort) -> Vec<u8> {
    use std::io::Write;
    let best = effort == Effort::Best;
    match encoding {
        Encoding::Identity => body.to_vec(),
        Encoding::Gzip => {
            let level = if best {
                flate2::Compression::best()
            } else {
                flate2::Compression::default()
            };
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), level);
            gz.write_all(body).expect("writing to memory");
            gz.finish().expect("writing to memory")
        }
        Encoding::Br => {
            let mut out = Vec::new();
            let params = brotli::enc::BrotliEncoderParams {
                quality: if best { 11 } else { 5 },
                ..Default::default()
            };
            brotli::BrotliCompress(&mut &body[..], &mut out, &params).expect("writing to memory");
            out
        }
    }
}

/// The page routes and the static files.
pub fn router() -> Router<AppState> {
    pages()
}

/// The page routes and the static files, for any state: they need none.
fn pages<S: Clone + Send + Sync + 'static>() -> Router<S> {
    let mut router = Router::new();
    for (&(route, name), shell) in PAGES.iter().zip(SHELLS.iter()) {
        let shell: &'static str = shell;
        router = if name == "embed" {
            router.route(route, get(move || embed(shell)))
        } else {
            router.route(route, get(move || page(shell)))
        };
    }
    router
        .route("/static/{*path}", get(asset))
        .route("/sw.js", get(service_worker))
        .route("/manifest.webmanifest", get(manifest))
}

/// The service worker, from the root so that its scope covers every page; always revalidated, so
/// a new release is noticed on the next visit.
async fn service_worker() -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(JS)),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(SW_CSP),
            ),
        ],
        [(
            header::HeaderName::from_static("service-worker-allowed"),
            HeaderValue::from_static("/"),
        )],
        SW.as_str(),
    )
        .into_response()
}

/// The page an installed app opens: `?start=` names the page it was installed from (its path; a
/// console's token stays in the browser's storage, never in the manifest).
#[derive(serde::Deserialize)]
struct ManifestQuery {
    start: Option<String>,
}

/// Whether `path` is a path of one of [`PAGES`]: a route with its `{…}` segments filled.
fn is_page_path(path: &str) -> bool {
    let segments: Vec<&str> = path.split('/').collect();
    PAGES.iter().any(|(route, _)| {
        let parts: Vec<&str> = route.split('/').collect();
        parts.len() == segments.len()
            && parts.iter().zip(&segments).all(|(p, s)| {
                if p.starts_with('{') {
                    !s.is_empty()
                        && s.len() <= 64
                        && s.bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
                } else {
                    p == s
                }
            })
    })
}

/// The web app manifest, in both languages: installed on a phone's home screen or a tablet, a
/// console or the phone view opens full screen, with the dashboards' colours.
async fn manifest(Query(q): Query<ManifestQuery>) -> Response {
    let start = q
        .start
        .filter(|s| is_page_path(s))
        .unwrap_or_else(|| "/".to_owned());
    let body = serde_json::json!({
        "name": "创客脉搏 makerpulse",
        "short_name": "创客脉搏",
        "description": "创客挑战赛实时进度、评分与排行榜 · Live progress, judging and leaderboard of maker challenges",
        "lang": "zh-CN",
        "dir": "ltr",
        "start_url": start,
        "scope": "/",
        "display": "standalone",
        "orientation": "any",
        "background_color": "#0b1020",
        "theme_color": "#0b1020",
        "icons": [
            {"src": "/static/icon-192.png", "sizes": "192x192", "type": "image/png", "purpose": "any"},
            {"src": "/static/icon-512.png", "sizes": "512x512", "type": "image/png", "purpose": "any"},
            {"src": "/static/icon.svg", "sizes": "any", "type": "image/svg+xml", "purpose": "any"}
        ]
    });
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/manifest+json"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        body.to_string(),
    )
        .into_response()
}

fn html(csp: &'static str) -> [(header::HeaderName, HeaderValue); 3] {
    [
        (
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        ),
        (
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(csp),
        ),
        // The shell is tiny and changes with every release; the files it loads are revalidated.
        (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
    ]
}

async fn page(shell: &'static str) -> Response {
    (
        html(PAGE_CSP),
        [(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"))],
        shell,
    )
        .into_response()
}

async fn embed(shell: &'static str) -> Response {
    (html(EMBED_CSP), shell).into_response()
}

/// A static file in the coding the client prefers, revalidated with that form's ETag so that ten
/// thousand phones joining at once mostly get a 304.
async fn asset(Path(path): Path<String>, headers: HeaderMap) -> Response {
    let Some(asset) = TABLE.get(path.as_str()) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let encoding = negotiate(&headers, asset.body.len());
    let encoded = asset.encoded(encoding);
    let etag = encoded.map_or(&asset.etag, |e| &e.etag);
    let fresh = headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|tag| tag.trim().trim_start_matches("W/"))
        .any(|tag| tag == "*" || tag.as_bytes() == etag.as_bytes());
    let common = [
        (header::ETAG, etag.clone()),
        (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        (header::VARY, HeaderValue::from_static("accept-encoding")),
    ];
    if fresh {
        return (StatusCode::NOT_MODIFIED, common).into_response();
    }
    let content_type = [(header::CONTENT_TYPE, HeaderValue::from_static(asset.mime))];
    match (encoded, encoding) {
        (Some(encoded), Encoding::Br) => (
            common,
            content_type,
            [(header::CONTENT_ENCODING, HeaderValue::from_static("br"))],
            encoded.body.clone(),
        )
            .into_response(),
        (Some(encoded), _) => (
            common,
            content_type,
            [(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"))],
            encoded.body.clone(),
        )
            .into_response(),
        (None, _) => (common, content_type, asset.body).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::Request;
    use tower::ServiceExt;

    fn app() -> Router {
        // The page routes need no state; a unit router is enough to check headers.
        pages()
    }

    async fn get_path(path: &str, etag: Option<&str>) -> Response {
        let mut req = Request::get(path);
        if let Some(etag) = etag {
            req = req.header(header::IF_NONE_MATCH, etag);
        }
        app()
            .oneshot(req.body(Body::empty()).unwrap())
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn pages_are_strict_and_only_the_embed_may_be_framed() {
        let res = get_path("/screen/demo", None).await;
        assert_eq!(res.status(), StatusCode::OK);
        let csp = res.headers()[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap();
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert!(!csp.contains("unsafe-inline"), "{csp}");
        assert_eq!(res.headers()[header::X_FRAME_OPTIONS], "DENY");

        let res = get_path("/embed/demo", None).await;
        let csp = res.headers()[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap();
        assert!(csp.contains("frame-ancestors *"), "{csp}");
        assert!(res.headers().get(header::X_FRAME_OPTIONS).is_none());
    }

    /// The shell names its page and route, and every page named has its module embedded.
    #[tokio::test]
    async fn every_page_names_its_module() {
        let res = get_path("/phone/demo/teams/t1", None).await;
        assert_eq!(res.status(), StatusCode::OK);
        let body = axum::body::to_bytes(res.into_body(), usize::MAX)
            .await
            .unwrap();
        let body = std::str::from_utf8(&body).unwrap();
        assert!(
            body.contains(r#"<body data-page="phone" data-route="/phone/{id}/teams/{team}">"#),
            "{body}"
        );
        for (&(route, page), shell) in PAGES.iter().zip(SHELLS.iter()) {
            assert!(shell.contains(&format!("data-page=\"{page}\"")), "{route}");
            let module = format!("js/pages/{page}.js");
            assert!(TABLE.contains_key(module.as_str()), "{module}");
        }
    }

    #[tokio::test]
    async fn assets_are_served_with_their_type_and_revalidated() {
        let res = get_path("/static/js/main.js", None).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.headers()[header::CONTENT_TYPE], JS);
        let etag = res.headers()[header::ETAG].to_str().unwrap().to_owned();
        let res = get_path("/static/js/main.js", Some(&etag)).await;
        assert_eq!(res.status(), StatusCode::NOT_MODIFIED);
        let res = get_path("/static/css/app.css", None).await;
        assert_eq!(res.headers()[header::CONTENT_TYPE], CSS);
        assert_eq!(
            get_path("/static/../Cargo.toml", None).await.status(),
            StatusCode::NOT_FOUND
        );
    }

    #[test]
    fn the_coding_is_the_one_the_client_prefers() {
        let with = |accept: &str| {
            let mut h = HeaderMap::new();
            h.insert(
                header::ACCEPT_ENCODING,
                HeaderValue::from_str(accept).unwrap(),
            );
            negotiate(&h, 10_000)
        };
        assert_eq!(negotiate(&HeaderMap::new(), 10_000), Encoding::Identity);
        assert_eq!(with("gzip, deflate, br, zstd"), Encoding::Br);
        assert_eq!(with("gzip"), Encoding::Gzip);
        assert_eq!(with("br;q=0.5, gzip"), Encoding::Gzip);
        assert_eq!(with("br;q=0, gzip;q=0"), Encoding::Identity);
        assert_eq!(with("identity"), Encoding::Identity);
        let mut h = HeaderMap::new();
        h.insert(header::ACCEPT_ENCODING, HeaderValue::from_static("br"));
        assert_eq!(
            negotiate(&h, 100),
            Encoding::Identity,
            "too small to bother"
        );
    }

    #[tokio::test]
    async fn each_coding_has_its_own_etag_and_decodes_to_the_file() {
        let fetch = |accept: &'static str, etag: Option<String>| async move {
            let mut req =
                Request::get("/static/js/i18n.js").header(header::ACCEPT_ENCODING, accept);
            if let Some(etag) = etag {
                req = req.header(header::IF_NONE_MATCH, etag);
            }
            app()
                .oneshot(req.body(Body::empty()).unwrap())
                .await
                .unwrap()
        };
        let plain = fetch("identity", None).await;
        let plain_etag = plain.headers()[header::ETAG].to_str().unwrap().to_owned();
        let original = axum::body::to_bytes(plain.into_body(), usize::MAX)
            .await
            .unwrap();
        let mut etags = vec![plain_etag.clone()];
        for (accept, coding) in [("gzip", "gzip"), ("br", "br")] {
            let res = fetch(accept, None).await;
            assert_eq!(res.headers()[header::CONTENT_ENCODING], coding);
            assert_eq!(res.headers()[header::VARY], "accept-encoding");
            let etag = res.headers()[header::ETAG].to_str().unwrap().to_owned();
            let body = axum::body::to_bytes(res.into_body(), usize::MAX)
                .await
                .unwrap();
            assert!(
                body.len() * 2 < original.len(),
                "{coding}: {} of {}",
                body.len(),
                original.len()
            );
            let mut decoded = Vec::new();
            match coding {
                "gzip" => std::io::Read::read_to_end(
                    &mut flate2::read::GzDecoder::new(&body[..]),
                    &mut decoded,
                ),
                _ => std::io::Read::read_to_end(
                    &mut brotli::Decompressor::new(&body[..], 4096),
                    &mut decoded,
                ),
            }
            .unwrap();
            assert_eq!(decoded, original);
            // Revalidated by its own validator, not by another coding's.
            assert_eq!(
                fetch(accept, Some(etag.clone())).await.status(),
                StatusCode::NOT_MODIFIED
            );
            assert_eq!(
                fetch(accept, Some(plain_etag.clone())).await.status(),
                StatusCode::OK
            );
            etags.push(etag);
        }
        etags.dedup();
        assert_eq!(etags.len(), 3, "{etags:?}");
        let list = format!("\"other\", {}", etags[2]);
        assert_eq!(
            fetch("br", Some(list)).await.status(),
            StatusCode::NOT_MODIFIED
        );
    }

    /// Every module a file imports, and every file the shell names, is embedded: a missing one
    /// would be a blank page in production, where nothing is read from disk.
    #[test]
    fn every_import_is_embedded() {
        let mut missing = Vec::new();
        for &(path, _, body) in ASSETS {
            if !path.ends_with(".js") {
                continue;
            }
            let text = std::str::from_utf8(body).unwrap();
            let dir = path.rsplit_once('/').map_or("", |(d, _)| d);
            for line in text.lines() {
                let line = line.trim();
                let spec = (line.starts_with("import ") || line.starts_with("} from "))
                    .then(|| line.split(['\'', '"']).nth(1))
                    .flatten();
                if let Some(spec) = spec {
                    let resolved = resolve(dir, spec);
                    if !TABLE.contains_key(resolved.as_str()) {
                        missing.push(format!("{path} imports {spec}"));
                    }
                }
            }
        }
        for name in SHELL.split("\"/static/").skip(1) {
            let file = name.split('"').next().unwrap();
            if !TABLE.contains_key(file) {
                missing.push(format!("the shell names {file}"));
            }
        }
        assert!(missing.is_empty(), "{missing:?}");
    }

    fn resolve(dir: &str, spec: &str) -> String {
        let mut parts: Vec<&str> = dir.split('/').filter(|p| !p.is_empty()).collect();
        for seg in spec.split('/') {
            match seg {
                "." => {}
                ".." => {
                    parts.pop();
                }
                s => parts.push(s),
            }
        }
        parts.join("/")
    }

    /// The worker is served from the root (its scope covers every page) with this build's version
    /// and every static file; the manifest starts at the page it was installed from, and only at
    /// a page.
    #[tokio::test]
    async fn the_service_worker_keeps_every_file_of_this_build() {
        let res = get_path("/sw.js", None).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.headers()[header::CONTENT_TYPE], JS);
        assert_eq!(res.headers()["service-worker-allowed"], "/");
        let body = axum::body::to_bytes(res.into_body(), usize::MAX)
            .await
            .unwrap();
        let body = std::str::from_utf8(&body).unwrap();
        assert!(!body.contains("__VERSION__") && !body.contains("__FILES__"));
        assert!(
            body.contains(&format!("const VERSION = '{}';", *VERSION)),
            "{body}"
        );
        for &(path, _, _) in ASSETS {
            assert!(body.contains(&format!("\"/static/{path}\"")), "{path}");
        }

        let res = get_path("/manifest.webmanifest?start=%2Fphone%2Fc", None).await;
        assert_eq!(
            res.headers()[header::CONTENT_TYPE],
            "application/manifest+json"
        );
        let body = axum::body::to_bytes(res.into_body(), usize::MAX)
            .await
            .unwrap();
        let m: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(m["start_url"], "/phone/c");
        assert!(m["name"].as_str().unwrap().contains("创客脉搏"));
        assert!(m["name"].as_str().unwrap().contains("makerpulse"));
        for icon in m["icons"].as_array().unwrap() {
            let src = icon["src"].as_str().unwrap();
            let file = src.strip_prefix("/static/").unwrap();
            assert!(TABLE.contains_key(file), "{src}");
        }
        for bad in [
            "https%3A%2F%2Fevil.example%2F",
            "%2F%2Fevil.example",
            "%2Fphone%2F..%2Fx%2Fy",
            "%2Fapi%2Fchallenges",
        ] {
            let res = get_path(&format!("/manifest.webmanifest?start={bad}"), None).await;
            let body = axum::body::to_bytes(res.into_body(), usize::MAX)
                .await
                .unwrap();
            let m: serde_json::Value = serde_json::from_slice(&body).unwrap();
            assert_eq!(m["start_url"], "/", "{bad}");
        }
    }

    #[test]
    fn no_file_writes_html_from_strings() {
        for &(path, _, body) in ASSETS {
            // Pictures are not text.
            let Ok(text) = std::str::from_utf8(body) else {
                assert!(path.ends_with(".png"), "{path} is not UTF-8");
                continue;
            };
            for banned in [
                "innerHTML",
                "outerHTML",
                "insertAdjacentHTML",
                "document.write",
            ] {
                assert!(!text.contains(banned), "{path} uses {banned}");
            }
        }
    }
}
