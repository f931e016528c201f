//! The admin HTTP API: health and readiness, Prometheus `/metrics`, prepaid accounts
//! (balance, reserved, live reservations, top-up, adjust), VPN provisioning (groups, members,
//! tariffs, accounts), and the live calls. Every change needs `Authorization: Bearer <token>`;
//! a bad request gets a 4xx with a JSON `{"error": …}` and changes nothing.
//! `docs/openapi.yaml` documents exactly [`ROUTES`]; a test keeps them equal.

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use actix_web::dev::Service;
use actix_web::http::{Method, StatusCode};
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use futures::future::{self, Either};
use metrics_exporter_prometheus::PrometheusHandle;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::engine::Engine;
use crate::ledger::{AdminError, AdminRequest};
use crate::prepaid::{AccountId, Money};
use crate::service::provisioning::{change, Account, Group, Member};
use crate::service::{ProvisioningError, Tariff};

/// Every route: (method, path). The OpenAPI document lists exactly these.
pub const ROUTES: &[(&str, &str)] = &[
    ("GET", "/health"),
    ("GET", "/ready"),
    ("GET", "/metrics"),
    ("GET", "/calls"),
    ("GET", "/ledger"),
    ("POST", "/ledger/snapshot"),
    ("GET", "/accounts/{id}"),
    ("PUT", "/accounts/{id}"),
    ("POST", "/accounts/{id}/topup"),
    ("POST", "/accounts/{id}/adjust"),
    ("GET", "/groups"),
    ("GET", "/groups/{id}"),
    ("PUT", "/groups/{id}"),
    ("DELETE", "/groups/{id}"),
    ("PUT", "/groups/{id}/members/{number}"),
    ("DELETE", "/groups/{id}/members/{number}"),
    ("GET", "/tariffs"),
    ("PUT", "/tariffs/{id}"),
    ("DELETE", "/tariffs/{id}"),
];

struct State {
    engine: Arc<Engine>,
    metrics: PrometheusHandle,
}

type Data = web::Data<State>;

fn error(status: StatusCode, msg: impl std::fmt::Display) -> HttpResponse {
    HttpResponse::build(status).json(json!({ "error": msg.to_string() }))
}

