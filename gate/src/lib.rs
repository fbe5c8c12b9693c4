//! `#[gate::pymethods]` and `#[gate::pyfunction]`: PyO3's `#[pymethods]` and
//! `#[pyfunction]`, with every function body starting inside the interpreter-exit gate
//! (`let _entered = crate::shutdown::enter();`, see the binding's `src/shutdown.rs`).
//!
//! The binding uses these instead of PyO3's attributes, so a method added to a class
//! cannot forget the gate (`tests/reliability/test_entry_points.py` checks that no
//! PyO3 attribute is used directly).
//!
//! PyO3's generated wrapper extracts the arguments before the body runs and converts
//! the result after it returns; either may run Python code, outside the gate. So:
//! - every argument's type must be a `crate::args::QuietArgument` (extracted without
//!   running Python code: `Int`, `Seconds`, `Strings`, references, `Bound`, `Py`,
//!   `bool`, `String`, `Option`s of those); the gate inserts
//!   `crate::args::quiet::<T>()` for each, so any other type fails to compile, at the
//!   argument;
//! - a result whose conversion allocates a container or a class instance (a tuple, a
//!   `Vec`, a `#[pyclass]` value) is converted to a Python object in the body.
//!
//! The expansion is tested in `gate/tests/` (`cargo test -p web-transport-py-gate`).

use proc_macro::TokenStream;
use quote::quote;
use syn::spanned::Spanned;
use syn::{
    parse_macro_input, parse_quote, parse_quote_spanned, Attribute, Block, FnArg, GenericArgument,
    ImplItem, ItemFn, ItemImpl, PathArguments, ReturnType, Signature, Stmt, Type,
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

/// For each argument, a statement that compiles only if PyO3 extracts its type without
/// running Python code (`crate::args::QuietArgument`); the error points at the type.
fn check_arguments(sig: &Signature, block: &mut Block) {
    for input in sig.inputs.iter().rev() {
        let FnArg::Typed(arg) = input else { continue };
        let ty = &arg.ty;
        let stmt: Stmt = parse_quote_spanned! {ty.span()=>
            crate::args::quiet::<#ty>();
        };
        block.stmts.insert(0, stmt);
    }
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

/// Apply the gate to one function: convert the result, check the arguments, enter first.
fn gate(attrs: &[Attribute], sig: &mut Signature, block: &mut Block) {
    let is_new = attrs.iter().any(|a| a.path().is_ident("new"));
    if !is_new {
        convert_result(sig, block);
    }
    check_arguments(sig, block);
    enter(block);
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
            gate(&method.attrs, &mut method.sig, &mut method.block);
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
    gate(&item.attrs, &mut item.sig, &mut item.block);
    let attribute = attribute(quote! { ::pyo3::pyfunction }, args.into());
    quote! {
        #attribute
        #item
    }
    .into()
}
