//! `Client`: a QUIC endpoint that opens WebTransport sessions, with certificate checks by
//! system roots, custom CA certificates, pinned SHA-256 hashes (W3C
//! `serverCertificateHashes` rules) or, dangerously, none.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use web_transport_quinn as wtq;
use wtq::proto::ConnectRequest;
use wtq::quinn;

use crate::args::{check_code, parse_addr, Seconds, Strings};
use crate::cert::load_certificate_chain;
use crate::config::{crypto_provider, Transport, TransportConfig};
use crate::endpoint::Endpoint;
use crate::errors::os_error;
use crate::operation::spawn;
use crate::runtime::runtime;
use crate::session::NewSession;
use crate::tls::{Check, Verifier};

#[pyclass(frozen, module = "web_transport")]
pub struct Client {
    inner: wtq::Client,
    endpoint: Endpoint,
}

static WARNED_NO_VERIFICATION: AtomicBool = AtomicBool::new(false);

fn warn_no_verification(py: Python<'_>) -> PyResult<()> {
    if WARNED_NO_VERIFICATION.swap(true, Ordering::SeqCst) {
        return Ok(());
    }
    py.import("logging")?
        .call_method1("getLogger", ("web_transport",))?
        .call_method1(
            "warning",
            (
                "DANGER: Client(no_cert_verification=True) accepts any server certificate; \
              use it only for local testing",
            ),
        )?;
    Ok(())
}

fn root_store(ca_certificates: Option<&Bound<'_, PyAny>>) -> PyResult<rustls::RootCertStore> {
    let mut roots = rustls::RootCertStore::empty();
    match ca_certificates {
        Some(cas) => {
            for cert in load_certificate_chain(cas, "ca_certificates")? {
                roots.add(cert).map_err(|e| {
                    PyValueError::new_err(format!("ca_certificates: unusable certificate: {e}"))
                })?;
            }
        }
        None => {
            let native = rustls_native_certs::load_native_certs();
            for cert in native.certs {
                let _ = roots.add(cert);
            }
        }
    }
    Ok(roots)
}

fn parse_hashes(hashes: &Bound<'_, PyAny>) -> PyResult<Vec<Vec<u8>>> {
    let list = hashes.cast::<PyList>().map_err(|_| {
        PyTypeError::new_err("server_certificate_hashes must be a list of 32-byte SHA-256 digests")
    })?;
    let mut out = Vec::with_capacity(list.len());
    for item in list.iter() {
        let digest: Vec<u8> = item
            .extract()
            .map_err(|_| PyTypeError::new_err("server_certificate_hashes items must be bytes"))?;
        if digest.len() != 32 {
            return Err(PyValueError::new_err(format!(
                "server_certificate_hashes items must be 32-byte SHA-256 digests, got {} bytes",
                digest.len()
            )));
        }
        out.push(digest);
    }
    if out.is_empty() {
        return Err(PyValueError::new_err(
            "server_certificate_hashes is empty: pass None to use CA verification",
        ));
    }
    Ok(out)
}

fn request_headers(headers: &Bound<'_, PyAny>) -> PyResult<http::HeaderMap> {
    let mut map = http::HeaderMap::new();
    let pairs: Vec<(String, String)> = if let Ok(dict) = headers.cast::<PyDict>() {
        dict.iter()
            .map(|(k, v)| Ok((k.extract()?, v.extract()?)))
            .collect::<PyResult<_>>()
            .map_err(|_| PyTypeError::new_err("headers must map str to str"))?
    } else {
        headers
            .extract()
            .map_err(|_| PyTypeError::new_err("headers must be a dict or a list of (str, str)"))?
    };
    for (k, v) in pairs {
        let name = http::HeaderName::from_bytes(k.as_bytes())
            .map_err(|_| PyValueError::new_err(format!("headers: invalid header name {k:?}")))?;
        let value = http::HeaderValue::from_str(&v)
            .map_err(|_| PyValueError::new_err(format!("headers: invalid value for {k:?}")))?;
        map.append(name, value);
    }
    Ok(map)
}

impl Client {
    /// `async with` exit: close (code 0) and wait for the close to complete.
    fn exit<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.close_now(0, b"")?;
        self.wait_closed(py)
    }

    /// Close the endpoint (every connection, QUIC CONNECTION_CLOSE with `code` and
    /// `reason`) and start the drain deadline of `wait_closed`.
    fn close_now(&self, code: u32, reason: &[u8]) -> PyResult<()> {
        let _guard = runtime()?.enter();
        self.endpoint.mark_closing();
        self.endpoint.start_drain(std::time::Duration::ZERO);
        self.endpoint.quinn.close(code.into(), reason);
        Ok(())
    }
}

