//! `#[gate::pymethods]` and `#[gate::pyfunction]`: PyO3's `#[pymethods]` and
//! `#[pyfunction]`, with every function body starting inside the interpreter-exit gate
//! (`let _entered = crate::shutdown::enter();`, see the binding's `src/shutdown.rs`).
//!
//! The binding uses these instead of PyO3's attributes, so a method added to a class
//! cannot forget the gate (`tests/reliability/test_entry_points.py` checks that no
//! PyO3 attribute is used directly).
//!
//! PyO3's generated wrapper extracts the arguments before the body runs and converts
//! the result after it returns; both may run Python code. So the attributes also move
//! that work inside the gate:
//! - an argument whose extraction may run Python code (any type but `Python`, a
//!   reference, `Bound`, `Py`, `PyRef`, `Int`, `bool`, `String`, or `Option` of those:
//!   `f64` calls `__float__`, `i32` `__index__`, `Vec` iterates) is taken as
//!   `crate::args::Deferred` (the object, or the signature's default) and extracted
//!   first thing in the body, with PyO3's own error (`while processing 'name'` note);
//! - a result whose conversion allocates a container or a class instance (a tuple, a
//!   `Vec`, a `#[pyclass]` value) is converted to a Python object in the body.

use proc_macro::TokenStream;
use proc_macro2::{Delimiter, Group, TokenTree};
use quote::{quote, ToTokens};
use syn::{
    parse_macro_input, parse_quote, Attribute, Block, FnArg, GenericArgument, ImplItem, ItemFn,
    ItemImpl, Pat, PathArguments, ReturnType, Signature, Stmt, Type,
};

/// The statement every entry point starts with.
fn enter(block: &mut Block) {
    let stmt: Stmt = parse_quote! {
        let _entered = crate::shutdown::enter();
    };
    block.stmts.insert(0, stmt);
}

