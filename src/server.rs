//! `Server`: a WebTransport server on one QUIC endpoint.
//!
//! Incoming connections are accepted by a task of ours rather than the crate's
//! `Server::accept`, so that every handshake (QUIC, HTTP/3 SETTINGS, extended CONNECT) is
//! bounded by `handshake_timeout` and at most `max_pending_handshakes` run at once; the
//! resulting session requests wait in a bounded queue for `accept()`.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use tokio::sync::{mpsc, watch, Mutex, Semaphore};
use web_transport_quinn as wtq;
use wtq::quinn;

use crate::cert::{load_certificate_chain, load_private_key};
use crate::config::{crypto_provider, Transport, TransportConfig};
use crate::errors::{EndpointInfo, Error};
use crate::net::{addr_tuple, parse_addr, DrainDeadline, Int};
use crate::operation::spawn;
use crate::request::SessionRequest;
use crate::runtime::{runtime, unless_closed};

/// How many handshaken session requests may wait for `accept()`.
const REQUEST_BACKLOG: usize = 1024;

/// Session requests whose `accept()` was cancelled after they arrived.
type Orphans = Arc<std::sync::Mutex<std::collections::VecDeque<SessionRequest>>>;

/// A session request on its way to Python; kept for the next `accept()` if cancelled.
struct Pending {
    request: Option<SessionRequest>,
    orphans: Orphans,
}

impl crate::operation::Outcome for Pending {
    fn into_py(mut self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        match self.request.take() {
            Some(r) => Ok(Bound::new(py, r)?.into_any().unbind()),
            None => Ok(py.None()),
        }
    }

    fn abandon(mut self) {
        if let Some(r) = self.request.take() {
            self.orphans
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push_back(r);
        }
    }
}

impl crate::operation::Outcome for Option<Pending> {
    fn into_py(self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        match self {
            Some(p) => p.into_py(py),
            None => Ok(py.None()),
        }
    }

    fn abandon(self) {
        if let Some(p) = self {
            p.abandon();
        }
    }
}

/// The sessions a server accepted, so that `close()` can close each gracefully.
#[derive(Clone, Default)]
pub struct Registry(Arc<std::sync::Mutex<Sessions>>);

#[derive(Default)]
struct Sessions {
    /// Weak: a session the application dropped and whose tasks ended is not kept alive
    /// (with its whole connection state) just to be closed again at shutdown.
    list: Vec<std::sync::Weak<wtq::Session>>,
    /// Forget dropped sessions once the list reaches this length (amortised O(1) adds).
    prune_at: usize,
}

impl Registry {
    fn lock(&self) -> std::sync::MutexGuard<'_, Sessions> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Remember a new session, forgetting dropped ones now and then.
    pub fn add(&self, session: &Arc<wtq::Session>) {
        let mut sessions = self.lock();
        if sessions.list.len() >= sessions.prune_at {
            sessions.list.retain(|s| s.strong_count() > 0);
            sessions.prune_at = (2 * sessions.list.len()).max(16);
        }
        sessions.list.push(Arc::downgrade(session));
    }

    fn take(&self) -> Vec<Arc<wtq::Session>> {
        let mut sessions = self.lock();
        sessions.prune_at = 0;
        std::mem::take(&mut sessions.list)
            .iter()
            .filter_map(std::sync::Weak::upgrade)
            .collect()
    }
}

#[pyclass(frozen, module = "web_transport")]
pub struct Server {
    endpoint: quinn::Endpoint,
    requests: Arc<Mutex<mpsc::Receiver<wtq::Request>>>,
    transport: Arc<quinn::TransportConfig>,
    /// Its `closing` flag is the server's: set once `close()` began.
    info: EndpointInfo,
    drain: DrainDeadline,
    shutdown: watch::Sender<bool>,
    sessions: Registry,
    orphans: Orphans,
}

fn server_config(
    chain: &Bound<'_, PyAny>,
    key: &Bound<'_, PyAny>,
    transport: Arc<quinn::TransportConfig>,
) -> PyResult<quinn::ServerConfig> {
    let chain = load_certificate_chain(chain, "certificate_chain")?;
    let key = load_private_key(key, "private_key")?;
    let mut tls = rustls::ServerConfig::builder_with_provider(crypto_provider())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(|e| PyValueError::new_err(format!("TLS configuration: {e}")))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| {
            PyValueError::new_err(format!(
                "private_key does not match certificate_chain or is unsupported: {e}"
            ))
        })?;
    tls.alpn_protocols = vec![wtq::ALPN.as_bytes().to_vec()];
    tls.max_early_data_size = 0;
    let crypto = quinn::crypto::rustls::QuicServerConfig::try_from(tls)
        .map_err(|e| PyValueError::new_err(format!("TLS configuration: {e}")))?;
    let mut config = quinn::ServerConfig::with_crypto(Arc::new(crypto));
    config.transport_config(transport);
    Ok(config)
}