/// Check the bearer token; `Err` is the 401/403 to return.
#[allow(clippy::result_large_err)] // the response is built only when the request is refused
fn authorise(req: &HttpRequest, st: &State) -> Result<(), HttpResponse> {
    let token = &st.engine.config.admin.token;
    let given = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    match given {
        None => Err(error(StatusCode::UNAUTHORIZED, "bearer token required")),
        Some(_) if token.is_empty() => Err(error(StatusCode::FORBIDDEN, "changes are disabled")),
        Some(t) if constant_time_eq(t.as_bytes(), token.as_bytes()) => Ok(()),
        Some(_) => Err(error(StatusCode::FORBIDDEN, "wrong token")),
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

async fn health() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

async fn ready(st: Data) -> HttpResponse {
    let ledger = st.engine.services.accounts.is_healthy();
    let draining = st.engine.draining.load(Ordering::Relaxed);
    let body = json!({
        "ready": ledger && !draining,
        "ledger": if ledger { "ok" } else { "failed" },
        "draining": draining,
        "live_dialogues": st.engine.live_dialogues(),
    });
    if ledger && !draining {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}

async fn metrics(st: Data) -> HttpResponse {
    crate::metrics::sample_process();
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(st.metrics.render())
}

/// The `/calls` body: `{"calls": [{"link": …, "transaction_id": "0000abcd"}, …], "live": n}`.
/// Written straight from a list of plain pairs, without a JSON tree per call: the tree's many
/// small allocations for every live call stayed in the process's resident memory afterwards.
#[derive(Serialize)]
struct LiveCalls {
    calls: Vec<LiveCall>,
    live: usize,
}

#[derive(Serialize)]
struct LiveCall {
    link: u64,
    transaction_id: Hex8,
}

/// A local transaction id as eight hex digits.
struct Hex8(u32);

impl Serialize for Hex8 {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&format_args!("{:08x}", self.0))
    }
}

async fn calls(st: Data) -> HttpResponse {
    let calls: Vec<LiveCall> = st
        .engine
        .table
        .iter()
        .map(|e| LiveCall {
            link: e.link,
            transaction_id: Hex8(*e.key()),
        })
        .collect();
    let live = calls.len();
    HttpResponse::Ok().json(LiveCalls { calls, live })
}

fn admin_error(e: AdminError) -> HttpResponse {
    let status = match e {
        AdminError::UnknownAccount => StatusCode::NOT_FOUND,
        AdminError::InvalidAmount | AdminError::WouldGoNegative => StatusCode::UNPROCESSABLE_ENTITY,
        AdminError::LedgerUnavailable => StatusCode::SERVICE_UNAVAILABLE,
    };
    error(status, e)
}

async fn account(st: Data, id: web::Path<String>) -> HttpResponse {
    let req = AdminRequest::View {
        account: AccountId::new(&id),
    };
    match st.engine.services.accounts.admin(req).await {
        Ok(v) => HttpResponse::Ok().json(v),
        Err(e) => admin_error(e),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Amount {
    amount: Money,
}

async fn money(
    st: Data,
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Json<Amount>,
    adjust: bool,
) -> HttpResponse {
    if let Err(r) = authorise(&req, &st) {
        return r;
    }
    let account = AccountId::new(&id);
    let op = if adjust {
        AdminRequest::Adjust {
            account,
            amount: body.amount,
        }
    } else {
        if body.amount <= 0 {
            return error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "top-up amount must be positive",
            );
        }
        AdminRequest::TopUp {
            account,
            amount: body.amount,
        }
    };
    match st.engine.services.accounts.admin(op).await {
        Ok(v) => HttpResponse::Ok().json(v),
        Err(e) => admin_error(e),
    }
}

async fn topup(
    st: Data,
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Json<Amount>,
) -> HttpResponse {
    money(st, req, id, body, false).await
}

async fn adjust(
    st: Data,
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Json<Amount>,
) -> HttpResponse {
    money(st, req, id, body, true).await
}

/// Create or update an account: provisioning and ledger. A new account opens with
/// `balance`; an existing one keeps its ledger balance (use top-up/adjust to move money).
async fn put_account(
    st: Data,
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Json<Account>,
) -> HttpResponse {
    if let Err(r) = authorise(&req, &st) {
        return r;
    }
    let mut a = body.into_inner();
    if a.id != *id {
        return error(
            StatusCode::BAD_REQUEST,
            "account id in the body differs from the path",
        );
    }
    a.id = id.to_string();
    let upsert = crate::server::upsert_request(&a);
    if a.balance < 0 {
        // Refused by the ledger too; refused here so the provisioning is not changed either.
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "opening balance must not be negative",
        );
    }
    if let Err(e) = st
        .engine
        .services
        .provisioning
        .update(|d| change::upsert_account(d, a))
    {
        return provisioning_error(e);
    }
    let r = st.engine.services.accounts.admin(upsert).await;
    match r {
        Ok(v) => HttpResponse::Ok().json(v),
        Err(e) => admin_error(e),
    }
}

async fn groups(st: Data) -> HttpResponse {
    let p = st.engine.services.provisioning.snapshot();
    HttpResponse::Ok().json(&p.data().groups)
}

async fn group(st: Data, id: web::Path<String>) -> HttpResponse {
    let p = st.engine.services.provisioning.snapshot();
    match p.data().groups.iter().find(|g| g.id == *id) {
        Some(g) => HttpResponse::Ok().json(g),
        None => error(StatusCode::NOT_FOUND, format!("no group {id}")),
    }
}

fn provision(
    st: &State,
    req: &HttpRequest,
    change: impl FnOnce(&mut crate::service::ProvisioningData) -> Result<(), ProvisioningError>,
) -> HttpResponse {
    if let Err(r) = authorise(req, st) {
        return r;
    }
    match st.engine.services.provisioning.update(change) {
        Ok(_) => HttpResponse::Ok().json(json!({ "ok": true })),
        Err(e) => provisioning_error(e),
    }
}

/// The answer to a refused provisioning change: 404 for what the path names and does not
/// exist, 409 for what is still in use (or generated by a member range), 500 when the change
/// could not be persisted, 422 for an invalid body (including references to unknown tariffs
/// or accounts: the path exists, the body is wrong).
fn provisioning_error(e: ProvisioningError) -> HttpResponse {
    let status = match e {
        ProvisioningError::NotFound { .. } => StatusCode::NOT_FOUND,
        ProvisioningError::InUse { .. } | ProvisioningError::Generated { .. } => {
            StatusCode::CONFLICT
        }
        ProvisioningError::Io { .. } | ProvisioningError::Serialize(_) => {
            StatusCode::INTERNAL_SERVER_ERROR
        }
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    };
    error(status, e)
}

async fn put_group(
    st: Data,
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Json<Group>,
) -> HttpResponse {
    let g = body.into_inner();
    if g.id != *id {
        return error(
            StatusCode::BAD_REQUEST,
            "group id in the body differs from the path",
        );
    }
    provision(&st, &req, |d| change::upsert_group(d, g))
}

async fn delete_group(st: Data, req: HttpRequest, id: web::Path<String>) -> HttpResponse {
    provision(&st, &req, |d| change::delete_group(d, &id))
}

async fn put_member(
    st: Data,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: web::Json<Member>,
) -> HttpResponse {
    let (gid, number) = path.into_inner();
    let m = body.into_inner();
    if m.number != number {
        return error(
            StatusCode::BAD_REQUEST,
            "member number in the body differs from the path",
        );
    }
    provision(&st, &req, |d| change::upsert_member(d, &gid, m))
}

async fn delete_member(
    st: Data,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    let (gid, number) = path.into_inner();
    provision(&st, &req, |d| change::delete_member(d, &gid, &number))
}

async fn tariffs(st: Data) -> HttpResponse {
    let p = st.engine.services.provisioning.snapshot();
    HttpResponse::Ok().json(&p.data().tariffs)
}

async fn put_tariff(
    st: Data,
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Json<Tariff>,
) -> HttpResponse {
    let t = body.into_inner();
    if t.id != *id {
        return error(
            StatusCode::BAD_REQUEST,
            "tariff id in the body differs from the path",
        );
    }
    provision(&st, &req, |d| change::upsert_tariff(d, t))
}

async fn delete_tariff(st: Data, req: HttpRequest, id: web::Path<String>) -> HttpResponse {
    provision(&st, &req, |d| change::delete_tariff(d, &id))
}

/// `GET /ledger`: the embedded ledger's state (`{"backend": "postgres"}` for PostgreSQL,
/// whose state is the database's).
async fn ledger(st: Data) -> HttpResponse {
    match st.engine.services.accounts.embedded() {
        Some(l) => embedded_status(l.status()),
        None => HttpResponse::Ok().json(json!({ "backend": "postgres" })),
    }
}

fn embedded_status(status: crate::ledger::LedgerStatus) -> HttpResponse {
    HttpResponse::Ok().json(json!({ "backend": "embedded", "embedded": status }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SnapshotQuery {
    /// A full snapshot rather than the delta the automatic rule would choose.
    #[serde(default)]
    full: bool,
}

/// `POST /ledger/snapshot[?full=true]`: write a snapshot of the embedded ledger now (before a
/// backup or a planned stop); answers once it is durable, with the ledger's state.
async fn ledger_snapshot(st: Data, q: web::Query<SnapshotQuery>) -> HttpResponse {
    let Some(l) = st.engine.services.accounts.embedded().cloned() else {
        return error(
            StatusCode::CONFLICT,
            "the PostgreSQL backend has no snapshots",
        );
    };
    let full = q.full;
    let taken = web::block(move || {
        if full {
            l.full_snapshot_now()
        } else {
            l.snapshot_now()
        }
        .map(|_| l.status())
    })
    .await;
    match taken {
        Ok(Ok(status)) => embedded_status(status),
        Ok(Err(e)) => error(StatusCode::SERVICE_UNAVAILABLE, e),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e),
    }
}

fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/health", web::get().to(health))
        .route("/ready", web::get().to(ready))
        .route("/metrics", web::get().to(metrics))
        .route("/calls", web::get().to(calls))
        .route("/ledger", web::get().to(ledger))
        .route("/ledger/snapshot", web::post().to(ledger_snapshot))
        .route("/accounts/{id}", web::get().to(account))
        .route("/accounts/{id}", web::put().to(put_account))
        .route("/accounts/{id}/topup", web::post().to(topup))
        .route("/accounts/{id}/adjust", web::post().to(adjust))
        .route("/groups", web::get().to(groups))
        .route("/groups/{id}", web::get().to(group))
        .route("/groups/{id}", web::put().to(put_group))
        .route("/groups/{id}", web::delete().to(delete_group))
        .route("/groups/{id}/members/{number}", web::put().to(put_member))
        .route(
            "/groups/{id}/members/{number}",
            web::delete().to(delete_member),
        )
        .route("/tariffs", web::get().to(tariffs))
        .route("/tariffs/{id}", web::put().to(put_tariff))
        .route("/tariffs/{id}", web::delete().to(delete_tariff));
}

/// Start the admin HTTP server on the current actix System.
pub fn start(
    engine: Arc<Engine>,
    metrics: PrometheusHandle,
) -> std::io::Result<(actix_web::dev::ServerHandle, SocketAddr)> {
    let addr = engine.config.admin.listen;
    let state = web::Data::new(State { engine, metrics });
    let json_cfg = web::JsonConfig::default()
        .limit(1 << 20)
        .error_handler(|err, _req| {
            let resp = error(StatusCode::BAD_REQUEST, &err);
            actix_web::error::InternalError::from_response(err, resp).into()
        });
    let query_cfg = web::QueryConfig::default().error_handler(|err, _req| {
        let resp = error(StatusCode::BAD_REQUEST, &err);
        actix_web::error::InternalError::from_response(err, resp).into()
    });
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .app_data(json_cfg.clone())
            .app_data(query_cfg.clone())
            .wrap_fn(|req, srv| {
                // Every change needs the token, checked before the body is read, so an
                // unauthorised request learns nothing from body validation.
                let refused = match *req.method() {
                    Method::GET | Method::HEAD => None,
                    _ => req
                        .app_data::<Data>()
                        .and_then(|st| authorise(req.request(), st).err()),
                };
                match refused {
                    Some(resp) => Either::Left(future::ready(Ok(req.into_response(resp)))),
                    None => Either::Right(srv.call(req)),
                }
            })
            .configure(routes)
            .default_service(web::to(|| async {
                error(StatusCode::NOT_FOUND, "no such route")
            }))
    })
    .workers(1)
    .disable_signals()
    .bind(addr)?;
    let bound = server.addrs().first().copied().unwrap_or(addr);
    let server = server.run();
    let handle = server.handle();
    actix::spawn(async move {
        if let Err(e) = server.await {
            tracing::error!(error = %e, "admin HTTP server failed");
        }
    });
    Ok((handle, bound))
}
