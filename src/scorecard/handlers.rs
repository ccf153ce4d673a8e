//! HTTP handlers for scorecards: extract, call the service, render or redirect.
//!
//! Forms follow one pattern: a bad field re-renders the same form with the values typed
//! and a message beside the field (422), nothing saved; success redirects (303).

use askama::Template;
use axum::Form;
use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::rejection::RawFormRejection;
use axum::extract::{FromRequest, Multipart, Path, Query, RawForm, Request, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::csv as contract;
use super::input::{Column, FieldErrors, RawWorkflow};
use super::money::Currency;
use super::repo::LinkKind;
use super::report::Report;
use super::service::{self, SaveRejection, SettingsForm};
use super::views::{
    ConflictPage, ImportErrorsPage, LandingPage, ScorecardPage, SettingsPage, WorkflowFormPage,
    new_workflow_values,
};
use crate::app::AppState;
use crate::error::{AppError, AppResult};
use crate::web::access::{Access, EditAccess};
use crate::web::conditional;
use crate::web::lookups::ClientAddr;
use crate::web::participant::{Participant, ParticipantView};
use crate::web::wants_json;

fn render(status: StatusCode, page: &impl Template) -> AppResult<Response> {
    Ok((status, Html(page.render()?)).into_response())
}

fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

pub async fn landing(State(state): State<AppState>) -> AppResult<Response> {
    render(
        StatusCode::OK,
        &LandingPage {
            name: String::new(),
            currency: "USD".into(),
            errors: Vec::new(),
            locked: state.admin.is_some(),
        },
    )
}

#[derive(Deserialize)]
pub struct CreateForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    currency: String,
    /// Asked for only when the instance is locked.
    #[serde(default)]
    admin_password: String,
}

/// Checks the instance lock, if there is one. Wrong passwords count against the client
/// address like unknown links do.
async fn unlock(
    state: &AppState,
    client: ClientAddr,
    password: &str,
) -> AppResult<Result<(), String>> {
    let Some(hash) = state.admin.clone() else {
        return Ok(Ok(()));
    };
    if let Some(ip) = client.0
        && state.lookups.blocked(ip)
    {
        return Err(AppError::TooManyLookups);
    }
    let password = password.to_string();
    let ok = tokio::task::spawn_blocking(move || crate::web::admin::verify(&hash, &password))
        .await
        .unwrap_or(false);
    if ok {
        return Ok(Ok(()));
    }
    if let Some(ip) = client.0 {
        state.lookups.record_failure(ip);
    }
    Ok(Err(
        "this server asks for its admin password to start a scorecard: ask whoever runs it".into(),
    ))
}

pub async fn create(
    State(state): State<AppState>,
    client: ClientAddr,
    Form(form): Form<CreateForm>,
) -> AppResult<Response> {
    let mut errors = Vec::new();
    let name = super::model::parse_name(&form.name).map_err(|m| errors.push(("name", m)));
    let code = if form.currency.trim().is_empty() {
        "USD"
    } else {
        form.currency.as_str()
    };
    let currency = Currency::parse(code).map_err(|m| errors.push(("currency", m)));
    let unlocked = unlock(&state, client, &form.admin_password).await?;
    let locked_out = unlocked.is_err();
    if let Err(m) = unlocked {
        errors.push(("admin_password", m));
    }
    let (Ok(name), Ok(currency), false) = (name, currency, locked_out) else {
        let page = LandingPage {
            name: form.name,
            currency: form.currency,
            errors,
            locked: state.admin.is_some(),
        };
        let status = if locked_out {
            StatusCode::FORBIDDEN
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        };
        return render(status, &page);
    };
    let scorecard = service::create_scorecard(&state, &name, currency).await?;
    Ok(see_other(&format!("/s/{}", scorecard.edit_token)))
}

#[derive(Deserialize)]
pub struct DemoForm {
    #[serde(default)]
    admin_password: String,
}

