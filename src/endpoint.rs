//! What `Client` and `Server` share: the QUIC endpoint, its close flag and the settings
//! its sessions need ([`EndpointInfo`]), and how `wait_closed` ends ([`DrainDeadline`]).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use pyo3::prelude::*;
use web_transport_quinn::quinn;

use crate::config::Transport;
use crate::errors::Error;
use crate::operation::spawn;

/// The owning endpoint's close flag and settings, given to each of its sessions.
#[derive(Clone)]
pub struct EndpointInfo {
    pub closing: Arc<AtomicBool>,
    pub idle_timeout: Option<Duration>,
    /// Whether this endpoint may send datagrams: quinn refuses ("disabled locally")
    /// when its `datagram_receive_buffer_size` is `None`.
    pub datagrams: bool,
}

impl EndpointInfo {
    /// The info of a new (open) endpoint with these settings.
    pub fn new(settings: &Transport) -> Self {
        Self {
            closing: Arc::new(AtomicBool::new(false)),
            idle_timeout: settings.max_idle_timeout,
            datagrams: settings.config.datagram_receive_buffer_size.is_some(),
        }
    }
}

/// How long a closed endpoint's connections may take to drain before `wait_closed` stops
/// waiting for them. Draining lasts 3 × PTO (RFC 9000 §10.2), well under this on any
/// sane path; a connection whose driver never reports the end would otherwise hold
/// quinn's `wait_idle` forever. RFC 9000 §10.2 lets an endpoint end draining early.
pub const DRAIN_LIMIT: Duration = Duration::from_secs(3);

/// When a closing endpoint stops waiting for its connections to drain: set on close.
#[derive(Clone, Default)]
pub struct DrainDeadline(Arc<Mutex<Option<tokio::time::Instant>>>);

impl DrainDeadline {
    /// The endpoint closes now; its connections have `grace` plus [`DRAIN_LIMIT`].
    pub fn start(&self, grace: Duration) {
        let deadline = tokio::time::Instant::now() + grace + DRAIN_LIMIT;
        let mut slot = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if slot.is_none() {
            *slot = Some(deadline);
        }
    }

    /// Wait until `endpoint` has no connections left or, once it was closed, until the
    /// deadline.
    pub fn idle(
        &self,
        endpoint: quinn::Endpoint,
    ) -> impl std::future::Future<Output = ()> + Send + 'static {
        let deadline = *self.0.lock().unwrap_or_else(|p| p.into_inner());
        async move {
            match deadline {
                Some(at) => {
                    let _ = tokio::time::timeout_at(at, endpoint.wait_idle()).await;
                }
                None => endpoint.wait_idle().await,
            }
        }
    }
}

/// A `Client`'s or `Server`'s QUIC endpoint with its close state.
pub struct Endpoint {
    pub quinn: quinn::Endpoint,
    /// Its `closing` flag is the endpoint's: set once `close()` began.
    pub info: EndpointInfo,
    drain: DrainDeadline,
}

impl Endpoint {
    pub fn new(quinn: quinn::Endpoint, settings: &Transport) -> Self {
        Self {
            quinn,
            info: EndpointInfo::new(settings),
            drain: DrainDeadline::default(),
        }
    }

    /// Mark the endpoint as closing; true if it already was.
    pub fn mark_closing(&self) -> bool {
        self.info.closing.swap(true, Ordering::SeqCst)
    }

    /// Start the drain deadline of `wait_closed`: the connections have `grace` plus
    /// [`DRAIN_LIMIT`] from now.
    pub fn start_drain(&self, grace: Duration) {
        self.drain.start(grace);
    }

    /// `wait_closed()`: an awaitable that resolves once every connection of the endpoint
    /// is closed (after `close()`: at most the close's grace plus [`DRAIN_LIMIT`]).
    pub fn wait_closed<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let idle = self.drain.idle(self.quinn.clone());
        spawn(py, async move {
            idle.await;
            Ok::<_, Error>(())
        })
    }
}
