//! The client's own certificate checks (rustls `ServerCertVerifier`): pinned SHA-256
//! hashes with the W3C `serverCertificateHashes` rules, or, dangerously, none. Handshake
//! signatures are checked either way. CA verification uses rustls' own verifier. How a
//! refusal reads is in `certificate_refusal.rs`.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};

use crate::cert::{sha256, validity, MAX_HASH_VALIDITY_DAYS};
use crate::certificate_refusal::reject;

/// What is checked of the server's certificate.
#[derive(Debug)]
pub enum Check {
    /// Exactly what a browser accepts for `serverCertificateHashes`: the leaf's SHA-256
    /// is one of these, it is currently valid, its validity span is at most 14 days.
    Hashes(Vec<Vec<u8>>),
    /// Nothing (signatures are still checked). Dangerous.
    Nothing,
}

#[derive(Debug)]
pub struct Verifier {
    pub check: Check,
    pub provider: Arc<rustls::crypto::CryptoProvider>,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The `serverCertificateHashes` rules for `end_entity` at `now`.
fn check_hashes(
    hashes: &[Vec<u8>],
    end_entity: &CertificateDer<'_>,
    now: UnixTime,
) -> Result<(), rustls::Error> {
    let hash = sha256(end_entity);
    if !hashes.contains(&hash) {
        let pinned: Vec<String> = hashes.iter().map(|h| hex(h)).collect();
        return Err(reject(format!(
            "its SHA-256 hash {} is not in server_certificate_hashes ({}): pin the hash the \
             server printed at its last start",
            hex(&hash),
            pinned.join(", ")
        )));
    }
    let Some((not_before, not_after)) = validity(end_entity) else {
        return Err(reject("the server certificate cannot be parsed".into()));
    };
    let now = now.as_secs() as i64;
    if not_after - not_before > MAX_HASH_VALIDITY_DAYS * 86_400 {
        return Err(reject(format!(
            "the server certificate is valid for more than {MAX_HASH_VALIDITY_DAYS} days, \
             which browsers refuse for certificate hashes"
        )));
    }
    if now < not_before || now > not_after {
        return Err(reject(
            "the server certificate is expired or not yet valid".into(),
        ));
    }
    Ok(())
}

/// `ServerCertVerifier`'s two signature methods, each rustls' function of the same name.
macro_rules! verify_signatures_with_provider {
    ($($method:ident),*) => {$(
        fn $method(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            let algorithms = &self.provider.signature_verification_algorithms;
            rustls::crypto::$method(message, cert, dss, algorithms)
        }
    )*};
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if let Check::Hashes(hashes) = &self.check {
            check_hashes(hashes, end_entity, now)?;
        }
        Ok(ServerCertVerified::assertion())
    }

    // Handshake signatures: rustls' own checks with the provider's algorithms.
    verify_signatures_with_provider!(verify_tls12_signature, verify_tls13_signature);

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}