pub async fn demo(
    State(state): State<AppState>,
    client: ClientAddr,
    form: Result<Form<DemoForm>, axum::extract::rejection::FormRejection>,
) -> AppResult<Response> {
    // A bare POST (no form body) is fine when there is no password to give.
    let password = form.map(|Form(f)| f.admin_password).unwrap_or_default();
    if let Err(m) = unlock(&state, client, &password).await? {
        let page = LandingPage {
            name: String::new(),
            currency: "USD".into(),
            errors: vec![("demo_password", m)],
            locked: true,
        };
        return render(StatusCode::FORBIDDEN, &page);
    }
    let scorecard = service::create_demo(&state).await?;
    Ok(see_other(&format!("/s/{}", scorecard.edit_token)))
}

#[derive(Deserialize)]
pub struct ShowQuery {
    added: Option<u32>,
    updated: Option<u32>,
    saved: Option<String>,
    /// The page of the workflow table, from 1.
    page: Option<usize>,
    /// Keeps rows whose name, team or owner contains this.
    q: Option<String>,
}

/// Answers `304` when the client holds this version of the page; otherwise renders it
/// and attaches the validator.
fn conditional(
    access: &Access,
    uri: &Uri,
    headers: &HeaderMap,
    render: impl FnOnce() -> AppResult<Response>,
) -> AppResult<Response> {
    let etag = conditional::etag(access, &conditional::RequestKey::of(uri, headers));
    if let Some(response) = conditional::not_modified(headers, &etag) {
        return Ok(response);
    }
    Ok(conditional::tag(render()?, etag, access.can_edit()))
}

pub async fn show(
    access: Access,
    participant: Participant,
    Query(q): Query<ShowQuery>,
    uri: Uri,
    headers: HeaderMap,
) -> AppResult<Response> {
    conditional(&access, &uri, &headers, || {
        let base = access.base();
        let report = Report::compute(access.snapshot.clone());
        let notice = match (q.added, q.updated, q.saved.as_deref()) {
            (Some(a), Some(u), _) => Some(format!("Imported: {a} added, {u} updated.")),
            (_, _, Some("deleted")) => Some("Workflow deleted.".into()),
            (_, _, Some(_)) => Some("Saved.".into()),
            _ => None,
        };
        let participant = access
            .can_edit()
            .then(|| ParticipantView::new(&participant, base.clone()));
        let page = ScorecardPage::new(
            &report,
            base,
            participant,
            notice,
            q.page.unwrap_or(1),
            q.q.as_deref().unwrap_or_default(),
        );
        Ok(Html(page.to_html()?).into_response())
    })
}

pub async fn json(access: Access, uri: Uri, headers: HeaderMap) -> AppResult<Response> {
    conditional(&access, &uri, &headers, || {
        let report = Report::compute(access.snapshot.clone());
        // Streamed: each chunk is serialised when the connection can take it, so many
        // clients reading a large scorecard at once hold a chunk each, not the whole file.
        let chunks = report
            .into_json_chunks()
            .map(|chunk| Ok::<_, std::convert::Infallible>(Bytes::from(chunk)));
        Ok((
            [(header::CONTENT_TYPE, "application/json")],
            Body::from_stream(futures_util::stream::iter(chunks)),
        )
            .into_response())
    })
}

pub async fn export(access: Access, uri: Uri, headers: HeaderMap) -> AppResult<Response> {
    conditional(&access, &uri, &headers, || {
        let report = Report::compute(access.snapshot.clone());
        let body = contract::export(&report).map_err(|e| AppError::corrupt(e.to_string()))?;
        let filename = format!("{}.csv", slug(&report.scorecard().name));
        Ok((
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{filename}\""),
                ),
            ],
            body,
        )
            .into_response())
    })
}

