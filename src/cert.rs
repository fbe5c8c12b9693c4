//! Certificates and keys: generation (rcgen), SHA-256 hashes (sha2), and loading DER or
//! PEM from bytes, text or files.

use std::path::PathBuf;

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList, PyString, PyTuple};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use sha2::{Digest, Sha256};

use crate::args::{Int, Strings};

/// The longest validity browsers accept for `serverCertificateHashes` (W3C WebTransport,
/// "custom certificate requirements").
pub const MAX_HASH_VALIDITY_DAYS: i64 = 14;

/// Generate a self-signed ECDSA P-256 certificate usable with `serverCertificateHashes`.
#[gate::pyfunction]
#[pyo3(
    signature = (subject_alt_names, *, validity_days = Int(14)),
    text_signature = "(subject_alt_names, *, validity_days=14)"
)]
pub fn generate_self_signed<'py>(
    py: Python<'py>,
    subject_alt_names: Strings,
    validity_days: Int,
) -> PyResult<Bound<'py, PyTuple>> {
    let (Strings(subject_alt_names), Int(validity_days)) = (subject_alt_names, validity_days);
    if let Some(bad) = subject_alt_names.iter().find(|n| n.trim().is_empty()) {
        return Err(PyValueError::new_err(format!(
            "subject_alt_names must not contain empty names, got {bad:?}"
        )));
    }
    if subject_alt_names.is_empty() {
        return Err(PyValueError::new_err(
            "subject_alt_names must name at least one host (e.g. ['localhost', '127.0.0.1'])",
        ));
    }
    if !(1..=MAX_HASH_VALIDITY_DAYS).contains(&validity_days) {
        return Err(PyValueError::new_err(format!(
            "validity_days must be between 1 and {MAX_HASH_VALIDITY_DAYS} (browsers refuse \
             longer certificates for serverCertificateHashes), got {validity_days}"
        )));
    }
    let (cert, key) = py
        .detach(|| -> Result<(Vec<u8>, Vec<u8>), String> {
            let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)
                .map_err(|e| e.to_string())?;
            let mut params =
                rcgen::CertificateParams::new(subject_alt_names).map_err(|e| e.to_string())?;
            // Back-date slightly so a peer whose clock runs a little behind accepts it; the
            // whole span stays within `validity_days`.
            let start = time::OffsetDateTime::now_utc() - time::Duration::minutes(5);
            params.not_before = start;
            params.not_after = start + time::Duration::days(validity_days);
            params
                .distinguished_name
                .push(rcgen::DnType::CommonName, "web-transport-py self-signed");
            let cert = params.self_signed(&key).map_err(|e| e.to_string())?;
            Ok((cert.der().to_vec(), key.serialize_der()))
        })
        .map_err(|e| PyValueError::new_err(format!("cannot generate certificate: {e}")))?;
    PyTuple::new(py, [PyBytes::new(py, &cert), PyBytes::new(py, &key)])
}

/// SHA-256 of a certificate's DER encoding (32 bytes), as `serverCertificateHashes` wants.
#[gate::pyfunction]
pub fn certificate_hash<'py>(
    py: Python<'py>,
    certificate: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyBytes>> {
    let chain = load_certificate_chain(certificate, "certificate")?;
    let first = chain
        .first()
        .ok_or_else(|| PyValueError::new_err("certificate holds no certificate"))?;
    Ok(PyBytes::new(py, &sha256(first)))
}

pub fn sha256(data: &[u8]) -> Vec<u8> {
    Sha256::digest(data).to_vec()
}

/// The raw material of a certificate or key argument.
enum Source {
    Der(Vec<u8>),
    Pem(Vec<u8>),
}

fn is_pem(data: &[u8]) -> bool {
    let start = data
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(data.len());
    data[start..].starts_with(b"-----BEGIN")
}

fn read_path(path: PathBuf, arg: &str) -> PyResult<Vec<u8>> {
    std::fs::read(&path)
        .map_err(|e| crate::errors::os_error(&format!("{arg}: cannot read {}", path.display()), &e))
}

