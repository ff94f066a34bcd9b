//! The bundled demo shop: its exports are embedded in the binary, so an installed `scudo` can
//! build the demo from any directory. See data/demo/make_demo.py for how they were made.

/// The date the demo's numbers are pinned to.
pub const AS_OF: &str = "2024-10-01";

/// (file name, contents) of the demo exports, in import order: customers first so their
/// tags and ids are known when orders arrive, products before orders for categories.
pub const EXPORTS: &[(&str, &[u8])] = &[
    ("shopify_customers.csv", include_bytes!("../data/demo/shopify_customers.csv")),
    ("shopify_products.csv", include_bytes!("../data/demo/shopify_products.csv")),
    ("shopify_orders.csv", include_bytes!("../data/demo/shopify_orders.csv")),
];

/// Marks a directory as a demo workspace, which `scudo demo` may rebuild.
pub const MARKER: &str = ".scudo-demo";
