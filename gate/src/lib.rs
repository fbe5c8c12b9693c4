//! `#[gate::pymethods]` and `#[gate::pyfunction]`: PyO3's `#[pymethods]` and
//! `#[pyfunction]`, with every function body starting inside the interpreter-exit gate
//! (`let _entered = crate::shutdown::enter();`, see the binding's `src/shutdown.rs`).
//!
//! The binding uses these instead of PyO3's attributes, so a method added to a class
//! cannot forget the gate (`tests/reliability/test_entry_points.py` checks that no
//! PyO3 attribute is used directly).

use proc_macro::TokenStream;
use quote::quote;
use syn::{parse_macro_input, parse_quote, Block, ImplItem, ItemFn, ItemImpl, Stmt};

/// The statement every entry point starts with.
fn enter(block: &mut Block) {
    let stmt: Stmt = parse_quote! {
        let _entered = crate::shutdown::enter();
    };
    block.stmts.insert(0, stmt);
}

/// `#[path]` or, with arguments, `#[path(args)]`.
fn attribute(path: proc_macro2::TokenStream, args: TokenStream) -> proc_macro2::TokenStream {
    let args = proc_macro2::TokenStream::from(args);
    if args.is_empty() {
        quote! { #[#path] }
    } else {
        quote! { #[#path(#args)] }
    }
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
            enter(&mut method.block);
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
    let attribute = attribute(quote! { ::pyo3::pyfunction }, args);
    let mut item = parse_macro_input!(item as ItemFn);
    enter(&mut item.block);
    quote! {
        #attribute
        #item
    }
    .into()
}
