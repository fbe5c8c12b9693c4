//! `Server`: a WebTransport server on one QUIC endpoint.
//!
//! Incoming connections are accepted by a task of ours rather than the crate's
//! `Server::accept`, so that every handshake (QUIC, HTTP/3 SETTINGS, extended CONNECT) is
//! bounded by `handshake_timeout` and at most `max_pending_handshakes` run at once; the
//! resulting session requests wait in a bounded queue for `accept()`.

use std::sync::Arc;
use std::time::Duration;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use tokio::sync::{mpsc, watch, Mutex, Semaphore};
use web_transport_quinn as wtq;
use wtq::quinn;

use crate::args::{
    addr_tuple, check_code, check_reason, parse_addr, positive_seconds, seconds_or_zero, Int,
    Seconds,
};
use crate::cert::{load_certificate_chain, load_private_key};
use crate::config::{crypto_provider, Transport, TransportConfig};
use crate::endpoint::Endpoint;
use crate::errors::{os_error, Error};
use crate::operation::spawn;
use crate::registry::Registry;
use crate::request::SessionRequest;
use crate::runtime::runtime;
use crate::stream_state::unless_closed;
use crate::unclaimed::{Claim, Unclaimed};

/// How many handshaken session requests may wait for `accept()`.
const REQUEST_BACKLOG: usize = 1024;

/// A session request on its way to Python; kept for the next `accept()` if cancelled.
struct DeliveredRequest(Claim<SessionRequest>);

impl crate::operation::Outcome for DeliveredRequest {
    fn into_py(mut self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        match self.0.take() {
            Some(r) => Ok(Bound::new(py, r)?.into_any().unbind()),
            None => Ok(py.None()),
        }
    }

    fn abandon(self) {
        self.0.abandon();
    }
}

impl crate::operation::Outcome for Option<DeliveredRequest> {
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

#[pyclass(frozen, module = "web_transport")]
pub struct Server {
    endpoint: Endpoint,
    requests: Arc<Mutex<mpsc::Receiver<wtq::Request>>>,
    transport: Arc<quinn::TransportConfig>,
    shutdown: watch::Sender<bool>,
    sessions: Registry,
    /// Session requests whose `accept()` was cancelled after they arrived.
    unclaimed: Unclaimed<SessionRequest>,
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
    fn next_request(&self) -> impl std::future::Future<Output = Option<DeliveredRequest>> + Send {
        let requests = self.requests.clone();
        let mut shutdown = self.shutdown.subscribe();
        let sessions = self.sessions.clone();
        let endpoint = self.endpoint.info.clone();
        let unclaimed = self.unclaimed.clone();
        async move {
            let request = match unclaimed.pop() {
                Some(r) => Some(r),
                None => unless_closed(&mut shutdown, async { requests.lock().await.recv().await })
                    .await
                    .flatten()
                    .map(|r| SessionRequest::new(r, sessions, endpoint)),
            };
            request.map(|r| DeliveredRequest(unclaimed.claim(r)))
        }
    }

    /// `async with` exit: close (code 0) and wait for the close to complete.
    fn exit<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.shutdown_now(0, "", Duration::from_secs(1))?;
        self.wait_closed(py)
    }

    fn shutdown_now(&self, code: u32, reason: &str, timeout: Duration) -> PyResult<()> {
        if self.endpoint.mark_closing() {
            return Ok(());
        }
        self.shutdown.send_replace(true);
        self.endpoint.start_drain(timeout);
        let rt = runtime()?;
        let _guard = rt.enter();
        self.endpoint.quinn.set_server_config(None);
        let sessions = self.sessions.take();
        for s in &sessions {
            s.close(code, reason.as_bytes());
        }
        let endpoint = self.endpoint.quinn.clone();
        let reason = reason.as_bytes().to_vec();
        rt.spawn(async move {
            let all = futures::future::join_all(sessions.iter().map(|s| s.closed()));
            let _ = tokio::time::timeout(timeout, all).await;
            endpoint.close(code.into(), &reason);
        });
        Ok(())
    }
}

