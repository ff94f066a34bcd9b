//! `scudo ingest --infer FILE`: propose a mapping file for a CSV from its header (English,
//! German and French words) and the shapes of its values: which column is which field, the date
//! format, the decimal comma, and how sure each proposal is.

use anyhow::Result;

use super::generic::FIELDS;
use crate::ingest::table::{Row, Table};
use crate::ingest::values::{
    NumberStyle, norm_email, norm_phone, parse_int, parse_money, parse_timestamp, parse_with_format,
};

/// Header words that suggest each field, most specific first (lower case; English, German, French).
const SYNONYMS: &[(&str, &[&str])] = &[
    (
        "order_id",
        &[
            "order id",
            "order_id",
            "orderid",
            "transaction id",
            "invoice id",
            "order",
            "bestellnummer",
            "bestell-nr.",
            "bestellung",
            "auftragsnummer",
            "rechnungsnummer",
            "numéro de commande",
            "n° de commande",
            "commande",
        ],
    ),
    (
        "customer_id",
        &[
            "customer id",
            "customer_id",
            "customerid",
            "client id",
            "user id",
            "account id",
            "customer",
            "kundennummer",
            "kunden-nr.",
            "kunden-id",
            "kundennr",
            "numéro client",
            "n° client",
            "id client",
            "client",
        ],
    ),
    (
        "email",
        &["email", "e-mail", "email address", "customer email", "e-mail-adresse", "courriel", "adresse e-mail", "mail"],
    ),
    (
        "phone",
        &["phone", "phone number", "mobile", "telephone", "telefon", "telefonnummer", "handy", "téléphone", "portable"],
    ),
    ("first_name", &["first name", "first_name", "firstname", "given name", "vorname", "prénom", "prenom"]),
    (
        "last_name",
        &["last name", "last_name", "lastname", "surname", "family name", "nachname", "nom de famille", "nom"],
    ),
    ("name", &["name", "full name", "customer name", "kundenname", "nom complet", "nom du client"]),
    (
        "company",
        &["company", "company name", "organization", "account name", "firma", "unternehmen", "société", "entreprise"],
    ),
    ("city", &["city", "town", "stadt", "ort", "ville"]),
    ("region", &["state", "region", "province", "county", "bundesland", "région", "département"]),
    ("country", &["country", "country code", "land", "pays"]),
    (
        "date",
        &[
            "date",
            "order date",
            "created at",
            "created",
            "timestamp",
            "purchase date",
            "invoice date",
            "bestelldatum",
            "datum",
            "rechnungsdatum",
            "kaufdatum",
            "date de commande",
            "date d'achat",
            "date de facture",
        ],
    ),
    (
        "amount",
        &[
            "amount",
            "total",
            "order total",
            "revenue",
            "price",
            "value",
            "sales",
            "betrag",
            "summe",
            "gesamtbetrag",
            "gesamt",
            "umsatz",
            "bruttobetrag",
            "montant",
            "total ttc",
            "montant ttc",
            "prix",
        ],
    ),
    ("refunded", &["refunded", "refund", "refunded amount", "amount refunded", "erstattet", "remboursé"]),
    ("currency", &["currency", "currency code", "währung", "devise"]),
    ("status", &["status", "order status", "state", "bestellstatus", "statut"]),
    ("channel", &["channel", "source", "sales channel", "kanal", "canal"]),
    ("sku", &["sku", "product id", "item id", "artikelnummer", "référence"]),
    ("product", &["product", "product name", "item", "item name", "description", "artikel", "produkt", "produit"]),
    ("category", &["category", "product type", "type", "kategorie", "catégorie"]),
    ("quantity", &["quantity", "qty", "units", "menge", "anzahl", "quantité"]),
];

/// Date formats tried when a date column is not ISO, in order of preference when several fit.
const DATE_FORMATS: &[&str] = &[
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y",
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y",
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y",
    "%d-%m-%Y",
    "%m-%d-%Y",
    "%Y%m%d",
    "%m/%d/%y",
    "%d/%m/%y",
    "%d.%m.%y",
];

/// How a column came to be proposed, and how well its values fit.
struct Proposal {
    field: &'static str,
    column: usize,
    by_header: bool,
    /// (values that fit the field, non-empty values), when the field has a shape to check.
    fit: Option<(usize, usize)>,
    note: Option<String>,
}