/// A file name made of the scorecard's name: lowercase letters, digits and dashes.
fn slug(name: &str) -> String {
    let mut out = String::new();
    for ch in name.chars() {
        if ch.is_ascii_alphanumeric() {
            out.push(ch.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let out = out.trim_end_matches('-');
    if out.is_empty() {
        "scorecard".into()
    } else {
        out.into()
    }
}

pub async fn import(
    State(state): State<AppState>,
    EditAccess(access): EditAccess,
    participant: Participant,
    headers: HeaderMap,
    mut multipart: Multipart,
) -> AppResult<Response> {
    let json = wants_json(&headers);
    let mut file = None;
    loop {
        let field = multipart.next_field().await.map_err(upload_error)?;
        let Some(field) = field else { break };
        if field.name() == Some("file") {
            let bytes = field.bytes().await.map_err(upload_error)?;
            file = Some(bytes);
        }
    }
    let Some(bytes) = file else {
        return Err(AppError::BadRequest(
            "no file was uploaded: send the CSV in a multipart field named \"file\"".into(),
        ));
    };
    match service::import_csv(&state, &access.scorecard, &bytes, participant.actor()).await? {
        Ok(summary) if json => Ok(Json(summary).into_response()),
        Ok(summary) => Ok(see_other(&format!(
            "{}?added={}&updated={}",
            access.base(),
            summary.added,
            summary.updated
        ))),
        Err(errors) if json => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(serde_json::json!({ "errors": errors })),
        )
            .into_response()),
        Err(errors) => render(
            StatusCode::UNPROCESSABLE_ENTITY,
            &ImportErrorsPage {
                scorecard_name: access.scorecard.name.clone(),
                base: access.base(),
                errors,
            },
        ),
    }
}

/// A multipart upload that broke off or ran over the size limit.
fn upload_error(e: axum::extract::multipart::MultipartError) -> AppError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        AppError::TooLarge(format!(
            "The file is larger than {} MB: split it into smaller files and import each.",
            crate::web::layers::IMPORT_LIMIT / (1024 * 1024)
        ))
    } else {
        AppError::BadRequest(format!("the upload could not be read: {}", e.body_text()))
    }
}

/// A posted workflow form: every column's cell (empty where the form left it out) and
/// the version the form was made from. Read straight from the body into the cells, with
/// no map in between: saving this form is the busiest request of a workshop.
pub struct WorkflowForm {
    raw: RawWorkflow,
    version: Option<i64>,
}

impl<S: Send + Sync> FromRequest<S> for WorkflowForm {
    type Rejection = RawFormRejection;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let RawForm(body) = RawForm::from_request(req, state).await?;
        let mut raw = RawWorkflow::default();
        let mut version = None;
        for (key, value) in form_urlencoded::parse(&body) {
            if key == "version" {
                version = value.parse().ok();
            } else if let Some(column) = Column::parse(&key) {
                raw.set(column, value);
            }
        }
        for column in Column::ALL {
            if raw.get(column).is_none() {
                raw.set(column, "");
            }
        }
        Ok(WorkflowForm { raw, version })
    }
}

fn form_page(
    state: &AppState,
    access: &Access,
    participant: &Participant,
    workflow: Option<(i64, i64)>,
    values: &RawWorkflow,
    errors: &FieldErrors,
    notice: Option<String>,
) -> WorkflowFormPage {
    let base = access.base();
    let (title, action) = match workflow {
        Some((id, _)) => (
            format!("Edit {}", values.get(Column::Name).unwrap_or_default()),
            format!("{base}/workflows/{id}"),
        ),
        None => ("Add a workflow".to_string(), format!("{base}/workflows")),
    };
    let back = match workflow {
        Some((id, _)) => format!("{base}/workflows/{id}/edit"),
        None => format!("{base}/workflows/new"),
    };
    WorkflowFormPage {
        scorecard_name: access.scorecard.name.clone(),
        participant: Some(ParticipantView::new(participant, back)),
        base,
        title,
        action,
        workflow_id: workflow.map(|(id, _)| id),
        version: workflow.map(|(_, v)| v),
        currency: access.scorecard.currency.code,
        notice,
        has_errors: !errors.is_empty(),
        sections: WorkflowFormPage::sections(values, errors),
        models: state.catalog.names().map(str::to_string).collect(),
        tiers: super::model::Tier::ALL,
        verdicts: super::model::Verdict::ALL,
    }
}