async fn accept_loop(
    endpoint: quinn::Endpoint,
    requests: mpsc::Sender<wtq::Request>,
    handshake_timeout: Duration,
    max_pending: usize,
) {
    let pending = Arc::new(Semaphore::new(max_pending));
    while let Some(incoming) = endpoint.accept().await {
        let Ok(permit) = pending.clone().try_acquire_owned() else {
            tracing::debug!("refusing a connection: too many pending handshakes");
            incoming.refuse();
            continue;
        };
        let requests = requests.clone();
        tokio::spawn(async move {
            let handshake = async {
                let conn = incoming.await.map_err(wtq::ServerError::from)?;
                wtq::Request::accept(conn).await
            };
            match tokio::time::timeout(handshake_timeout, handshake).await {
                Ok(Ok(request)) => {
                    drop(permit);
                    let _ = requests.send(request).await;
                }
                Ok(Err(err)) => tracing::debug!(%err, "WebTransport handshake failed"),
                Err(_) => tracing::debug!("WebTransport handshake timed out"),
            }
        });
    }
}

impl Server {
    /// The next handshaken request, `None` once the server is closing.
    fn next_request(&self) -> impl std::future::Future<Output = Option<Pending>> + Send {
        let requests = self.requests.clone();
        let mut shutdown = self.shutdown.subscribe();
        let sessions = self.sessions.clone();
        let endpoint = self.info.clone();
        let orphans = self.orphans.clone();
        async move {
            let orphan = orphans
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .pop_front();
            let request = match orphan {
                Some(r) => Some(r),
                None => unless_closed(&mut shutdown, async { requests.lock().await.recv().await })
                    .await
                    .flatten()
                    .map(|r| SessionRequest::new(r, sessions, endpoint)),
            };
            request.map(|r| Pending {
                request: Some(r),
                orphans,
            })
        }
    }

    fn shutdown_now(&self, code: u32, reason: &str, timeout: Duration) -> PyResult<()> {
        if self.info.closing.swap(true, Ordering::SeqCst) {
            return Ok(());
        }
        self.shutdown.send_replace(true);
        self.drain.start(timeout);
        let rt = runtime()?;
        let _guard = rt.enter();
        self.endpoint.set_server_config(None);
        let sessions = self.sessions.take();
        for s in &sessions {
            s.close(code, reason.as_bytes());
        }
        let endpoint = self.endpoint.clone();
        let reason = reason.as_bytes().to_vec();
        rt.spawn(async move {
            let all = futures::future::join_all(sessions.iter().map(|s| s.closed()));
            let _ = tokio::time::timeout(timeout, all).await;
            endpoint.close(code.into(), &reason);
        });
        Ok(())
    }
}

