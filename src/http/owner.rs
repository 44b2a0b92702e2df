//! The owner cookie: which browser a session belongs to.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};

use crate::session::OwnerToken;

/// Name of the cookie holding the browser's owner token.
pub const OWNER_COOKIE: &str = "pathshala_owner";

/// The owner token the request carries, if any (extraction never fails).
pub struct Owner(pub Option<OwnerToken>);

impl<S: Send + Sync> FromRequestParts<S> for Owner {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Owner(read_cookie(&parts.headers, OWNER_COOKIE)))
    }
}

/// The token in cookie `cookie`, if the request carries one of the generated shape.
pub fn read_cookie<T: From<OwnerToken>>(headers: &HeaderMap, cookie: &str) -> Option<T> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == cookie)
        .and_then(|(_, value)| OwnerToken::parse(value))
        .map(T::from)
}

/// A `Set-Cookie` value for `token`: HttpOnly so page scripts cannot read it, SameSite=Lax so
/// other sites cannot use it.
pub fn set_cookie(token: &OwnerToken) -> HeaderValue {
    let value = format!(
        "{OWNER_COOKIE}={}; Path=/; HttpOnly; SameSite=Lax; Max-Age=31536000",
        token.as_str()
    );
    HeaderValue::from_str(&value).expect("token is hex")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cookie_is_found_among_others() {
        let token = OwnerToken::generate();
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_str(&format!("a=b; {OWNER_COOKIE}={}; c=d", token.as_str())).unwrap(),
        );
        assert_eq!(read_cookie(&headers, OWNER_COOKIE), Some(token));
    }

    #[test]
    fn a_malformed_cookie_is_ignored() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("pathshala_owner=../../x"),
        );
        assert_eq!(read_cookie::<OwnerToken>(&headers, OWNER_COOKIE), None);
    }
}
