//! `SessionRequest`: a client's extended CONNECT (draft-ietf-webtrans-http3 §3.2) awaiting
//! the server's answer.

use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::Duration;

/// How long a rejected connection stays open for the client to read the status.
const REJECT_LINGER: Duration = Duration::from_secs(3);

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use web_transport_quinn as wtq;
use wtq::proto::ConnectResponse;

use crate::args::{addr_tuple, Int};
use crate::endpoint::EndpointInfo;
use crate::errors::Error;
use crate::operation::spawn;
use crate::registry::Registry;
use crate::session::NewSession;

#[pyclass(frozen, module = "web_transport")]
pub struct SessionRequest {
    inner: Mutex<Option<wtq::Request>>,
    url: String,
    headers: Vec<(String, String)>,
    protocols: Vec<String>,
    remote: SocketAddr,
    registry: Registry,
    endpoint: EndpointInfo,
}

impl SessionRequest {
    pub fn new(request: wtq::Request, registry: Registry, endpoint: EndpointInfo) -> Self {
        let headers = request
            .headers
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        Self {
            url: request.url.to_string(),
            protocols: request.protocols.clone(),
            remote: request.conn().remote_address(),
            headers,
            registry,
            endpoint,
            inner: Mutex::new(Some(request)),
        }
    }

    fn take(&self) -> Result<wtq::Request, Error> {
        self.inner
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
            .ok_or(Error::SessionClosedLocally(
                "this session request was already accepted or rejected",
            ))
    }
}

#[gate::pymethods]
impl SessionRequest {
    /// The URL of the CONNECT request (`https://host:port/path?query`).
    #[getter]
    fn url(&self) -> &str {
        &self.url
    }

    /// The request headers, lower-case names; repeated headers joined with ", ".
    #[getter]
    fn headers<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let dict = PyDict::new(py);
        for (k, v) in &self.headers {
            match dict.get_item(k)? {
                Some(prev) => dict.set_item(k, format!("{}, {v}", prev.extract::<String>()?))?,
                None => dict.set_item(k, v)?,
            }
        }
        Ok(dict)
    }

    /// The subprotocols the client offered (WT-Available-Protocols), in its order.
    #[getter]
    fn protocols(&self) -> Vec<String> {
        self.protocols.clone()
    }

    #[getter]
    fn remote_address(&self) -> (String, u16) {
        addr_tuple(self.remote)
    }

    /// Accept the session (200), optionally choosing one of the offered subprotocols.
    #[pyo3(signature = (*, protocol = None))]
    fn accept<'py>(
        &self,
        py: Python<'py>,
        protocol: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        if let Some(p) = &protocol {
            if !self.protocols.iter().any(|o| o == p) {
                return Err(PyValueError::new_err(format!(
                    "protocol {p:?} was not offered by the client (offered: {:?})",
                    self.protocols
                )));
            }
        }
        let request = self.take();
        let registry = self.registry.clone();
        let endpoint = self.endpoint.clone();
        spawn(py, async move {
            let request = request?;
            let mut response = ConnectResponse::OK;
            if let Some(p) = protocol {
                response = response.with_protocol(p);
            }
            let session = std::sync::Arc::new(request.respond(response).await?);
            registry.add(&session);
            Ok(NewSession(session, endpoint))
        })
    }

    /// Reject the session with an HTTP status code (not 2xx).
    #[pyo3(signature = (status_code = Int(404)), text_signature = "(self, status_code=404)")]
    fn reject<'py>(&self, py: Python<'py>, status_code: Int) -> PyResult<Bound<'py, PyAny>> {
        let status_code = status_code.0;
        let status = u16::try_from(status_code)
            .ok()
            .filter(|s| (100..=599).contains(s) && !(200..=299).contains(s))
            .and_then(|s| http::StatusCode::from_u16(s).ok())
            .ok_or_else(|| {
                PyValueError::new_err(format!(
                    "status_code must be an HTTP status between 100 and 599 outside 2xx, got \
                     {status_code}"
                ))
            })?;
        let request = self.take();
        spawn(py, async move {
            let request = request?;
            // Answer with the status but keep the session's HTTP/3 streams (control,
            // QPACK) open until the client has read it and closed, bounded: dropping them
            // would send STOP_SENDING on critical streams (RFC 9114 §6.2.1).
            let session = request
                .respond(wtq::proto::ConnectResponse::new(status))
                .await?;
            tokio::spawn(async move {
                let conn = wtq::quinn::Connection::clone(&session);
                let _ = tokio::time::timeout(REJECT_LINGER, conn.closed()).await;
                conn.close(0x100u32.into(), b"");
                drop(session);
            });
            Ok(())
        })
    }

    fn __repr__(&self) -> String {
        format!("<SessionRequest {} from {}>", self.url, self.remote)
    }
}