#[pymethods]
impl Server {
    #[new]
    #[pyo3(signature = (
        *,
        certificate_chain,
        private_key,
        bind = "[::]:4433",
        congestion_control = "default",
        max_idle_timeout = Some(30.0),
        keep_alive_interval = None,
        transport = None,
        handshake_timeout = 10.0,
        max_pending_handshakes = Int(256),
        reuse_port = false,
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        certificate_chain: &Bound<'_, PyAny>,
        private_key: &Bound<'_, PyAny>,
        bind: &str,
        congestion_control: &str,
        max_idle_timeout: Option<f64>,
        keep_alive_interval: Option<f64>,
        transport: Option<Bound<'_, TransportConfig>>,
        handshake_timeout: f64,
        max_pending_handshakes: Int,
        reuse_port: bool,
    ) -> PyResult<Self> {
        let _entered = crate::shutdown::enter();
        let max_pending_handshakes = max_pending_handshakes.0;
        let settings = Transport::parse(
            congestion_control,
            max_idle_timeout,
            keep_alive_interval,
            transport.map(|t| t.get().clone()),
        )?;
        if !(handshake_timeout.is_finite() && handshake_timeout > 0.0 && handshake_timeout < 1e6) {
            return Err(PyValueError::new_err(format!(
                "handshake_timeout must be a positive number of seconds, got {handshake_timeout}"
            )));
        }
        let max_pending = usize::try_from(max_pending_handshakes)
            .ok()
            .filter(|n| (1..=1_000_000).contains(n))
            .ok_or_else(|| {
                PyValueError::new_err(format!(
                    "max_pending_handshakes must be between 1 and 1000000, got \
                     {max_pending_handshakes}"
                ))
            })?;
        let transport = settings.quinn()?;
        let config = server_config(certificate_chain, private_key, transport.clone())?;
        let addr = parse_addr("bind", bind)?;
        let rt = runtime()?;
        let _guard = rt.enter();
        let socket = crate::udp_socket::bind(bind, addr, reuse_port)?;
        let tokio = Arc::new(quinn::TokioRuntime);
        let endpoint = quinn::Endpoint::new(Default::default(), Some(config), socket, tokio)
            .map_err(|e| {
                pyo3::exceptions::PyOSError::new_err((
                    e.raw_os_error().unwrap_or(0),
                    format!("cannot bind {bind}: {e}"),
                ))
            })?;
        let (tx, rx) = mpsc::channel(REQUEST_BACKLOG);
        rt.spawn(accept_loop(
            endpoint.clone(),
            tx,
            Duration::from_secs_f64(handshake_timeout),
            max_pending,
        ));
        Ok(Self {
            endpoint,
            requests: Arc::new(Mutex::new(rx)),
            transport,
            info: EndpointInfo::new(&settings),
            drain: DrainDeadline::default(),
            shutdown: watch::channel(false).0,
            sessions: Registry::default(),
            orphans: Orphans::default(),
        })
    }

    /// Wait for the next session request; `None` once the server is closed.
    fn accept<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let _entered = crate::shutdown::enter();
        let next = self.next_request();
        spawn(py, async move { Ok(next.await) })
    }

    fn __aiter__(slf: Py<Self>) -> Py<Self> {
        let _entered = crate::shutdown::enter();
        slf
    }

    fn __anext__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let _entered = crate::shutdown::enter();
        let next = self.next_request();
        spawn(py, async move { next.await.ok_or(Error::EndOfIteration) })
    }

    /// Stop accepting, close every session gracefully (close capsule with `code` and
    /// `reason`), then close the endpoint once they are closed or `timeout` seconds passed.
    #[pyo3(
        signature = (code = None, reason = "", *, timeout = 1.0),
        text_signature = "(self, code=0, reason='', *, timeout=1.0)"
    )]
    fn close(&self, code: Option<&Bound<'_, PyAny>>, reason: &str, timeout: f64) -> PyResult<()> {
        let _entered = crate::shutdown::enter();
        let code = crate::errors::check_code("code", code)?;
        crate::errors::check_reason(reason)?;
        if !(timeout.is_finite() && (0.0..1e6).contains(&timeout)) {
            return Err(PyValueError::new_err(format!(
                "timeout must be a number of seconds >= 0, got {timeout}"
            )));
        }
        self.shutdown_now(code, reason, Duration::from_secs_f64(timeout))
    }

    /// Wait until every connection of the endpoint is closed (after `close()`: at most the
    /// close timeout plus `net::DRAIN_LIMIT`).
    fn wait_closed<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let _entered = crate::shutdown::enter();
        let idle = self.drain.idle(self.endpoint.clone());
        spawn(py, async move {
            idle.await;
            Ok(())
        })
    }

    /// Replace the certificate and key for new connections; existing sessions keep theirs.
    fn reload_certificates(
        &self,
        certificate_chain: &Bound<'_, PyAny>,
        private_key: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        let _entered = crate::shutdown::enter();
        let config = server_config(certificate_chain, private_key, self.transport.clone())?;
        self.endpoint.set_server_config(Some(config));
        Ok(())
    }

    #[getter]
    fn local_addr(&self) -> PyResult<(String, u16)> {
        let _entered = crate::shutdown::enter();
        let addr = self
            .endpoint
            .local_addr()
            .map_err(|e| pyo3::exceptions::PyOSError::new_err(e.to_string()))?;
        Ok(addr_tuple(addr))
    }

    fn __aenter__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        let _entered = crate::shutdown::enter();
        let this = slf.clone().into_any().unbind();
        spawn(slf.py(), async move { Ok(this) })
    }

    #[pyo3(signature = (*_args))]
    fn __aexit__<'py>(
        &self,
        py: Python<'py>,
        _args: &Bound<'py, pyo3::types::PyTuple>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let _entered = crate::shutdown::enter();
        self.shutdown_now(0, "", Duration::from_secs(1))?;
        self.wait_closed(py)
    }

    fn __repr__(&self) -> String {
        let _entered = crate::shutdown::enter();
        match self.endpoint.local_addr() {
            Ok(addr) => format!("<Server {addr}>"),
            Err(_) => "<Server>".into(),
        }
    }
}
