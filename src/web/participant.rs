//! Who is who in a workshop: a display name and a random participant id, kept in cookies.
//! There are no accounts; the name labels changes in the history and votes.

use axum::extract::{Form, FromRequestParts};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use base64::prelude::{BASE64_URL_SAFE_NO_PAD, Engine};
use serde::Deserialize;

use crate::scorecard::model::parse_text;
use crate::scorecard::token;

const NAME_COOKIE: &str = "scorecard_name";
const ID_COOKIE: &str = "scorecard_participant";
const NAME_MAX_CHARS: usize = 60;

/// The person behind a request, as far as their cookies tell.
#[derive(Debug, Clone, Default)]
pub struct Participant {
    /// A random id for this browser; `None` until they first name themselves.
    pub id: Option<String>,
    pub name: Option<String>,
}

impl Participant {
    /// The name changes are recorded under.
    pub fn actor(&self) -> &str {
        self.name.as_deref().unwrap_or("someone")
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Participant {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let jar = CookieJar::from_request_parts(parts, state).await?;
        let name = jar
            .get(NAME_COOKIE)
            .and_then(|c| BASE64_URL_SAFE_NO_PAD.decode(c.value()).ok())
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .and_then(|name| clean_name(&name).ok());
        let id = jar
            .get(ID_COOKIE)
            .map(|c| c.value().to_string())
            .filter(|v| token::well_formed(v));
        Ok(Participant { id, name })
    }
}

fn clean_name(text: &str) -> Result<String, String> {
    let name = parse_text(text)?;
    if name.is_empty() {
        return Err("enter the name others will see".into());
    }
    if name.chars().count() > NAME_MAX_CHARS {
        return Err(format!("keep it to {NAME_MAX_CHARS} characters"));
    }
    if name.chars().any(char::is_control) {
        return Err("use letters, digits and spaces".into());
    }
    Ok(name)
}

#[derive(Deserialize)]
pub struct NameForm {
    #[serde(default)]
    display_name: String,
    /// Where to go back to: a path on this site.
    #[serde(default)]
    back: String,
}

/// `POST /participant`: sets (or changes) the display name and goes back.
pub async fn set_name(jar: CookieJar, Form(form): Form<NameForm>) -> Response {
    // Only paths on this site: never an open redirect.
    let back = if form.back.starts_with('/')
        && !form.back.starts_with("//")
        && !form.back.contains('\\')
    {
        form.back.clone()
    } else {
        "/".to_string()
    };
    let Ok(name) = clean_name(&form.display_name) else {
        return Redirect::to(&back).into_response();
    };
    let mut jar = jar.add(cookie(
        NAME_COOKIE,
        BASE64_URL_SAFE_NO_PAD.encode(name.as_bytes()),
    ));
    if jar
        .get(ID_COOKIE)
        .is_none_or(|c| !token::well_formed(c.value()))
    {
        jar = jar.add(cookie(ID_COOKIE, token::generate()));
    }
    (jar, Redirect::to(&back)).into_response()
}

/// A long-lived cookie for the whole site, out of reach of scripts.
fn cookie(name: &'static str, value: String) -> Cookie<'static> {
    Cookie::build((name, value))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .permanent()
        .build()
}

/// The participant bar on edit pages: the name, or a prompt for one.
#[derive(Debug, Clone)]
pub struct ParticipantView {
    pub name: Option<String>,
    /// The page to come back to after naming oneself.
    pub back: String,
}

impl ParticipantView {
    pub fn new(participant: &Participant, back: impl Into<String>) -> ParticipantView {
        ParticipantView {
            name: participant.name.clone(),
            back: back.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn display_names_are_short_plain_text() {
        assert_eq!(super::clean_name("  Ada  "), Ok("Ada".into()));
        assert!(super::clean_name("").is_err());
        assert!(super::clean_name(&"x".repeat(61)).is_err());
    }
}