pub async fn new_workflow(
    State(state): State<AppState>,
    EditAccess(access): EditAccess,
    participant: Participant,
) -> AppResult<Response> {
    let page = form_page(
        &state,
        &access,
        &participant,
        None,
        &new_workflow_values(),
        &FieldErrors::default(),
        None,
    );
    render(StatusCode::OK, &page)
}

pub async fn create_workflow(
    State(state): State<AppState>,
    EditAccess(access): EditAccess,
    participant: Participant,
    WorkflowForm { raw, .. }: WorkflowForm,
) -> AppResult<Response> {
    match service::save_workflow(
        &state,
        &access.scorecard,
        None,
        None,
        &raw,
        participant.actor(),
    )
    .await?
    {
        Ok(_) => Ok(see_other(&format!("{}?saved=added", access.base()))),
        Err(SaveRejection::Invalid(errors)) => render(
            StatusCode::UNPROCESSABLE_ENTITY,
            &form_page(&state, &access, &participant, None, &raw, &errors, None),
        ),
        Err(SaveRejection::Stale(_)) => Err(AppError::corrupt("a new workflow cannot be stale")),
    }
}

#[derive(Deserialize)]
pub struct WorkflowPath {
    id: String,
}

impl WorkflowPath {
    fn id(&self) -> AppResult<i64> {
        crate::web::path_id(&self.id)
    }
}

pub async fn edit_workflow(
    State(state): State<AppState>,
    EditAccess(access): EditAccess,
    participant: Participant,
    Path(path): Path<WorkflowPath>,
) -> AppResult<Response> {
    let workflow = service::get_workflow(&state, &access.scorecard, path.id()?).await?;
    let values = service::form_values(&workflow.fields, access.scorecard.currency);
    let page = form_page(
        &state,
        &access,
        &participant,
        Some((workflow.id, workflow.version)),
        &values,
        &FieldErrors::default(),
        None,
    );
    render(StatusCode::OK, &page)
}

pub async fn update_workflow(
    State(state): State<AppState>,
    EditAccess(access): EditAccess,
    participant: Participant,
    Path(path): Path<WorkflowPath>,
    WorkflowForm { raw, version }: WorkflowForm,
) -> AppResult<Response> {
    let id = path.id()?;
    match service::save_workflow(
        &state,
        &access.scorecard,
        Some(id),
        version,
        &raw,
        participant.actor(),
    )
    .await?
    {
        Ok(_) => Ok(see_other(&format!("{}?saved=updated", access.base()))),
        Err(SaveRejection::Invalid(errors)) => render(
            StatusCode::UNPROCESSABLE_ENTITY,
            &form_page(
                &state,
                &access,
                &participant,
                Some((id, version.unwrap_or(0))),
                &raw,
                &errors,
                None,
            ),
        ),
        Err(SaveRejection::Stale(current)) => {
            let page = ConflictPage::new(
                &access,
                Some(ParticipantView::new(
                    &participant,
                    format!("{}/workflows/{id}/edit", access.base()),
                )),
                &current,
                &raw,
            );
            render(StatusCode::CONFLICT, &page)
        }
    }
}

pub async fn delete_workflow(
    State(state): State<AppState>,
    EditAccess(access): EditAccess,
    participant: Participant,
    Path(path): Path<WorkflowPath>,
) -> AppResult<Response> {
    service::delete_workflow(&state, &access.scorecard, path.id()?, participant.actor()).await?;
    Ok(see_other(&format!("{}?saved=deleted", access.base())))
}