/// `#[path]` or, with arguments, `#[path(args)]`.
fn attribute(
    path: proc_macro2::TokenStream,
    args: proc_macro2::TokenStream,
) -> proc_macro2::TokenStream {
    if args.is_empty() {
        quote! { #[#path] }
    } else {
        quote! { #[#path(#args)] }
    }
}

/// The last path segment of `ty` and its single generic type argument, if any.
fn segment(ty: &Type) -> Option<(String, Option<&Type>)> {
    let Type::Path(path) = ty else { return None };
    let last = path.path.segments.last()?;
    let inner = match &last.arguments {
        PathArguments::AngleBracketed(args) => args.args.iter().find_map(|a| match a {
            GenericArgument::Type(t) => Some(t),
            _ => None,
        }),
        _ => None,
    };
    Some((last.ident.to_string(), inner))
}

/// Whether PyO3 extracts `ty` without running Python code.
fn quiet_argument(ty: &Type) -> bool {
    match ty {
        Type::Reference(_) => true,
        _ => match segment(ty) {
            Some((name, inner)) => match name.as_str() {
                "Python" | "Bound" | "Py" | "PyRef" | "PyRefMut" | "Int" | "bool" | "String" => {
                    true
                }
                "Option" => inner.is_some_and(quiet_argument),
                _ => false,
            },
            None => false,
        },
    }
}

/// Whether PyO3 converts `ty` to a Python object without allocating a container or a
/// class instance (which may start a garbage collection, which may run finalizers).
fn quiet_result(ty: &Type) -> bool {
    match ty {
        Type::Reference(_) => true,
        Type::Tuple(t) => t.elems.is_empty(),
        _ => match segment(ty) {
            Some((name, inner)) => match name.as_str() {
                "Bound" | "Py" | "Self" | "String" | "bool" | "f64" | "i32" | "i64" | "u32"
                | "u64" | "usize" => true,
                "Option" | "PyResult" => inner.is_some_and(quiet_result),
                _ => false,
            },
            None => false,
        },
    }
}

/// A deferred argument: its name, its type, and whether it is optional.
struct Deferred {
    name: syn::Ident,
    ty: Type,
    optional: bool,
}

/// Rewrite the arguments whose extraction may run Python code to `Deferred`, returning
/// them (the body extracts them).
fn defer_arguments(sig: &mut Signature) -> Vec<Deferred> {
    let mut deferred = Vec::new();
    for input in &mut sig.inputs {
        let FnArg::Typed(arg) = input else { continue };
        if quiet_argument(&arg.ty) {
            continue;
        }
        let Pat::Ident(ident) = &*arg.pat else {
            continue;
        };
        let name = ident.ident.clone();
        let ty = (*arg.ty).clone();
        match segment(&ty) {
            Some((option, Some(inner))) if option == "Option" => {
                let inner = inner.clone();
                *arg.ty = parse_quote! { ::std::option::Option<crate::args::Deferred<'_, #inner>> };
                deferred.push(Deferred {
                    name,
                    ty: inner,
                    optional: true,
                });
            }
            _ => {
                *arg.ty = parse_quote! { crate::args::Deferred<'_, #ty> };
                deferred.push(Deferred {
                    name,
                    ty,
                    optional: false,
                });
            }
        }
    }
    deferred
}

/// The statements that extract the deferred arguments, inside the gate.
fn extract_deferred(block: &mut Block, deferred: &[Deferred]) {
    for (i, d) in deferred.iter().enumerate() {
        let Deferred { name, ty, optional } = d;
        let label = name.to_string();
        let stmt: Stmt = if *optional {
            parse_quote! {
                let #name: ::std::option::Option<#ty> = match #name {
                    ::std::option::Option::Some(value) => ::std::option::Option::Some(value.extract(#label)?),
                    ::std::option::Option::None => ::std::option::Option::None,
                };
            }
        } else {
            parse_quote! { let #name: #ty = #name.extract(#label)?; }
        };
        block.stmts.insert(1 + i, stmt);
    }
}

/// In `signature = (...)` (inside `tokens`), wrap the default of each deferred
/// argument in `Deferred::Default` (an optional one's inside its `Some`; `None` stays). Returns whether a default was rewritten.
fn rewrite_defaults(
    tokens: proc_macro2::TokenStream,
    deferred: &[Deferred],
) -> (proc_macro2::TokenStream, bool) {
    let find = |name: &str| deferred.iter().find(|d| d.name == name);
    let mut out = Vec::new();
    let mut rewritten = false;
    let mut after_signature = 0;
    for tt in tokens {
        match &tt {
            TokenTree::Ident(i) if i == "signature" => after_signature = 1,
            TokenTree::Punct(p) if p.as_char() == '=' && after_signature == 1 => {
                after_signature = 2
            }
            TokenTree::Group(g)
                if after_signature == 2 && g.delimiter() == Delimiter::Parenthesis =>
            {
                after_signature = 0;
                let mut inner = Vec::new();
                let items: Vec<TokenTree> = g.stream().into_iter().collect();
                let mut k = 0;
                while k < items.len() {
                    let is_default = matches!(&items[k], TokenTree::Ident(i) if find(&i.to_string()).is_some())
                        && matches!(items.get(k + 1), Some(TokenTree::Punct(p)) if p.as_char() == '=');
                    if is_default {
                        inner.push(items[k].clone());
                        inner.push(items[k + 1].clone());
                        let mut end = k + 2;
                        while end < items.len()
                            && !matches!(&items[end], TokenTree::Punct(p) if p.as_char() == ',')
                        {
                            end += 1;
                        }
                        let default: proc_macro2::TokenStream =
                            items[k + 2..end].iter().cloned().collect();
                        let optional = matches!(&items[k], TokenTree::Ident(i) if find(&i.to_string()).is_some_and(|d| d.optional));
                        if !optional {
                            inner.extend(quote! { crate::args::Deferred::Default(#default) });
                            rewritten = true;
                        } else if default.to_string() == "None" {
                            inner.extend(default);
                        } else {
                            inner.extend(quote! { (#default).map(crate::args::Deferred::Default) });
                            rewritten = true;
                        }
                        k = end;
                    } else {
                        inner.push(items[k].clone());
                        k += 1;
                    }
                }
                let mut group = Group::new(Delimiter::Parenthesis, inner.into_iter().collect());
                group.set_span(g.span());
                out.push(TokenTree::Group(group));
                continue;
            }
            TokenTree::Group(g) if g.delimiter() == Delimiter::Parenthesis => {
                // `#[pyo3(...)]`'s own arguments.
                let (stream, r) = rewrite_defaults(g.stream(), deferred);
                rewritten |= r;
                let mut group = Group::new(Delimiter::Parenthesis, stream);
                group.set_span(g.span());
                out.push(TokenTree::Group(group));
                continue;
            }
            _ => {}
        }
        out.push(tt);
    }
    (out.into_iter().collect(), rewritten)
}

/// Rewrite the defaults in the `#[pyo3(...)]` attributes of a method.
fn rewrite_attributes(attrs: &mut [Attribute], deferred: &[Deferred]) -> syn::Result<bool> {
    let mut rewritten = false;
    for attr in attrs.iter_mut().filter(|a| a.path().is_ident("pyo3")) {
        let (tokens, r) = rewrite_defaults(attr.meta.to_token_stream(), deferred);
        rewritten |= r;
        attr.meta = syn::parse2(tokens)?;
    }
    Ok(rewritten)
}

/// Convert a result that allocates inside the body: the function returns `Py<PyAny>`.
fn convert_result(sig: &mut Signature, block: &mut Block) {
    let ReturnType::Type(_, ty) = &sig.output else {
        return;
    };
    if quiet_result(ty) {
        return;
    }
    let ty = (**ty).clone();
    let fallible = matches!(segment(&ty), Some((name, _)) if name == "PyResult");
    let body = std::mem::take(&mut block.stmts);
    let value = if fallible {
        quote! { gate_result? }
    } else {
        quote! { gate_result }
    };
    block.stmts = parse_quote! {
        #[allow(clippy::redundant_closure_call)]
        let gate_result: #ty = (|| -> #ty { #(#body)* })();
        ::pyo3::Python::attach(|py| ::pyo3::IntoPyObjectExt::into_py_any(#value, py))
    };
    sig.output = parse_quote! { -> ::pyo3::PyResult<::pyo3::Py<::pyo3::PyAny>> };
}

/// Apply the gate to one function: convert the result, defer the arguments, enter first.
/// Returns whether a signature default was rewritten without an explicit text signature.
fn gate(
    attrs: &mut [Attribute],
    sig: &mut Signature,
    block: &mut Block,
) -> syn::Result<Vec<Deferred>> {
    let is_new = attrs.iter().any(|a| a.path().is_ident("new"));
    if !is_new {
        convert_result(sig, block);
    }
    let deferred = defer_arguments(sig);
    let rewritten = rewrite_attributes(attrs, &deferred)?;
    if rewritten && !has_text_signature(attrs.iter().map(|a| a.meta.to_token_stream())) {
        return Err(syn::Error::new_spanned(
            &sig.ident,
            "a deferred argument with a default needs an explicit text_signature",
        ));
    }
    enter(block);
    extract_deferred(block, &deferred);
    Ok(deferred)
}

fn has_text_signature(streams: impl Iterator<Item = proc_macro2::TokenStream>) -> bool {
    streams
        .into_iter()
        .any(|s| s.to_string().contains("text_signature"))
}

/// `#[pyo3::pymethods]` on an `impl` block, each method entering the exit gate first.
///
/// `#[gate::pymethods(async_with = exit)]` also makes the class an async context
/// manager: `__aenter__` resolves to the object itself, `__aexit__(*args)` returns
/// `self.exit(py)` (a method of a plain `impl` block).
#[proc_macro_attribute]
pub fn pymethods(args: TokenStream, item: TokenStream) -> TokenStream {
    let mut exit: Option<syn::Ident> = None;
    let options = syn::meta::parser(|meta| {
        if meta.path.is_ident("async_with") {
            exit = Some(meta.value()?.parse()?);
            Ok(())
        } else {
            Err(meta.error("the only option is `async_with = method`"))
        }
    });
    parse_macro_input!(args with options);
    let mut item = parse_macro_input!(item as ItemImpl);
    if let Some(exit) = exit {
        item.items.push(parse_quote! {
            fn __aenter__<'py>(
                slf: &::pyo3::Bound<'py, Self>,
            ) -> ::pyo3::PyResult<::pyo3::Bound<'py, ::pyo3::PyAny>> {
                crate::operation::resolve_to_self(slf)
            }
        });
        item.items.push(parse_quote! {
            #[pyo3(signature = (*_args))]
            fn __aexit__<'py>(
                &self,
                py: ::pyo3::Python<'py>,
                _args: &::pyo3::Bound<'py, ::pyo3::types::PyTuple>,
            ) -> ::pyo3::PyResult<::pyo3::Bound<'py, ::pyo3::PyAny>> {
                self.#exit(py)
            }
        });
    }
    for member in &mut item.items {
        if let ImplItem::Fn(method) = member {
            if let Err(e) = gate(&mut method.attrs, &mut method.sig, &mut method.block) {
                return e.to_compile_error().into();
            }
        }
    }
    quote! {
        #[::pyo3::pymethods]
        #item
    }
    .into()
}

/// `#[pyo3::pyfunction]` on a function that enters the exit gate first.
#[proc_macro_attribute]
pub fn pyfunction(args: TokenStream, item: TokenStream) -> TokenStream {
    let mut item = parse_macro_input!(item as ItemFn);
    let args = proc_macro2::TokenStream::from(args);
    let deferred = match gate(&mut item.attrs, &mut item.sig, &mut item.block) {
        Ok(deferred) => deferred,
        Err(e) => return e.to_compile_error().into(),
    };
    let (args, rewritten) = rewrite_defaults(args, &deferred);
    if rewritten && !has_text_signature(std::iter::once(args.clone())) {
        return syn::Error::new_spanned(
            &item.sig.ident,
            "a deferred argument with a default needs an explicit text_signature",
        )
        .to_compile_error()
        .into();
    }
    let attribute = attribute(quote! { ::pyo3::pyfunction }, args);
    quote! {
        #attribute
        #item
    }
    .into()
}
