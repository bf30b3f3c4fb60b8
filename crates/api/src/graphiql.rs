//! GraphiQL, served entirely from the binary: the page on `GET /graphql` and its scripts
//! and styles under `/graphiql/`, so it works on a machine with no internet access.
//!
//! The files are taken unchanged from pinned npm packages (GraphiQL, React, ReactDOM and
//! GraphiQL's explorer plugin) and checked into `crates/api/assets/graphiql/`, where
//! `MANIFEST` records each file's package, exact version and SHA-256 (a test recomputes
//! them) and `update.sh` refreshes them with `npm pack`. A pinned file is served at
//! `/graphiql/<package>@<version>/<file>` and cached for a year as immutable: an upgrade
//! changes the path, so browsers never mix versions. The page itself, and ParkGraph's own
//! start-up script (`/graphiql/init.js`), are revalidated on every load. The page's
//! Content-Security-Policy allows nothing but this server (and `data:` URLs for the fonts
//! and icons inlined in GraphiQL's stylesheet).

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

/// Where GraphiQL sends its requests.
pub const ENDPOINT: &str = "/graphql";

/// Where GraphiQL's assets are served.
pub const PREFIX: &str = "/graphiql";

/// The pins: which file came from which package, at which version, with which checksum.
pub const MANIFEST: &str = include_str!("../assets/graphiql/MANIFEST");

/// The page, with `{{file}}` where each asset's path goes and `{{endpoint}}`.
const PAGE: &str = include_str!("../assets/graphiql/index.html");

/// ParkGraph's own start-up script (not pinned: it is part of this repository).
const INIT_JS: &[u8] = include_bytes!("../assets/graphiql/init.js");

/// Path of [`INIT_JS`].
const INIT_JS_PATH: &str = "/graphiql/init.js";

/// The pinned files, by their name in `MANIFEST`.
pub const EMBEDDED: &[(&str, &[u8])] = &[
    ("graphiql.min.js", include_bytes!("../assets/graphiql/graphiql.min.js")),
    ("graphiql.min.css", include_bytes!("../assets/graphiql/graphiql.min.css")),
    ("react.production.min.js", include_bytes!("../assets/graphiql/react.production.min.js")),
    ("react-dom.production.min.js", include_bytes!("../assets/graphiql/react-dom.production.min.js")),
    ("explorer.umd.js", include_bytes!("../assets/graphiql/explorer.umd.js")),
    ("explorer.css", include_bytes!("../assets/graphiql/explorer.css")),
];

/// The page's Content-Security-Policy: scripts, styles, fonts and requests from this
/// server only. Styles may be inline (GraphiQL and the page set some); fonts and images
/// may be `data:` URLs (GraphiQL's stylesheet inlines its fonts and icons).
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self' 'unsafe-inline'; font-src 'self' data:; img-src 'self' data:; \
     connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'; object-src 'none'";

/// One line of `MANIFEST`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pin<'a> {
    /// The file's name in `crates/api/assets/graphiql/`.
    pub file: &'a str,
    /// The npm package it comes from.
    pub package: &'a str,
    /// The package's exact version.
    pub version: &'a str,
    /// The file's path inside the package.
    pub path_in_package: &'a str,
    /// SHA-256 of the file, in hex.
    pub sha256: &'a str,
    /// The file's size in bytes.
    pub bytes: usize,
}

impl Pin<'_> {
    /// Where the file is served: `/graphiql/<package>@<version>/<file>`, the package
    /// without its npm scope.
    pub fn served_at(&self) -> String {
        let package = self.package.rsplit('/').next().unwrap_or(self.package);
        format!("{PREFIX}/{package}@{}/{}", self.version, self.file)
    }
}

/// The pins `MANIFEST` lists (lines with six fields; `#` starts a comment line).
pub fn pins() -> impl Iterator<Item = Pin<'static>> {
    MANIFEST.lines().filter(|line| !line.trim_start().starts_with('#')).filter_map(|line| {
        let mut fields = line.split_whitespace();
        let pin = Pin {
            file: fields.next()?,
            package: fields.next()?,
            version: fields.next()?,
            path_in_package: fields.next()?,
            sha256: fields.next()?,
            bytes: fields.next()?.parse().ok()?,
        };
        fields.next().is_none().then_some(pin)
    })
}

/// The embedded bytes of a pinned file.
pub fn embedded(file: &str) -> Option<&'static [u8]> {
    EMBEDDED.iter().find(|(name, _)| *name == file).map(|(_, bytes)| *bytes)
}

/// The page's HTML: every `{{file}}` replaced by where that file is served.
pub fn html() -> String {
    let mut html = PAGE.replace("{{endpoint}}", ENDPOINT).replace("{{init.js}}", INIT_JS_PATH);
    for pin in pins() {
        html = html.replace(&format!("{{{{{}}}}}", pin.file), &pin.served_at());
    }
    html
}

/// `GET /graphql`: the GraphiQL page, pointed at [`ENDPOINT`].
pub async fn page() -> Response {
    let mut response = (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8")),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
            (header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY)),
            (header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")),
        ],
        html(),
    )
        .into_response();
    response.headers_mut().insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    response
}

/// The `Content-Type` of an asset, by its extension.
fn content_type(file: &str) -> &'static str {
    if file.ends_with(".css") { "text/css; charset=utf-8" } else { "text/javascript; charset=utf-8" }
}

