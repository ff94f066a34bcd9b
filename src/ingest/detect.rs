//! Telling export kinds apart from their header alone.

use super::Kind;
use super::table::Header;

/// A header signature: every `all` column, and at least one `any` column when given.
struct Signature {
    kind: Kind,
    all: &'static [&'static str],
    any: &'static [&'static str],
}

/// Most specific first: the first full match wins.
const SIGNATURES: &[Signature] = &[
    Signature {
        kind: Kind::ShopifyOrders,
        all: &["Name", "Financial Status", "Lineitem quantity", "Lineitem name", "Created at", "Total"],
        any: &[],
    },
    Signature {
        kind: Kind::ShopifyCustomers,
        all: &["First Name", "Last Name", "Email", "Total Spent", "Total Orders"],
        any: &["Customer ID", "Accepts Email Marketing", "Accepts Marketing"],
    },
    Signature { kind: Kind::ShopifyProducts, all: &["Handle", "Title", "Variant SKU"], any: &[] },
    Signature {
        kind: Kind::StripeSubscriptions,
        all: &["id", "Status", "Interval", "Amount"],
        any: &["Current Period Start (UTC)", "Current Period End (UTC)", "Start Date (UTC)", "Start (UTC)"],
    },
    Signature {
        kind: Kind::StripeInvoices,
        all: &["id", "Amount Due", "Customer", "Total", "Status"],
        any: &["Date (UTC)"],
    },
    Signature {
        kind: Kind::StripePayments,
        all: &["id", "Amount", "Amount Refunded", "Currency", "Status"],
        any: &["Created date (UTC)", "Created (UTC)"],
    },
    Signature {
        kind: Kind::StripeCustomers,
        all: &["id", "Email", "Name"],
        any: &["Created (UTC)", "Created date (UTC)"],
    },
    Signature {
        kind: Kind::HubspotDeals,
        all: &["Record ID", "Deal Name"],
        any: &["Deal Stage", "Amount", "Close Date", "Pipeline"],
    },
    Signature { kind: Kind::HubspotDeals, all: &["hs_object_id", "dealname"], any: &[] },
    Signature {
        kind: Kind::HubspotContacts,
        all: &["Record ID"],
        any: &["Email", "First Name", "Last Name", "Phone Number", "Create Date"],
    },
    Signature { kind: Kind::HubspotContacts, all: &["hs_object_id"], any: &["email", "firstname", "lastname"] },
    // HubSpot's contacts import template (what `scudo export customers --to hubspot` writes): no
    // Record ID, and HubSpot's labels for phone and address.
    Signature {
        kind: Kind::HubspotContacts,
        all: &["Email", "First Name", "Last Name"],
        any: &["Phone Number", "State/Region", "Country/Region", "Company Name"],
    },
    Signature { kind: Kind::SalesforceReport, all: &["Opportunity Name", "Amount", "Close Date"], any: &[] },
    Signature {
        kind: Kind::SalesforceReport,
        all: &["First Name", "Last Name", "Account Name"],
        any: &["Contact Owner", "Mailing City", "Email", "Title"],
    },
    Signature {
        kind: Kind::SalesforceReport,
        all: &["Id", "AccountId", "StageName", "Amount"],
        any: &["IsWon", "CloseDate"],
    },
    Signature {
        kind: Kind::SalesforceReport,
        all: &["Id", "AccountId", "FirstName", "LastName"],
        any: &["Email", "Phone"],
    },
];

