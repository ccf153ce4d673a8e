//! A test application per test: its own database in a temporary folder, driven through
//! the real router with `tower::ServiceExt::oneshot`.

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use http_body_util::BodyExt;
use scorecard::app::{AppState, build_router};
use scorecard::config::Config;
use tower::ServiceExt;

pub struct TestApp {
    pub router: Router,
    pub state: AppState,
    url: String,
    _dir: std::sync::Arc<tempfile::TempDir>,
}

#[derive(Debug)]
pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl TestResponse {
    pub fn location(&self) -> &str {
        self.headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_else(|| {
                panic!(
                    "no Location header; status {} body {}",
                    self.status, self.body
                )
            })
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    #[track_caller]
    pub fn assert_status(&self, status: StatusCode) -> &Self {
        assert_eq!(self.status, status, "body: {}", self.body);
        self
    }
}

#[track_caller]
pub fn assert_redirect_to(response: &TestResponse, prefix: &str) {
    assert_eq!(
        response.status,
        StatusCode::SEE_OTHER,
        "body: {}",
        response.body
    );
    assert!(
        response.location().starts_with(prefix),
        "redirected to {} instead of {prefix}",
        response.location()
    );
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        TestApp::spawn_with(|_| {}).await
    }

    /// A test application with settings changed by `configure`.
    pub async fn spawn_with(configure: impl FnOnce(&mut Config)) -> TestApp {
        let dir = tempfile::tempdir().expect("temporary folder");
        let url = format!("sqlite://{}", dir.path().join("test.db").display());
        let mut config = Config::for_database(url.clone());
        configure(&mut config);
        let state = AppState::open(config).await.expect("database opens");
        TestApp {
            router: build_router(state.clone()),
            state,
            url,
            _dir: std::sync::Arc::new(dir),
        }
    }

    /// Another instance of the application on the same database, with nothing in memory:
    /// what a restarted server would show.
    pub async fn reopened(&self) -> TestApp {
        let state = AppState::open(Config::for_database(self.url.clone()))
            .await
            .expect("database opens");
        TestApp {
            router: build_router(state.clone()),
            state,
            url: self.url.clone(),
            _dir: self._dir.clone(),
        }
    }

    pub async fn send(&self, request: Request<Body>) -> TestResponse {
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("router answers");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        TestResponse {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    pub async fn get(&self, path: &str) -> TestResponse {
        self.send(Request::get(path).body(Body::empty()).unwrap())
            .await
    }

    pub async fn get_json(&self, path: &str) -> serde_json::Value {
        let response = self.get(path).await;
        response.assert_status(StatusCode::OK);
        response.json()
    }

    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> TestResponse {
        self.post_form_as(path, fields, "").await
    }

    /// Posts a form with the cookies of a participant (see `join`).
    pub async fn post_form_as(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        cookie: &str,
    ) -> TestResponse {
        let body = serde_urlencoded::to_string(fields).unwrap();
        let mut request =
            Request::post(path).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        if !cookie.is_empty() {
            request = request.header(header::COOKIE, cookie);
        }
        self.send(request.body(Body::from(body)).unwrap()).await
    }

    pub async fn get_as(&self, path: &str, cookie: &str) -> TestResponse {
        self.send(
            Request::get(path)
                .header(header::COOKIE, cookie)
                .body(Body::empty())
                .unwrap(),
        )
        .await
    }

    /// Names a participant the way a browser does, returning their `Cookie` header.
    pub async fn join(&self, name: &str) -> String {
        let response = self
            .post_form("/participant", &[("display_name", name), ("back", "/")])
            .await;
        assert_redirect_to(&response, "/");
        response
            .headers
            .get_all(header::SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_string())
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// Uploads `csv` as the multipart field `file`, as a browser (HTML) or an API client
    /// (JSON).
    pub async fn post_csv(&self, path: &str, csv: &str, json: bool) -> TestResponse {
        let boundary = "scorecard-test-boundary";
        let body = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"w.csv\"\r\nContent-Type: text/csv\r\n\r\n{csv}\r\n--{boundary}--\r\n"
        );
        let mut request = Request::post(path).header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={boundary}"),
        );
        if json {
            request = request.header(header::ACCEPT, "application/json");
        }
        self.send(request.body(Body::from(body)).unwrap()).await
    }

    /// Creates a scorecard through the form and returns its edit link (`/s/{token}`).
    pub async fn create_scorecard(&self, name: &str, currency: &str) -> String {
        let response = self
            .post_form("/scorecards", &[("name", name), ("currency", currency)])
            .await;
        assert_redirect_to(&response, "/s/");
        response.location().to_string()
    }

    /// The view link of a scorecard, read from its settings page.
    pub async fn view_link(&self, edit: &str) -> String {
        let page = self.get(&format!("{edit}/settings")).await;
        let start = page.body.find("/v/").expect("settings show the view link");
        page.body[start..start + 3 + 43].to_string()
    }

    /// Adds a workflow through the form with sensible defaults, overridden by `fields`.
    pub async fn add_workflow(&self, edit: &str, fields: &[(&str, &str)]) -> TestResponse {
        let mut all = WORKFLOW_FIELDS.to_vec();
        for (k, v) in fields {
            all.retain(|(name, _)| name != k);
            all.push((k, v));
        }
        self.post_form(&format!("{edit}/workflows"), &all).await
    }
}

/// A complete workflow form, as `add_workflow` sends it unless told otherwise.
pub const WORKFLOW_FIELDS: [(&str, &str); 11] = [
    ("name", "Ticket triage"),
    ("current_tier", "frontier"),
    ("monthly_spend", "1000"),
    ("stakes", "no"),
    ("ambiguity", "no"),
    ("business_case", "yes"),
    ("sensitive_data", "no"),
    ("defended", "yes"),
    ("owner", "Ada Lovelace"),
    ("metric", "Tickets closed per hour"),
    ("next_step", "Move to a small model"),
];

/// The part of a path after the prefix: the token of `/s/{token}`.
pub fn token_of(link: &str) -> &str {
    &link[3..]
}

/// The real server on a real socket (port 0), for tests that need HTTP itself.
pub struct TestServer {
    pub base: String,
    pub state: AppState,
    stop: tokio::sync::oneshot::Sender<()>,
    handle: tokio::task::JoinHandle<std::io::Result<()>>,
    _dir: tempfile::TempDir,
}

impl TestServer {
    pub async fn spawn() -> TestServer {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("s.db").display());
        let state = AppState::open(Config::for_database(url)).await.unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let hub = state.hub.clone();
        let shutdown = async move {
            let _ = stopped.await;
            hub.close();
        };
        let handle = tokio::spawn(scorecard::app::serve(
            listener,
            build_router(state.clone()),
            shutdown,
        ));
        TestServer {
            base,
            state,
            stop,
            handle,
            _dir: dir,
        }
    }

    pub fn client() -> reqwest::Client {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
    }

    /// Creates a USD scorecard over HTTP and returns its edit link (`/s/{token}`).
    pub async fn create_scorecard(&self, client: &reqwest::Client, name: &str) -> String {
        client
            .post(format!("{}/scorecards", self.base))
            .form(&[("name", name), ("currency", "USD")])
            .send()
            .await
            .unwrap()
            .headers()["location"]
            .to_str()
            .unwrap()
            .to_string()
    }

    /// Begins a graceful shutdown and waits, at most 10 s, for the server to finish.
    pub async fn stop(self) -> std::io::Result<()> {
        let _ = self.stop.send(());
        tokio::time::timeout(std::time::Duration::from_secs(10), self.handle)
            .await
            .expect("the server finished shutting down")
            .expect("the server task")
    }
}