fn asset_response(file: &str, bytes: &'static [u8], cache_control: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type(file))),
            (header::CACHE_CONTROL, HeaderValue::from_static(cache_control)),
            (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
        ],
        bytes,
    )
        .into_response()
}

/// `GET /graphiql/<package>@<version>/<file>`: a pinned file, cached as immutable.
async fn asset(Path((release, file)): Path<(String, String)>) -> Response {
    let pin = pins().find(|pin| pin.file == file && pin.served_at() == format!("{PREFIX}/{release}/{file}"));
    match pin.and_then(|pin| embedded(pin.file).map(|bytes| (pin, bytes))) {
        Some((pin, bytes)) => asset_response(pin.file, bytes, "public, max-age=31536000, immutable"),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// `GET /graphiql/init.js`: ParkGraph's start-up script, revalidated on every load.
async fn init_js() -> Response {
    asset_response("init.js", INIT_JS, "no-cache")
}

/// The asset routes under [`PREFIX`]; none when GraphiQL is turned off. (The page on
/// `GET /graphql` is routed with the GraphQL handlers: see [`page`].)
pub fn routes<S: Clone + Send + Sync + 'static>(enabled: bool) -> Router<S> {
    if !enabled {
        return Router::new();
    }
    Router::new().route(INIT_JS_PATH, get(init_js)).route("/graphiql/{release}/{file}", get(asset))
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn every_embedded_file_matches_the_checksum_and_size_its_pin_records() {
        let pins: Vec<Pin> = pins().collect();
        assert_eq!(pins.len(), EMBEDDED.len(), "MANIFEST and EMBEDDED list different files: {pins:?}");
        for pin in &pins {
            let bytes = embedded(pin.file).unwrap_or_else(|| panic!("{} is pinned but not embedded", pin.file));
            assert_eq!(bytes.len(), pin.bytes, "{}: size differs from MANIFEST", pin.file);
            assert_eq!(
                hex(&Sha256::digest(bytes)),
                pin.sha256,
                "{} differs from {}@{} as MANIFEST records it: run crates/api/assets/graphiql/update.sh",
                pin.file,
                pin.package,
                pin.version
            );
        }
    }

    #[test]
    fn every_manifest_line_is_a_pin_with_an_exact_version() {
        let lines = MANIFEST.lines().filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#')).count();
        assert_eq!(lines, pins().count(), "a MANIFEST line does not have six fields");
        for pin in pins() {
            let exact = pin.version.split('.').count() == 3
                && pin.version.split('.').all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()));
            assert!(exact, "{}: {} is not an exact version", pin.package, pin.version);
            assert_eq!(pin.sha256.len(), 64, "{}: not a SHA-256", pin.file);
        }
    }

    #[test]
    fn the_page_loads_every_pinned_file_from_this_server_and_nothing_else() {
        let html = html();
        assert!(!html.contains("{{"), "a placeholder is left in the page: {html}");
        for pin in pins() {
            assert!(html.contains(&format!("\"{}\"", pin.served_at())), "the page does not load {}", pin.file);
        }
        let mut references = Vec::new();
        for attribute in ["src=\"", "href=\""] {
            for (at, _) in html.match_indices(attribute) {
                let rest = &html[at + attribute.len()..];
                references.push(&rest[..rest.find('"').unwrap_or(rest.len())]);
            }
        }
        assert_eq!(references.len(), EMBEDDED.len() + 2, "{references:?}");
        for reference in references {
            assert!(
                reference.starts_with("/graphiql/") || reference == "data:,",
                "the page loads {reference} from elsewhere than this server"
            );
        }
        for external in ["http://", "https://", "//unpkg", "cdn", "jsdelivr"] {
            assert!(!html.contains(external), "the page mentions {external}");
        }
    }

    /// Hosts the pinned scripts name in links, licence headers and error messages. None is
    /// fetched (the browser test runs with every host but 127.0.0.1 unreachable); a new
    /// host here means a new version to read before allowing it.
    const MENTIONED_NEVER_FETCHED: &[&str] = &[
        "www.w3.org",
        "github.com",
        "radix-ui.com",
        "en.wikipedia.org",
        "commonmark.org",
        "codemirror.net",
        "reactjs.org",
        "www.onegraph.com",
    ];

    #[test]
    fn no_pinned_file_fetches_from_a_cdn() {
        for (file, bytes) in EMBEDDED.iter().chain([&("init.js", INIT_JS)]) {
            let text = String::from_utf8_lossy(bytes);
            for scheme in ["https://", "http://"] {
                for (at, _) in text.match_indices(scheme) {
                    let rest = &text[at + scheme.len()..];
                    let host: String =
                        rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '.' || *c == '-').collect();
                    if host.is_empty() {
                        continue; // the scheme alone, as in a URL check
                    }
                    assert!(MENTIONED_NEVER_FETCHED.contains(&host.as_str()), "{file} names {scheme}{host}");
                }
            }
            if file.ends_with(".css") {
                for (at, _) in text.match_indices("url(") {
                    let rest = text[at + 4..].trim_start_matches(['"', '\'']);
                    assert!(rest.starts_with("data:") || rest.starts_with('#'), "{file} loads url({})", &rest[..40]);
                }
                assert!(!text.contains("@import"), "{file} imports another stylesheet");
            }
        }
    }

    #[test]
    fn pinned_files_are_served_where_their_version_says() {
        for pin in pins() {
            let served = pin.served_at();
            assert!(served.contains(&format!("@{}/", pin.version)), "{served}");
            assert!(!served.contains("//") && served.matches('/').count() == 3, "{served}");
        }
    }
}