impl Proposal {
    /// The confidence comment for the mapping line.
    fn confidence(&self) -> String {
        let values = match self.fit {
            Some((ok, n)) if n > 0 => Some((ok, n, ok * 100 / n)),
            _ => None,
        };
        let (level, why) = match (self.by_header, values) {
            (true, Some((ok, n, pct))) if pct >= 95 => ("sure", format!("the header says so; {ok} of {n} values fit")),
            (true, Some((ok, n, _))) => ("unsure", format!("the header says so, but only {ok} of {n} values fit")),
            (true, None) => ("likely", "from the header; nothing in the values to check".to_string()),
            (false, Some((ok, n, _))) => ("a guess", format!("from the values alone ({ok} of {n} fit)")),
            (false, None) => ("a guess", "from the values alone".to_string()),
        };
        match &self.note {
            Some(note) => format!("{level}: {why}; {note}"),
            None => format!("{level}: {why}"),
        }
    }
}

/// The values of column `i` in the sample, without empty cells.
fn values(sample: &[Row], i: usize) -> Vec<&str> {
    sample.iter().map(|r| r.get(Some(i)).trim()).filter(|v| !v.is_empty()).collect()
}

fn count(values: &[&str], f: &dyn Fn(&str) -> bool) -> (usize, usize) {
    (values.iter().filter(|v| f(v)).count(), values.len())
}

