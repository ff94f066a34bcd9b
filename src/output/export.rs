//! `scudo export customers`: the customers as a CSV file in the columns a CRM's importer expects
//! (HubSpot contacts, Salesforce Data Import Wizard contacts) or scudo's own columns. Every text
//! cell is guarded against spreadsheet formulas, as in every CSV scudo writes.

use crate::ingest::rejects::guard;
use crate::store::{Cell, ResultSet};

/// Which importer the file is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// scudo's own column names.
    Csv,
    /// HubSpot's contacts import: its default property labels, scudo's scores as custom properties.
    Hubspot,
    /// Salesforce's Data Import Wizard (contacts): its field labels, scores as custom fields.
    Salesforce,
}

/// One output column: its header and where its value comes from.
enum Source {
    /// A column of `customers.export`.
    Col(&'static str),
    /// The first name, else all but the last word of the full name.
    First,
    /// The last name, else the last word of the full name (Salesforce requires one: the email
    /// stands in when there is no name at all).
    Last { required: bool },
}

fn columns(target: Target) -> Vec<(&'static str, Source)> {
    use Source::{Col, First, Last};
    let scores = |prefix: &'static [&'static str; 9]| {
        ["stage", "segments", "rfm", "churn_band", "churn_probability", "clv", "orders", "revenue", "customer_id"]
            .into_iter()
            .zip(prefix.iter().copied())
            .map(|(c, h)| (h, Col(c)))
            .collect::<Vec<_>>()
    };
    match target {
        Target::Csv => [
            "customer_id",
            "email",
            "first_name",
            "last_name",
            "name",
            "phone",
            "company",
            "city",
            "region",
            "country",
            "stage",
            "segments",
            "rfm",
            "churn_band",
            "churn_probability",
            "clv",
            "orders",
            "revenue",
            "scored_as_of",
            "tags",
            "notes",
        ]
        .into_iter()
        .map(|c| (c, Col(c)))
        .collect(),
        Target::Hubspot => {
            let mut cols = vec![
                ("Email", Col("email")),
                ("First Name", First),
                ("Last Name", Last { required: false }),
                ("Phone Number", Col("phone")),
                ("Company Name", Col("company")),
                ("City", Col("city")),
                ("State/Region", Col("region")),
                ("Country/Region", Col("country")),
            ];
            cols.extend(scores(&[
                "scudo_stage",
                "scudo_segments",
                "scudo_rfm",
                "scudo_churn_band",
                "scudo_churn_probability",
                "scudo_clv",
                "scudo_orders",
                "scudo_revenue",
                "scudo_customer_id",
            ]));
            cols.extend([("scudo_tags", Col("tags")), ("scudo_notes", Col("notes"))]);
            cols
        }
        Target::Salesforce => {
            let mut cols = vec![
                ("First Name", First),
                ("Last Name", Last { required: true }),
                ("Email", Col("email")),
                ("Phone", Col("phone")),
                ("Account Name", Col("company")),
                ("Mailing City", Col("city")),
                ("Mailing State/Province", Col("region")),
                ("Mailing Country", Col("country")),
            ];
            cols.extend(scores(&[
                "Scudo_Stage__c",
                "Scudo_Segments__c",
                "Scudo_RFM__c",
                "Scudo_Churn_Band__c",
                "Scudo_Churn_Probability__c",
                "Scudo_CLV__c",
                "Scudo_Orders__c",
                "Scudo_Revenue__c",
                "Scudo_Customer_ID__c",
            ]));
            cols.extend([("Scudo_Tags__c", Col("tags")), ("Scudo_Notes__c", Col("notes"))]);
            cols
        }
    }
}

/// `rs` (the rows of `customers.export`) as CSV for `target`.
pub fn customers(rs: &ResultSet, target: Target) -> String {
    let cols = columns(target);
    let mut w = ::csv::Writer::from_writer(Vec::new());
    let _ = w.write_record(cols.iter().map(|(h, _)| *h));
    for row in &rs.rows {
        let get = |c: &str| rs.col(c).map(|i| &row[i]);
        let text = |c: &str| get(c).map(cell_text).unwrap_or_default();
        let name = text("name");
        let words: Vec<&str> = name.split_whitespace().collect();
        let record: Vec<String> = cols
            .iter()
            .map(|(_, source)| match source {
                Source::Col(c) => match get(c) {
                    Some(cell) if cell.is_numeric() => cell.to_text(),
                    Some(cell) => guard(&cell_text(cell)),
                    None => String::new(),
                },
                Source::First => {
                    let first = text("first_name");
                    let value = if !first.is_empty() || !text("last_name").is_empty() || words.len() < 2 {
                        first
                    } else {
                        words[..words.len() - 1].join(" ")
                    };
                    guard(&value)
                }
                Source::Last { required } => {
                    let mut value = text("last_name");
                    if value.is_empty() && text("first_name").is_empty() {
                        value = words.last().map(|w| w.to_string()).unwrap_or_default();
                    }
                    if value.is_empty() && *required {
                        value = text("email");
                    }
                    guard(&value)
                }
            })
            .collect();
        let _ = w.write_record(&record);
    }
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}

/// Lists as `a;b` (the multi-value separator of HubSpot's and Salesforce's importers).
fn cell_text(cell: &Cell) -> String {
    match cell {
        Cell::List(items) => items.iter().map(Cell::to_text).collect::<Vec<_>>().join(";"),
        other => other.to_text(),
    }
}