#[gate::pymethods(async_with = exit)]
impl Server {
    #[new]
    #[pyo3(signature = (
        *,
        certificate_chain,
        private_key,
        bind = "[::]:4433",
        congestion_control = "default",
        max_idle_timeout = Some(Seconds(30.0)),
        keep_alive_interval = None,
        transport = None,
        handshake_timeout = Seconds(10.0),
        max_pending_handshakes = Int(256),
        reuse_port = false,
    ),
    // The Some(...) and Int defaults spelled out (PyO3 shows them as `...`).
    text_signature = "(*, certificate_chain, private_key, bind='[::]:4433', \
        congestion_control='default', max_idle_timeout=30.0, keep_alive_interval=None, \
        transport=None, handshake_timeout=10.0, max_pending_handshakes=256, \
        reuse_port=False)"
    )]
    #[allow(clippy::too_many_arguments)]
    fn new(
        certificate_chain: &Bound<'_, PyAny>,
        private_key: &Bound<'_, PyAny>,
        bind: &str,
        congestion_control: &str,
        max_idle_timeout: Option<Seconds>,
        keep_alive_interval: Option<Seconds>,
        transport: Option<Bound<'_, TransportConfig>>,
        handshake_timeout: Seconds,
        max_pending_handshakes: Int,
        reuse_port: bool,
    ) -> PyResult<Self> {
        let max_pending_handshakes = max_pending_handshakes.0;
        let settings = Transport::parse(congestion_control, transport)?
            .idle_timers(max_idle_timeout, keep_alive_interval)?;
        let handshake_timeout = positive_seconds("handshake_timeout", handshake_timeout)?;
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
            .map_err(|e| os_error(&format!("cannot bind {bind}"), &e))?;
        let (tx, rx) = mpsc::channel(REQUEST_BACKLOG);
        rt.spawn(accept_loop(
            endpoint.clone(),
            tx,
            handshake_timeout,
            max_pending,
        ));
        Ok(Self {
            endpoint: Endpoint::new(endpoint, &settings),
            requests: Arc::new(Mutex::new(rx)),
            transport,
            shutdown: watch::channel(false).0,
            sessions: Registry::default(),
            unclaimed: Unclaimed::default(),
        })
    }

    /// Wait for the next session request; `None` once the server is closed.
    fn accept<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let next = self.next_request();
        spawn(py, async move { Ok(next.await) })
    }

    fn __aiter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __anext__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let next = self.next_request();
        spawn(py, async move { next.await.ok_or(Error::EndOfIteration) })
    }

    /// Stop accepting, close every session gracefully (close capsule with `code` and
    /// `reason`), then close the endpoint once they are closed or `timeout` seconds passed.
    #[pyo3(
        signature = (code = None, reason = "", *, timeout = Seconds(1.0)),
        text_signature = "(self, code=0, reason='', *, timeout=1.0)"
    )]
    fn close(
        &self,
        code: Option<&Bound<'_, PyAny>>,
        reason: &str,
        timeout: Seconds,
    ) -> PyResult<()> {
        let code = check_code("code", code)?;
        check_reason(reason)?;
        let timeout = seconds_or_zero("timeout", timeout)?;
        self.shutdown_now(code, reason, timeout)
    }

    /// Wait until every connection of the endpoint is closed (after `close()`: at most the
    /// close timeout plus `endpoint::DRAIN_LIMIT`).
    fn wait_closed<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.endpoint.wait_closed(py)
    }

    /// Replace the certificate and key for new connections; existing sessions keep theirs.
    fn reload_certificates(
        &self,
        certificate_chain: &Bound<'_, PyAny>,
        private_key: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        let config = server_config(certificate_chain, private_key, self.transport.clone())?;
        self.endpoint.quinn.set_server_config(Some(config));
        Ok(())
    }

    #[getter]
    fn local_addr(&self) -> PyResult<(String, u16)> {
        let addr = self
            .endpoint
            .quinn
            .local_addr()
            .map_err(|e| pyo3::exceptions::PyOSError::new_err(e.to_string()))?;
        Ok(addr_tuple(addr))
    }

    fn __repr__(&self) -> String {
        match self.endpoint.quinn.local_addr() {
            Ok(addr) => format!("<Server {addr}>"),
            Err(_) => "<Server>".into(),
        }
    }
}
