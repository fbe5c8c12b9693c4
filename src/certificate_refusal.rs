//! How a refused server certificate reads. The client's verifier (`tls.rs`) refuses with
//! [`reject`]; rustls wraps that, or its own refusal, in text partly in `Debug` form, and
//! [`refused_certificate`] turns the text quinn reports back into the `ConnectError`
//! message (`errors.rs`): what was wrong and what to do.

use std::sync::Arc;

use rustls::CertificateError;

/// What rustls' `Display` puts around a verifier's own error: `CertificateError::Other`
/// shows in `Debug` form, `Other(OtherError(<the error's Debug>))`.
const OWN_PREFIX: &str = "Other(OtherError(";
const OWN_SUFFIX: &str = "))";
/// What rustls prefixes to every refused certificate (`Error::InvalidCertificate`).
const REFUSED_PREFIX: &str = "invalid peer certificate: ";

/// The verifier's own refusal (the `serverCertificateHashes` rules), `message` its sentence.
pub fn reject(message: String) -> rustls::Error {
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