/// Why detection failed: what the header looked like and the kinds that came close.
#[derive(Debug)]
pub struct NoMatch {
    pub header: Vec<String>,
    /// (kind, columns it wanted that are missing), closest first.
    pub close: Vec<(Kind, Vec<&'static str>)>,
}

/// The kind whose signature the header matches.
pub fn detect(header: &Header) -> Result<Kind, NoMatch> {
    let mut close: Vec<(f64, Kind, Vec<&'static str>)> = Vec::new();
    for sig in SIGNATURES {
        let missing: Vec<&'static str> = sig.all.iter().copied().filter(|c| !header.has(c)).collect();
        let any_ok = sig.any.is_empty() || sig.any.iter().any(|c| header.has(c));
        if missing.is_empty() && any_ok {
            return Ok(sig.kind);
        }
        let mut missing = missing;
        if !any_ok {
            missing.push(sig.any[0]);
        }
        let total = sig.all.len() + usize::from(!sig.any.is_empty());
        let score = 1.0 - missing.len() as f64 / total as f64;
        if score >= 0.5 && !close.iter().any(|(_, k, _)| *k == sig.kind) {
            close.push((score, sig.kind, missing));
        }
    }
    close.sort_by(|a, b| b.0.total_cmp(&a.0));
    Err(NoMatch { header: header.names.clone(), close: close.into_iter().map(|(_, k, m)| (k, m)).collect() })
}

impl NoMatch {
    /// The message for the user: the header, the near misses and what to do.
    pub fn explain(&self, file: &str) -> String {
        let shown: Vec<&str> = self.header.iter().take(12).map(String::as_str).collect();
        let more = if self.header.len() > 12 { format!(" … ({} columns)", self.header.len()) } else { String::new() };
        let mut msg = format!("{file}: cannot tell what export this is; its header is: {}{more}", shown.join(", "));
        if self.header.len() == 1 && self.header[0].contains([';', '\t', '|']) {
            msg.push_str("\n  the header is one column: is the delimiter wrong? a mapping file can set it");
        }
        if self.close.is_empty() {
            msg.push_str("\n  no known kind came close");
        }
        for (kind, missing) in &self.close {
            msg.push_str(&format!("\n  close: {} (missing {})", kind.name(), missing.join(", ")));
        }
        msg.push_str("\n  pass --source KIND if you know the kind, or describe the file with --mapping (see `scudo ingest --infer FILE`)");
        msg
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(cols: &str) -> Header {
        Header::new(cols.split(',').map(str::to_string).collect())
    }

    #[test]
    fn detects_each_kind() {
        assert_eq!(
            detect(&h("Name,Email,Financial Status,Total,Created at,Lineitem quantity,Lineitem name")).unwrap(),
            Kind::ShopifyOrders
        );
        assert_eq!(
            detect(&h("First Name,Last Name,Email,Company,Accepts Marketing,Total Spent,Total Orders")).unwrap(),
            Kind::ShopifyCustomers
        );
        assert_eq!(
            detect(&h("id,Created (UTC),Amount,Amount Refunded,Currency,Status")).unwrap(),
            Kind::StripePayments
        );
        assert_eq!(detect(&h("id,Description,Email,Name,Created (UTC),Total Spend")).unwrap(), Kind::StripeCustomers);
        assert_eq!(
            detect(&h("id,Amount Due,Currency,Customer,Date (UTC),Total,Status")).unwrap(),
            Kind::StripeInvoices
        );
        assert_eq!(
            detect(&h("id,Customer ID,Status,Plan,Quantity,Interval,Amount,Created (UTC),Start Date (UTC)")).unwrap(),
            Kind::StripeSubscriptions
        );
        assert_eq!(detect(&h("Record ID,First Name,Email")).unwrap(), Kind::HubspotContacts);
        assert_eq!(detect(&h("Record ID,Deal Name,Deal Stage,Amount")).unwrap(), Kind::HubspotDeals);
        assert_eq!(
            detect(&h("Opportunity Name,Account Name,Amount,Close Date,Stage")).unwrap(),
            Kind::SalesforceReport
        );
    }

    #[test]
    fn near_misses_are_named() {
        let err = detect(&h("Name,Financial Status,Lineitem quantity,Created at,Total")).unwrap_err();
        assert_eq!(err.close[0].0, Kind::ShopifyOrders);
        assert_eq!(err.close[0].1, vec!["Lineitem name"]);
        let msg = err.explain("x.csv");
        assert!(msg.contains("shopify-orders (missing Lineitem name)"), "{msg}");
        let err = detect(&h("a;b;c")).unwrap_err();
        assert!(err.explain("x.csv").contains("delimiter"));
    }
}
