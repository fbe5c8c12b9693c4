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
#[proc_macro_attribute]
pub fn pymethods(args: TokenStream, item: TokenStream) -> TokenStream {
    let attribute = attribute(quote! { ::pyo3::pymethods }, args);
    let mut item = parse_macro_input!(item as ItemImpl);
    for member in &mut item.items {
        if let ImplItem::Fn(method) = member {
            enter(&mut method.block);
        }
    }
    quote! {
        #attribute
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