/// Accept bytes-like (DER or PEM), str (PEM text or a path) or os.PathLike (a path).
fn source(obj: &Bound<'_, PyAny>, arg: &str) -> PyResult<Source> {
    let data = if let Ok(s) = obj.cast::<PyString>() {
        let text = s.to_str()?;
        if is_pem(text.as_bytes()) {
            text.as_bytes().to_vec()
        } else {
            read_path(PathBuf::from(text), arg)?
        }
    } else if let Ok(b) = obj
        .extract::<Vec<u8>>()
        .or_else(|_| pyo3::buffer::PyBuffer::<u8>::get(obj).and_then(|buf| buf.to_vec(obj.py())))
    {
        if obj.is_instance_of::<PyList>() {
            return Err(PyTypeError::new_err(format!("{arg}: unexpected list")));
        }
        b
    } else if let Ok(path) = obj.extract::<PathBuf>() {
        read_path(path, arg)?
    } else {
        return Err(PyTypeError::new_err(format!(
            "{arg} must be bytes (DER or PEM), str (PEM text or a path) or os.PathLike, not {}",
            obj.get_type().name()?
        )));
    };
    if data.is_empty() {
        return Err(PyValueError::new_err(format!("{arg} is empty")));
    }
    Ok(if is_pem(&data) {
        Source::Pem(data)
    } else {
        Source::Der(data)
    })
}

/// Load a certificate chain (leaf first) from one source or a list of sources.
pub fn load_certificate_chain(
    obj: &Bound<'_, PyAny>,
    arg: &str,
) -> PyResult<Vec<CertificateDer<'static>>> {
    let mut chain = Vec::new();
    if let Ok(list) = obj.cast::<PyList>() {
        for item in list.iter() {
            chain.extend(load_one_certificate_source(&item, arg)?);
        }
    } else if let Ok(tuple) = obj.cast::<PyTuple>() {
        for item in tuple.iter() {
            chain.extend(load_one_certificate_source(&item, arg)?);
        }
    } else {
        chain = load_one_certificate_source(obj, arg)?;
    }
    if chain.is_empty() {
        return Err(PyValueError::new_err(format!("{arg} holds no certificate")));
    }
    Ok(chain)
}

fn load_one_certificate_source(
    obj: &Bound<'_, PyAny>,
    arg: &str,
) -> PyResult<Vec<CertificateDer<'static>>> {
    let certs = match source(obj, arg)? {
        Source::Der(der) => vec![CertificateDer::from(der)],
        Source::Pem(pem) => CertificateDer::pem_slice_iter(&pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| PyValueError::new_err(format!("{arg}: invalid PEM: {e}")))?,
    };
    for cert in &certs {
        // x509-parser's error shows its parser state in Debug form: not for users.
        x509_parser::parse_x509_certificate(cert).map_err(|_| {
            PyValueError::new_err(format!("{arg}: not a valid X.509 certificate (DER)"))
        })?;
    }
    Ok(certs)
}

/// Load a private key: PKCS#8, SEC1 (EC) or PKCS#1 (RSA), DER or PEM.
pub fn load_private_key(obj: &Bound<'_, PyAny>, arg: &str) -> PyResult<PrivateKeyDer<'static>> {
    match source(obj, arg)? {
        Source::Pem(pem) => PrivateKeyDer::from_pem_slice(&pem)
            .map_err(|e| PyValueError::new_err(format!("{arg}: no private key in PEM: {e}"))),
        Source::Der(der) => PrivateKeyDer::try_from(der).map_err(|e| {
            PyValueError::new_err(format!(
                "{arg}: not a PKCS#8, SEC1 or PKCS#1 private key: {e}"
            ))
        }),
    }
}

/// Validity of a certificate as (not_before, not_after) Unix seconds.
pub fn validity(cert: &CertificateDer<'_>) -> Option<(i64, i64)> {
    let (_, parsed) = x509_parser::parse_x509_certificate(cert).ok()?;
    let v = parsed.validity();
    Some((v.not_before.timestamp(), v.not_after.timestamp()))
}