#[gate::pymethods(async_with = exit)]
impl Client {
    #[new]
    #[pyo3(signature = (
        *,
        server_certificate_hashes = None,
        no_cert_verification = false,
        ca_certificates = None,
        congestion_control = "default",
        max_idle_timeout = Some(Seconds(30.0)),
        keep_alive_interval = None,
        transport = None,
        bind = None,
    ),
    // The Some(...) default spelled out (PyO3 shows it as `...`).
    text_signature = "(*, server_certificate_hashes=None, no_cert_verification=False, \
        ca_certificates=None, congestion_control='default', max_idle_timeout=30.0, \
        keep_alive_interval=None, transport=None, bind=None)"
    )]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        server_certificate_hashes: Option<&Bound<'_, PyAny>>,
        no_cert_verification: bool,
        ca_certificates: Option<&Bound<'_, PyAny>>,
        congestion_control: &str,
        max_idle_timeout: Option<Seconds>,
        keep_alive_interval: Option<Seconds>,
        transport: Option<Bound<'_, TransportConfig>>,
        bind: Option<&str>,
    ) -> PyResult<Self> {
        let settings = Transport::parse(congestion_control, transport)?
            .idle_timers(max_idle_timeout, keep_alive_interval)?;
        let modes = [
            server_certificate_hashes.is_some(),
            no_cert_verification,
            ca_certificates.is_some(),
        ];
        if modes.iter().filter(|m| **m).count() > 1 {
            return Err(PyValueError::new_err(
                "choose one of server_certificate_hashes, no_cert_verification and \
                 ca_certificates",
            ));
        }
        let provider = crypto_provider();
        let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_protocol_versions(&[&rustls::version::TLS13])
            .map_err(|e| PyValueError::new_err(format!("TLS configuration: {e}")))?;
        let mut tls = if let Some(hashes) = server_certificate_hashes {
            let hashes = parse_hashes(hashes)?;
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(Verifier {
                    check: Check::Hashes(hashes),
                    provider,
                }))
                .with_no_client_auth()
        } else if no_cert_verification {
            warn_no_verification(py)?;
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(Verifier {
                    check: Check::Nothing,
                    provider,
                }))
                .with_no_client_auth()
        } else {
            let roots = root_store(ca_certificates)?;
            builder.with_root_certificates(roots).with_no_client_auth()
        };
        tls.alpn_protocols = vec![wtq::ALPN.as_bytes().to_vec()];
        tls.key_log = Arc::new(rustls::KeyLogFile::new());
        let crypto = quinn::crypto::rustls::QuicClientConfig::try_from(tls)
            .map_err(|e| PyValueError::new_err(format!("TLS configuration: {e}")))?;
        let mut config = quinn::ClientConfig::new(Arc::new(crypto));
        config.transport_config(settings.quinn()?);

        let rt = runtime()?;
        let _guard = rt.enter();
        let endpoint = match bind {
            Some(b) => {
                let addr = parse_addr("bind", b)?;
                quinn::Endpoint::client(addr)
            }
            None => quinn::Endpoint::client(SocketAddr::from(([0u16; 8], 0)))
                .or_else(|_| quinn::Endpoint::client(SocketAddr::from(([0u8; 4], 0)))),
        }
        .map_err(|e| os_error("cannot bind", &e))?;
        Ok(Self {
            inner: wtq::Client::new(endpoint.clone(), config),
            endpoint: Endpoint::new(endpoint, &settings),
        })
    }

    /// Open a session to an `https://` URL.
    #[pyo3(signature = (url, *, protocols = None, headers = None))]
    fn connect<'py>(
        &self,
        py: Python<'py>,
        url: &str,
        protocols: Option<Strings>,
        headers: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let parsed = url::Url::parse(url)
            .map_err(|e| PyValueError::new_err(format!("url: invalid URL {url:?}: {e}")))?;
        if parsed.scheme() != "https" {
            return Err(PyValueError::new_err(format!(
                "url: WebTransport needs an https:// URL, got scheme {:?}",
                parsed.scheme()
            )));
        }
        if parsed.host().is_none() {
            return Err(PyValueError::new_err(format!("url: no host in {url:?}")));
        }
        let mut request = ConnectRequest::new(parsed);
        if let Some(Strings(protocols)) = protocols {
            for p in &protocols {
                // Subprotocols travel as RFC 8941 sf-strings: printable ASCII.
                if p.is_empty() || !p.bytes().all(|b| (0x20..=0x7e).contains(&b)) {
                    return Err(PyValueError::new_err(format!(
                        "protocols: {p:?} is not a valid subprotocol (non-empty printable ASCII)"
                    )));
                }
            }
            request = request.with_protocols(protocols);
        }
        if let Some(headers) = headers {
            request = request.with_headers(request_headers(headers)?);
        }
        let client = self.inner.clone();
        let endpoint = self.endpoint.info.clone();
        spawn(py, async move {
            let session = Arc::new(client.connect(request).await?);
            Ok(NewSession(session, endpoint))
        })
    }

    /// Close every session of this client with `code` and `reason` (QUIC CONNECTION_CLOSE).
    #[pyo3(signature = (code = None, reason = ""), text_signature = "(self, code=0, reason='')")]
    fn close(&self, code: Option<&Bound<'_, PyAny>>, reason: &str) -> PyResult<()> {
        let code = check_code("code", code)?;
        self.close_now(code, reason.as_bytes())
    }

    /// Wait until every connection of this client is closed (after `close()`: at most
    /// `endpoint::DRAIN_LIMIT`).
    fn wait_closed<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.endpoint.wait_closed(py)
    }
}
