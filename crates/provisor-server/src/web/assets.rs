//! The pages' stylesheet, script and icon, compiled into the binary and served by the server itself:
//! nothing is loaded from another site, and the content security policy allows no
//! inline style.

use axum::http::header;
use axum::response::{IntoResponse, Response};

/// The icon browsers show in the tab (`assets/icon.svg`).
pub const ICON: &str = include_str!("../../assets/icon.svg");

/// Serves the icon (also at `/favicon.ico`, where browsers look without being told).
pub async fn icon() -> Response {
    (
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        ICON,
    )
        .into_response()
}

/// The pages' one script (`assets/app.js`): progressive enhancement only.
pub const SCRIPT: &str = include_str!("../../assets/app.js");

/// Serves the script.
pub async fn script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        SCRIPT,
    )
        .into_response()
}

/// The stylesheet (`assets/app.css`).
pub const STYLESHEET: &str = include_str!("../../assets/app.css");

/// Serves the stylesheet.
pub async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        STYLESHEET,
    )
        .into_response()
}
