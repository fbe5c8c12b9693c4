//! The client's own certificate checks (rustls `ServerCertVerifier`): pinned SHA-256
//! hashes with the W3C `serverCertificateHashes` rules, or, dangerously, none. Handshake
//! signatures are checked either way. CA verification uses rustls' own verifier.
//! [`refused_certificate`] turns the TLS error text of a refused certificate (rustls
//! shows some of it in `Debug` form) into the `ConnectError` message: what was wrong and
//! what to do.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, SignatureScheme};

use crate::cert::{sha256, validity, MAX_HASH_VALIDITY_DAYS};

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

/// What rustls' `Display` puts around a verifier's own error: `CertificateError::Other`
/// shows in `Debug` form, `Other(OtherError(<the error's Debug>))`.
const OWN_PREFIX: &str = "Other(OtherError(";
const OWN_SUFFIX: &str = "))";
/// What rustls prefixes to every refused certificate (`Error::InvalidCertificate`).
const REFUSED_PREFIX: &str = "invalid peer certificate: ";

fn reject(message: String) -> rustls::Error {
    /// `Debug` is the message itself, so that it reads as a sentence inside rustls'
    /// `Debug` wrapping, which [`refused_certificate`] takes off.
    struct Why(String);
    impl std::fmt::Debug for Why {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(&self.0)
        }
    }
    impl std::fmt::Display for Why {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(&self.0)
        }
    }
    impl std::error::Error for Why {}
    rustls::Error::InvalidCertificate(CertificateError::Other(rustls::OtherError(Arc::new(Why(
        message,
    )))))
}

/// The sentence a `ConnectError` gives for a certificate the client refused, from the
/// TLS error text quinn reports (`reason` of the handshake's transport error): what was
/// wrong and what to do, without rustls' `Debug` forms. `None` if `reason` is not a
/// refused certificate.
pub fn refused_certificate(reason: &str) -> Option<String> {
    let what = reason.strip_prefix(REFUSED_PREFIX)?;
    if let Some(own) = what
        .strip_prefix(OWN_PREFIX)
        .and_then(|w| w.strip_suffix(OWN_SUFFIX))
    {
        return Some(format!("the server's certificate was refused: {own}"));
    }
    // rustls shows these `CertificateError` variants by their `Debug` names.
    let (said, hint) = match what {
        "UnknownIssuer" => (
            "is not signed by a certificate authority this client trusts (unknown issuer)",
            SELF_SIGNED_HINT,
        ),
        "BadSignature" => (
            "is not signed by the certificate authority it names (bad signature)",
            SELF_SIGNED_HINT,
        ),
        "Expired" => ("has expired", "renew it"),
        "NotValidYet" => ("is not valid yet", "check the clocks of both machines"),
        "NotValidForName" => (
            "is not valid for the URL's host name",
            "connect with a name the certificate was issued for",
        ),
        other => return Some(format!("the server's certificate was refused: {other}")),
    };
    Some(format!("the server's certificate {said}: {hint}"))
}

/// What to do when a CA-verified connection refuses the certificate.
const SELF_SIGNED_HINT: &str = "a self-signed server needs server_certificate_hashes \
     (--cert-hash; serve prints it), a private CA needs ca_certificates";

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_rejection_reads_as_a_sentence() {
        let text = reject("its SHA-256 hash 00 is not in server_certificate_hashes".into());
        let got = refused_certificate(&text.to_string()).expect("a refused certificate");
        assert_eq!(
            got,
            "the server's certificate was refused: its SHA-256 hash 00 is not in \
             server_certificate_hashes"
        );
    }

    #[test]
    fn unknown_issuer_says_what_to_do() {
        let text = rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer);
        let got = refused_certificate(&text.to_string()).expect("a refused certificate");
        assert!(got.contains("a self-signed server needs server_certificate_hashes"));
        assert!(!got.contains("UnknownIssuer"), "{got}");
    }

    #[test]
    fn other_tls_errors_are_left_alone() {
        assert_eq!(refused_certificate("peer sent no certificates"), None);
    }
}