/// A column's date format: `None` when ISO dates parse, else the first format every value fits
/// (and a note when another format fits as well, e.g. days and months both ≤ 12).
fn date_format(values: &[&str]) -> (Option<&'static str>, (usize, usize), Option<String>) {
    let iso = count(values, &|v| parse_timestamp(v).is_ok());
    if iso.0 == iso.1 {
        return (None, iso, None);
    }
    let fits: Vec<(&'static str, usize)> = DATE_FORMATS
        .iter()
        .map(|f| (*f, values.iter().filter(|v| matches!(parse_with_format(v, f), Ok(Some(_)))).count()))
        .collect();
    // The first of the formats that fit the most values (max_by_key would take the last).
    let best = fits.iter().copied().fold(None, |best: Option<(&'static str, usize)>, (f, n)| match best {
        Some((_, m)) if m >= n => best,
        _ => Some((f, n)),
    });
    let best = best.filter(|(_, n)| *n > iso.0);
    match best {
        Some((format, n)) => {
            let rivals: Vec<&str> = fits.iter().filter(|(f, m)| *m == n && *f != format).map(|(f, _)| *f).collect();
            let note = (!rivals.is_empty()).then(|| {
                format!(
                    "{} fits as well: check which the file means (no day above 12 tells them apart)",
                    rivals.join(", ")
                )
            });
            (Some(format), (n, values.len()), note)
        }
        None => (None, iso, None),
    }
}

/// True when the amounts use a decimal comma (`12,50`, `1.234,56`) and none a decimal point.
fn decimal_comma(values: &[&str]) -> bool {
    let decimals = |v: &str, sep: char| {
        v.rsplit_once(sep)
            .is_some_and(|(_, frac)| (1..=2).contains(&frac.len()) && frac.chars().all(|c| c.is_ascii_digit()))
    };
    values.iter().any(|v| decimals(v, ',')) && !values.iter().any(|v| decimals(v, '.'))
}

/// Proposes a mapping for `table` from its header (or, without one, from the shapes of its
/// values), each line with how sure it is.
pub fn infer(table: &mut Table, delimiter_text: &str, has_header: bool) -> Result<String> {
    let mut sample = Vec::new();
    while let Some(row) = table.next_row()? {
        sample.push(row);
        if sample.len() >= 200 {
            break;
        }
    }
    let width =
        if has_header { table.header.names.len() } else { sample.iter().map(|r| r.fields.len()).max().unwrap_or(0) };
    let mut chosen: Vec<Proposal> = Vec::new();
    let taken = |chosen: &Vec<Proposal>, i: usize| chosen.iter().any(|p| p.column == i);
    let has = |chosen: &Vec<Proposal>, fields: &[&str]| chosen.iter().any(|p| fields.contains(&p.field));
    if has_header {
        let names: Vec<String> = table.header.names.iter().map(|n| n.trim().to_lowercase()).collect();
        for (field, words) in SYNONYMS {
            for w in *words {
                if let Some(i) = names.iter().position(|n| n == w)
                    && !taken(&chosen, i)
                {
                    chosen.push(Proposal { field, column: i, by_header: true, fit: None, note: None });
                    break;
                }
            }
        }
    }
    // Fill date/amount/customer from value shapes where the header did not say.
    let whole = |i: usize, f: &dyn Fn(&str) -> bool| {
        let v = values(&sample, i);
        let (ok, n) = count(&v, f);
        n > 0 && ok == n
    };
    if !has(&chosen, &["date"]) {
        for i in (0..width).filter(|i| !taken(&chosen, *i)) {
            let v = values(&sample, i);
            let (format, (ok, n), _) = date_format(&v);
            let numeric_dates = format == Some("%Y%m%d") && v.iter().all(|x| x.len() == 8);
            if n > 0 && ok == n && (format.is_none() || format != Some("%Y%m%d") || numeric_dates) {
                chosen.push(Proposal { field: "date", column: i, by_header: false, fit: None, note: None });
                break;
            }
        }
    }
    let comma_amounts = (0..width).any(|i| decimal_comma(&values(&sample, i)));
    let style = NumberStyle { decimal_comma: comma_amounts };
    if !has(&chosen, &["amount"]) {
        let sep = if comma_amounts { ',' } else { '.' };
        for i in (0..width).rev() {
            if !taken(&chosen, i) && whole(i, &|v| v.contains(sep) && parse_money(v, style).is_ok()) {
                chosen.push(Proposal { field: "amount", column: i, by_header: false, fit: None, note: None });
                break;
            }
        }
    }
    if !has(&chosen, &["customer_id", "email"]) {
        for i in 0..width {
            if !taken(&chosen, i) && whole(i, &|v| norm_email(v).is_some()) {
                chosen.push(Proposal { field: "email", column: i, by_header: false, fit: None, note: None });
                break;
            }
        }
    }
    if !has(&chosen, &["customer_id", "email"]) {
        for i in 0..width {
            if !taken(&chosen, i) && whole(i, &|v| parse_int(v).is_ok()) {
                chosen.push(Proposal { field: "customer_id", column: i, by_header: false, fit: None, note: None });
                break;
            }
        }
    }
    // How well each proposal's values fit its field.
    let mut format = None;
    for p in &mut chosen {
        let v = values(&sample, p.column);
        p.fit = match p.field {
            "date" => {
                let (f, fit, note) = date_format(&v);
                format = f;
                p.note = note.or_else(|| {
                    f.map(|f| format!("dates like `{}` read with date_format {f}", v.first().copied().unwrap_or("")))
                });
                Some(fit)
            }
            "amount" | "refunded" => Some(count(&v, &|x| parse_money(x, style).is_ok())),
            "email" => Some(count(&v, &|x| norm_email(x).is_some())),
            "phone" => Some(count(&v, &|x| norm_phone(x).is_some())),
            "quantity" => Some(count(&v, &|x| parse_int(x).is_ok())),
            _ => None,
        };
    }
    let kind = if has(&chosen, &["date"]) && has(&chosen, &["amount"]) { "orders" } else { "customers" };
    let mut out = String::new();
    out.push_str(&format!("# Mapping proposed by `scudo ingest --infer` for {}\n", table.name()));
    out.push_str("# Check every line (each says how sure it is), then: scudo ingest FILE --mapping THIS.toml\n");
    out.push_str("source = \"csv\"\n");
    out.push_str(&format!("kind = \"{kind}\"\n"));
    out.push_str(&format!("delimiter = {}\n", toml::Value::String(delimiter_text.to_string())));
    out.push_str(&format!("header = {has_header}\n"));
    match format {
        Some(f) => out.push_str(&format!("date_format = \"{f}\"\n")),
        None => out.push_str("# date_format = \"%Y-%m-%d\"   # chrono format; default: ISO dates and timestamps\n"),
    }
    if comma_amounts {
        out.push_str("decimal_comma = true   # amounts such as 12,50: the comma is the decimal separator\n");
    } else {
        out.push_str("decimal_comma = false\n");
    }
    out.push_str("# currency = \"USD\"\n\n[columns]\n");
    chosen.sort_by_key(|p| p.column);
    for p in &chosen {
        let at = if has_header {
            toml::Value::String(table.header.names[p.column].clone()).to_string()
        } else {
            (p.column + 1).to_string()
        };
        out.push_str(&format!("{} = {at}   # {}\n", p.field, p.confidence()));
    }
    let unmapped: Vec<String> = (0..width)
        .filter(|i| !taken(&chosen, *i))
        .map(|i| if has_header { table.header.names[i].clone() } else { format!("column {}", i + 1) })
        .collect();
    if !unmapped.is_empty() {
        out.push_str(&format!("# not mapped: {}\n", unmapped.join(", ")));
    }
    out.push_str(&format!("# fields you can map: {}\n", FIELDS.join(", ")));
    Ok(out)
}