/// Absolute share links: on the configured public URL, or on the address the browser used.
fn share_links(state: &AppState, headers: &HeaderMap, access: &Access) -> (String, String) {
    let origin = match state.config.public_base() {
        Some(base) => base.to_string(),
        None => {
            let host = headers
                .get(header::HOST)
                .and_then(|h| h.to_str().ok())
                .unwrap_or("localhost");
            format!("http://{host}")
        }
    };
    let s = &access.scorecard;
    (
        format!("{origin}/s/{}", s.edit_token),
        format!("{origin}/v/{}", s.view_token),
    )
}

fn settings_page(
    state: &AppState,
    headers: &HeaderMap,
    access: &Access,
    participant: &Participant,
    form: SettingsForm,
    errors: Vec<(&'static str, String)>,
    notice: Option<String>,
) -> SettingsPage {
    let (edit_url, view_url) = share_links(state, headers, access);
    SettingsPage {
        scorecard_name: access.scorecard.name.clone(),
        participant: Some(ParticipantView::new(
            participant,
            format!("{}/settings", access.base()),
        )),
        base: access.base(),
        form,
        errors,
        edit_url,
        view_url,
        notice,
    }
}

#[derive(Deserialize)]
pub struct SettingsQuery {
    rotated: Option<String>,
    saved: Option<String>,
}

pub async fn settings(
    State(state): State<AppState>,
    EditAccess(access): EditAccess,
    participant: Participant,
    headers: HeaderMap,
    Query(q): Query<SettingsQuery>,
) -> AppResult<Response> {
    let notice = match (q.rotated.as_deref(), q.saved) {
        (Some("edit"), _) => Some(
            "New edit link made: the old one no longer works. Share this one with the workshop."
                .into(),
        ),
        (Some(_), _) => Some("New view link made: the old one no longer works.".into()),
        (None, Some(_)) => Some("Settings saved.".into()),
        _ => None,
    };
    let form = SettingsForm::of(&access.scorecard);
    render(
        StatusCode::OK,
        &settings_page(
            &state,
            &headers,
            &access,
            &participant,
            form,
            Vec::new(),
            notice,
        ),
    )
}

pub async fn save_settings(
    State(state): State<AppState>,
    EditAccess(access): EditAccess,
    participant: Participant,
    headers: HeaderMap,
    Form(form): Form<SettingsForm>,
) -> AppResult<Response> {
    match service::update_settings(&state, &access.scorecard, &form, participant.actor()).await? {
        Ok(()) => Ok(see_other(&format!("{}/settings?saved=1", access.base()))),
        Err(errors) => render(
            StatusCode::UNPROCESSABLE_ENTITY,
            &settings_page(&state, &headers, &access, &participant, form, errors, None),
        ),
    }
}

#[derive(Deserialize)]
pub struct RotatePath {
    link: String,
}

pub async fn rotate(
    State(state): State<AppState>,
    EditAccess(access): EditAccess,
    participant: Participant,
    Path(path): Path<RotatePath>,
) -> AppResult<Response> {
    let kind = match path.link.as_str() {
        "edit" => LinkKind::Edit,
        "view" => LinkKind::View,
        _ => return Err(AppError::NotFound),
    };
    let scorecard = service::rotate(&state, &access.scorecard, kind, participant.actor()).await?;
    Ok(see_other(&format!(
        "/s/{}/settings?rotated={}",
        scorecard.edit_token, path.link
    )))
}

#[cfg(test)]
mod tests {
    #[test]
    fn export_file_names_are_plain() {
        assert_eq!(
            super::slug("Northwind Mutual (demo)"),
            "northwind-mutual-demo"
        );
        assert_eq!(super::slug("  "), "scorecard");
        assert_eq!(super::slug("Ärger & Co"), "rger-co");
    }
}
